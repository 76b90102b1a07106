"""Compact per-key state for cross-row rules (uniqueness, references, one 世帯主 per 世帯).

Why not a ``dict`` or ``set``: a vendor file of a large city has millions of rows, and a Python
``dict[int, int]`` costs about 100 bytes per entry (hash table slot plus two int objects). The
checker needs, per distinct key, one 64-bit key and one 64-bit value; :class:`CompactMap` keeps
exactly that in two ``array('q')`` with open addressing, so the cost is 16 bytes per slot and,
with the load factor kept between 0.375 and 0.75, **at most ~43 bytes per distinct key**
(~64 bytes for a moment while the table doubles). It is the only state the checker keeps that
grows with the file; see docs/conformance-checker.md for the full memory bound.

Keys are 63-bit integers made by :func:`key_of`:

* a single value of at most 17 ASCII digits (宛名番号, 世帯番号, 履歴番号 …) becomes
  ``int("1" + value)``: exact, and the leading ``1`` keeps leading zeros apart ("01" ≠ "1");
* anything else (letters, several items together) becomes a 61-bit hash with bit 62 set, so the
  two kinds never collide with each other. Two different hashed keys collide with probability
  about n²/2⁶², below 10⁻⁵ even for ten million keys; such a collision would report a false
  重複 or hide one missing reference. docs/conformance-checker.md states this limit.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator

__all__ = ["CompactMap", "key_of", "key_reader"]

_EMPTY = 0  # key_of never returns 0: numeric keys start with "1", hashed keys have bit 62 set
_MASK61 = (1 << 61) - 1
_HASHED = 1 << 62
_MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15  # Fibonacci hashing multiplier (2⁶⁴ / φ)
_MAX_DIGITS = 17  # "1" + 17 digits < 2⁶³


def key_of(values: tuple[str, ...]) -> int:
    """A non-zero 63-bit key for one or more item values (exact for short digit strings)."""
    if len(values) == 1:
        value = values[0]
        if len(value) <= _MAX_DIGITS and value.isascii() and value.isdigit():
            return int("1" + value)
        return (hash(value) & _MASK61) | _HASHED
    # The unit separator cannot occur in a CSV value that passed the character checks.
    return (hash("\x1f".join(values)) & _MASK61) | _HASHED


def key_reader(columns: list[int]) -> Callable[[list[str]], int]:
    """A function from a CSV record to the key of its ``columns`` (:func:`key_of`), or 0 when
    one of them is empty. The one-column case, by far the commonest, builds no tuple: this runs
    once per row per cross-row rule."""
    if len(columns) > 1:

        def many(fields: list[str]) -> int:
            values = tuple(fields[c] for c in columns)
            return key_of(values) if all(values) else 0

        return many
    (column,) = columns

    def one(fields: list[str]) -> int:
        value = fields[column]
        if not value:
            return 0
        if len(value) <= _MAX_DIGITS and value.isascii() and value.isdigit():
            return int("1" + value)
        return (hash(value) & _MASK61) | _HASHED

    return one


class CompactMap:
    """A map from non-zero 63-bit int keys to 64-bit int values, 16 bytes per slot.

    Linear probing over a power-of-two table with Fibonacci hashing, grown at 3/4 load. No
    deletion: the checker only adds. ``get`` returns ``default`` for missing keys.
    """

    __slots__ = ("_bits", "_keys", "_size", "_values")

    def __init__(self, capacity_bits: int = 10) -> None:
        self._bits = capacity_bits
        self._keys = array("q", bytes(8 << capacity_bits))
        self._values = array("q", bytes(8 << capacity_bits))
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def _slot(self, key: int) -> int:
        """The slot holding ``key``, or the empty slot where it would go."""
        keys = self._keys
        mask = len(keys) - 1
        i = ((key * _GOLDEN) & _MASK64) >> (64 - self._bits)
        while True:
            found = keys[i]
            if found in (key, _EMPTY):
                return i
            i = (i + 1) & mask

    def get(self, key: int, default: int | None = None) -> int | None:
        i = self._slot(key)
        return self._values[i] if self._keys[i] == key else default

    def __contains__(self, key: int) -> bool:
        return self._keys[self._slot(key)] == key

    def set(self, key: int, value: int) -> None:
        """Insert or overwrite."""
        i = self._slot(key)
        if self._keys[i] != key:
            self._keys[i] = key
            self._size += 1
            self._values[i] = value
            if self._size * 4 > len(self._keys) * 3:
                self._grow()
        else:
            self._values[i] = value

    def setdefault(self, key: int, value: int) -> int | None:
        """Insert ``value`` if ``key`` is new and return None; else return the stored value."""
        i = self._slot(key)
        if self._keys[i] == key:
            return self._values[i]
        self._keys[i] = key
        self._values[i] = value
        self._size += 1
        if self._size * 4 > len(self._keys) * 3:
            self._grow()
        return None

    def items(self) -> Iterator[tuple[int, int]]:
        """(key, value) pairs in table order."""
        for key, value in zip(self._keys, self._values, strict=True):
            if key != _EMPTY:
                yield key, value

    def _grow(self) -> None:
        old_keys, old_values = self._keys, self._values
        self._bits += 1
        self._keys = array("q", bytes(8 << self._bits))
        self._values = array("q", bytes(8 << self._bits))
        keys, values = self._keys, self._values
        for key, value in zip(old_keys, old_values, strict=True):
            if key != _EMPTY:
                i = self._slot(key)
                keys[i] = key
                values[i] = value

    @property
    def nbytes(self) -> int:
        """Bytes held by the two arrays (what the memory bound in the docs counts)."""
        return (len(self._keys) + len(self._values)) * 8
