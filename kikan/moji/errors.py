"""The one exception type of :mod:`kikan.moji`.

Attributes are a contract with the platform (mapped to 422 problem responses): ``code`` is a
stable machine code, ``message`` the Japanese text (``str(error)``), ``item`` the input item
when the caller named it.

Codes
    ``invalid_text``        unpaired surrogates or control characters in text to be stored
    ``invalid_bytes``       bytes that are not valid CP932
    ``unmapped_gaiji``      a 外字 with no entry in the vendor table (only in strict decoding)
    ``invalid_gaiji_table`` a vendor 外字 table that is malformed or maps to something unusable
    ``invalid_variant_table`` the curated 異体字 table is malformed
"""

from __future__ import annotations

from kikan.errors import DomainError, Kind


class MojiError(DomainError, ValueError):
    """Bad text input. ``str(e)`` is the Japanese message; ``code`` is for machines."""

    kind = Kind.INVALID
