"""Pure rules of 個人住民税: no database, no framework, no HTTP.

Everything here is a function of its arguments, so the rules can be tested on their own and
cannot drift between the API, the CLI and a batch. Replace the example item with the module's
own concepts.
"""

from __future__ import annotations

from dataclasses import dataclass

from kikan.errors import DomainError, Kind

MAX_LABEL = 100


class JuminzeiRuleError(DomainError, ValueError):
    """A refused request; `code` is stable, `message` Japanese, `item` the offending field.

    A `kikan.errors.DomainError` of kind ``invalid``: the platform's one mapping turns it into a
    422 problem without echoing the value (ADR 0013). For a missing thing, a state conflict or
    a policy refusal raise `NotFoundError`, `ConflictError` or `RefusedError` from kikan.errors."""

    kind = Kind.INVALID


@dataclass(frozen=True)
class Item:
    id: int
    label: str


def checked_label(label: str) -> str:
    """The label as stored: trimmed, present, not longer than the column."""
    text = label.strip()
    if not text:
        raise JuminzeiRuleError("label-missing", "名称を入力してください。", item="label")
    if len(text) > MAX_LABEL:
        raise JuminzeiRuleError(
            "label-too-long", f"名称は{MAX_LABEL}文字以内で入力してください。", item="label"
        )
    return text
