"""Use cases of the screens that enter new persons: 転入 (a family), 職権記載 and 出生."""

from __future__ import annotations

from kikan.residents import service
from kikan.residents.domain import Reason
from kikan.residents.web.entry.kinds import Kind
from kikan.residents.web.entry.values import (
    UseCase,
    Values,
    form_address,
    form_other_address,
    form_person,
)


def _movers(v: Values) -> list[service.Mover]:
    return [
        service.Mover(form_person(v, i), v.get(f"m{i}_my_number") or None) for i in range(v.members)
    ]


def move_in(kind: Kind, v: Values) -> UseCase:
    movers = _movers(v)
    address, prior = form_address(v, "addr"), form_other_address(v, "prior")
    reason = Reason(v.get("reason") or Reason.DOMESTIC_MOVE_IN.value)
    join = v.get("join_household") or None
    notified = v.get("notified_date") or None
    return lambda uow, ctx: service.move_in(
        uow,
        ctx,
        service.MoveIn(
            movers=movers,
            address=address,
            prior_address=prior,
            move_date=v.get("move_date"),
            notified_date=notified,
            reason=reason,
            join_household=join,
        ),
    )


def ex_officio_entry(kind: Kind, v: Values) -> UseCase:
    movers = _movers(v)
    address, prior = form_address(v, "addr"), form_other_address(v, "prior")
    reason = Reason(v.get("reason") or kind.reasons[0])
    join = v.get("join_household") or None
    notified = v.get("notified_date") or None
    return lambda uow, ctx: service.enter_ex_officio(
        uow,
        ctx,
        service.EnterExOfficio(
            movers=movers,
            address=address,
            prior_address=prior,
            entry_date=v.get("entry_date"),
            notified_date=notified,
            reason=reason,
            join_household=join,
            note=v.get("note"),
        ),
    )


def birth(kind: Kind, v: Values) -> UseCase:
    person, hh = form_person(v, 0), v.get("household")
    notified = v.get("notified_date") or None
    return lambda uow, ctx: service.record_birth(
        uow, ctx, service.RecordBirth(household_number=hh, person=person, notified_date=notified)
    )
