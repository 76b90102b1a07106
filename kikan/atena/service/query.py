"""The published query interface other modules use: "who is 宛名番号 X (resident or not), as of
date D" and "search by the four attributes". 支援措置 travels with every answer: the flag is
set on each person it protects, and their address is withheld from callers not entitled to
protected persons (the linkage client's `support_measure` scope; staff see it with the flag).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from kikan.atena import domain
from kikan.atena.service import search
from kikan.atena.service.common import (
    blind_index,
    current_state,
    jutogai_row,
    log,
    protected_numbers,
    resident_row,
    source_of,
    state_as_of,
)
from kikan.atena.store import RESIDENT, IdentityRow
from kikan.errors import NotFoundError
from kikan.platform.context import Context
from kikan.platform.uow import UnitOfWork

WITHHELD = "（支援措置のため表示しません）"


@dataclass(frozen=True)
class PersonView:
    """One person as the query interface answers. `kind` 1 住民 / 2 住登外者 (the `togo`
    layout's 宛名区分); `status` the resident's 住民状態 code or "active"/"closed" for a
    住登外者; `representative` / `nayose_target` the 名寄せ state; `members` the other 宛名番号
    of the same person."""

    atena_number: str
    kind: str
    status: str
    name: str
    kana: str
    birth: str
    sex: str
    address: str
    valid_from: date | None
    support_measure: bool
    representative: bool
    nayose_target: str
    togo_number: str
    members: tuple[str, ...] = ()
    items: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Who:
    atena_number: str
    as_of: date | None = None
    see_protected: bool = True


def who(uow: UnitOfWork, ctx: Context, query: Who) -> PersonView:
    source = source_of(uow, query.atena_number)
    if source is None:
        raise NotFoundError("not-found", "宛名番号が見つかりません。")
    protected = bool(protected_numbers(uow, [query.atena_number]))
    if protected and not query.see_protected:
        # a client without the support_measure entitlement does not learn the person exists
        raise NotFoundError("not-found", "宛名番号が見つかりません。")
    state = (
        state_as_of(uow, query.atena_number, query.as_of)
        if query.as_of is not None
        else current_state(uow, query.atena_number)
    )
    if state is None:
        raise NotFoundError("not-found", "その日に記録のある宛名ではありません。")
    ident = uow.session.scalars(
        select(IdentityRow).where(IdentityRow.atena_number == query.atena_number)
    ).first()
    members: tuple[str, ...] = ()
    if ident is not None and ident.nayose_target:
        members = tuple(
            sorted(
                n
                for n in uow.session.scalars(
                    select(IdentityRow.atena_number).where(
                        IdentityRow.nayose_target == ident.nayose_target
                    )
                )
                if n != query.atena_number
            )
        )
    if source == RESIDENT:
        resident = resident_row(uow, query.atena_number)
        status = resident.resident_status if resident is not None else ""
    else:
        row = jutogai_row(uow, query.atena_number)
        status = "active" if row is not None and row.active else "closed"
    as_of = query.as_of.isoformat() if query.as_of else ""
    log(uow, ctx.actor, "atena.audit.read", "read", subjects=[query.atena_number],
        detail={"what": "宛名照会", "as_of": as_of})  # fmt: skip
    return PersonView(
        atena_number=query.atena_number,
        kind=state.source,
        status=status,
        name=state.name,
        kana=state.kana,
        birth=state.birth,
        sex=state.sex,
        address=state.address,
        valid_from=state.valid_from,
        support_measure=protected,
        representative=bool(ident and ident.representative),
        nayose_target=ident.nayose_target if ident else "",
        togo_number=ident.togo_number if ident else "",
        members=members,
        items={k: v for k, v in state.items.items() if k != "my_number"},
    )


@dataclass(frozen=True)
class Search:
    values: Mapping[str, str | None]
    see_protected: bool = True
    limit: int = search.RESULT_LIMIT


def search_persons(uow: UnitOfWork, ctx: Context, query: Search) -> list[search.Candidate]:
    """Persons who might be the one described by the four attributes (and 個人番号)."""
    values = {k: v for k, v in query.values.items() if v}
    values.setdefault("gyomu_id", "031")
    person = domain.check_person(values, today=ctx.today)
    index = blind_index(uow, ctx, person.my_number) if person.my_number else None
    found = search.find(uow, domain.facts_of_items(person.items), my_number_index=index,
                        limit=query.limit)  # fmt: skip
    if not query.see_protected:
        found = [c for c in found if not c.protected]
    log(uow, ctx.actor, "atena.audit.read", "read", subjects=[c.atena_number for c in found],
        mynumber=person.my_number is not None, detail={"what": "基本4情報検索"})  # fmt: skip
    return found
