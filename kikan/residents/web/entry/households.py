"""Use cases of the screens on one household: 転居, 世帯主変更, 世帯分離, 世帯変更 and 世帯合併."""

from __future__ import annotations

from kikan.residents import service
from kikan.residents.web.entry.kinds import Kind
from kikan.residents.web.entry.values import UseCase, Values, form_address, form_zokugara


def move_within(kind: Kind, v: Values) -> UseCase:
    address, hh = form_address(v, "addr"), v.get("household")
    notified = v.get("notified_date") or None
    return lambda uow, ctx: service.move_within(
        uow,
        ctx,
        service.MoveWithin(
            household_number=hh,
            address=address,
            move_date=v.get("move_date"),
            notified_date=notified,
        ),
    )


def head_change(kind: Kind, v: Values) -> UseCase:
    z, hh = form_zokugara(v), v.get("household")
    notified = v.get("notified_date") or None
    return lambda uow, ctx: service.change_head(
        uow,
        ctx,
        service.ChangeHead(
            household_number=hh,
            zokugara=z,
            change_date=v.get("change_date"),
            notified_date=notified,
        ),
    )


def household_split(kind: Kind, v: Values) -> UseCase:
    z, hh = form_zokugara(v, v.picked), v.get("household")
    notified = v.get("notified_date") or None
    return lambda uow, ctx: service.split_household(
        uow,
        ctx,
        service.SplitHousehold(
            household_number=hh,
            zokugara=z,
            change_date=v.get("change_date"),
            notified_date=notified,
        ),
    )


def household_change(kind: Kind, v: Values) -> UseCase:
    z, hh = form_zokugara(v, v.picked), v.get("household")
    notified = v.get("notified_date") or None
    return lambda uow, ctx: service.change_household(
        uow,
        ctx,
        service.ChangeHousehold(
            household_number=hh,
            target_household_number=v.get("target_household"),
            zokugara=z,
            change_date=v.get("change_date"),
            notified_date=notified,
        ),
    )


def household_merge(kind: Kind, v: Values) -> UseCase:
    z, hh = form_zokugara(v), v.get("household")
    notified = v.get("notified_date") or None
    return lambda uow, ctx: service.merge_households(
        uow,
        ctx,
        service.MergeHouseholds(
            household_number=v.get("target_household"),
            merging_household_number=hh,
            zokugara=z,
            change_date=v.get("change_date"),
            notified_date=notified,
        ),
    )
