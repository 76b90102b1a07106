"""Which service use case each 異動 screen runs: a table from the screen's slug to the function
that reads the screen's values into the call (data, not an if-chain; one row per screen)."""

from __future__ import annotations

from collections.abc import Callable

from kikan.residents.domain import RegisterError
from kikan.residents.web.entry import arrivals, departures, households, person
from kikan.residents.web.entry.kinds import KINDS, Kind
from kikan.residents.web.entry.values import UseCase, Values

#: reads the screen's values into the service call; raises RegisterError/ValidationError/ValueError
Builder = Callable[[Kind, Values], UseCase]

BUILDERS: dict[str, Builder] = {
    "move-in": arrivals.move_in,
    "ex-officio-entry": arrivals.ex_officio_entry,
    "birth": arrivals.birth,
    "move-within": households.move_within,
    "head-change": households.head_change,
    "household-split": households.household_split,
    "household-change": households.household_change,
    "household-merge": households.household_merge,
    "move-out": departures.move_out,
    "move-out-confirm": departures.move_out_confirm,
    "death": departures.death,
    "ex-officio-removal": departures.ex_officio_removal,
    "correct": person.correct,
    "cancel": person.cancel,
}
if set(BUILDERS) != set(KINDS):  # a screen without its use case must not import
    raise RuntimeError(f"entry screens without a use case: {set(KINDS) ^ set(BUILDERS)}")


def build_use_case(kind: Kind, v: Values) -> UseCase:
    """The service call for the screen's values. Raises RegisterError/ValidationError."""
    if "pick" in kind.parts and not v.picked:
        raise RegisterError("pick.none", "異動する人を一人以上選んでください。", "異動者")
    return BUILDERS[kind.slug](kind, v)
