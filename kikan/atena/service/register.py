"""The 住登外者 register and the 付番 (numbering) of 住登外者, as the 付番 API shapes it.

処理区分 (the spec's three cases):

* **0 新規付番**: the person is checked, then searched among residents and 住登外者 (current and
  former names and addresses). When someone plausible exists the answer is the candidates and a
  `search_id` — no number. Asking again with that `search_id` says "none of them" and numbers
  the person; the pairs offered go to the 名寄せ worklist all the same, where staff decide.
* **1 既存番号で登録**: the caller names a 宛名番号 of this 団体's space that 宛名管理 knows (a
  住登外者, or a former resident); the attributes become that person's new state. A current
  resident's number is refused: the register speaks for residents.
* **2 候補から選択**: the caller chooses one of the candidates it was offered (`search_id`); any
  other number is refused (E0004), so a business system cannot attach a person by guessing.

Numbers come from the platform's numbering service (`kikan.platform.numbering`): one space with
住民宛名番号, never read from the resident register's tables.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, or_, select

from kikan.atena import domain
from kikan.atena.service import nayose, search
from kikan.atena.service.common import (
    blind_index,
    ensure_togo,
    identity,
    jutogai_row,
    log,
    my_number_index,
    record_state,
    resident_row,
    store_my_number,
)
from kikan.atena.store import JUTOGAI, JutogaiRow, OfferRow, StateRow
from kikan.errors import NotFoundError, StaleError
from kikan.platform import numbering
from kikan.platform.context import Context
from kikan.platform.db import utcnow
from kikan.platform.ids import IdentifierError, validate_atena_number
from kikan.platform.uow import UnitOfWork

NEW, EXISTING, CHOOSE = "0", "1", "2"


@dataclass(frozen=True)
class Fuban:
    """One 付番 request. `requester` is who asks (a linkage client's id, or a staff id): an
    offer can only be answered by whoever it was made to."""

    shori_kubun: str
    values: Mapping[str, str | None]
    requester: str
    atena_number: str = ""
    search_id: str = ""


@dataclass(frozen=True)
class FubanResult:
    """`result`: numbered (0), registered (1), chosen (2) or candidates (0 with candidates)."""

    result: str
    atena_number: str = ""
    search_id: str = ""
    candidates: tuple[search.Candidate, ...] = ()
    person: domain.PersonInput | None = field(default=None, repr=False)


def _e4(item: str, text: str) -> domain.AtenaInputError:
    return domain.AtenaInputError([domain.FieldError("E0004", item, text)])


def _e1(item: str, text: str) -> domain.AtenaInputError:
    return domain.AtenaInputError([domain.FieldError("E0001", item, text)])


def _checked_number(text: str) -> str:
    if not text:
        raise _e1("atena_number", "宛名番号: 必須項目です。")
    if not text.isascii() or not text.isdigit():
        raise domain.AtenaInputError(
            [domain.FieldError("E0002", "atena_number", "宛名番号: 半角数字で入力してください。")]
        )
    if len(text) != 15:
        raise domain.AtenaInputError(
            [domain.FieldError("E0003", "atena_number", "宛名番号: 15桁で入力してください。")]
        )
    try:
        return validate_atena_number(text)
    except IdentifierError:
        raise _e4("atena_number", "宛名番号: 検査数字が正しくありません。") from None


def fuban(uow: UnitOfWork, ctx: Context, command: Fuban) -> FubanResult:
    """One 付番 request (module docstring)."""
    return _fuban(uow, ctx, command, ask=True)


def fuban_unattended(uow: UnitOfWork, ctx: Context, command: Fuban) -> FubanResult:
    """付番 for a batch, which cannot answer questions: 処理区分 0 numbers the person even when
    candidates exist (they go to the 名寄せ worklist for staff)."""
    return _fuban(uow, ctx, command, ask=False)


def _fuban(uow: UnitOfWork, ctx: Context, command: Fuban, *, ask: bool) -> FubanResult:
    if command.shori_kubun not in (NEW, EXISTING, CHOOSE):
        raise domain.AtenaInputError(
            [domain.FieldError("E0002", "shori_kubun", "処理区分: 0・1・2 のいずれかです。")]
        )
    if command.shori_kubun == CHOOSE:
        return _choose(uow, ctx, command)
    person = domain.check_person(command.values, today=ctx.today)
    if command.shori_kubun == EXISTING:
        number = _checked_number(command.atena_number)
        return _register_existing(uow, ctx, number, person)
    index = blind_index(uow, ctx, person.my_number) if person.my_number else None
    facts = domain.facts_of_items(person.items)
    found = search.find(uow, facts, my_number_index=index)
    if found and ask and not command.search_id:
        offer = _offer(uow, ctx, command, person, found)
        return FubanResult("candidates", search_id=offer, candidates=tuple(found), person=person)
    if command.search_id:
        _use_offer(uow, command)
    number = numbering.next_atena_number(uow)
    _new_entry(uow, ctx, number, person, origin="registered", reason="新規付番")
    nayose.offer_pairs(uow, ctx, number, search.find(uow, facts, my_number_index=index,
                                                     exclude=[number]))  # fmt: skip
    return FubanResult("numbered", atena_number=number, person=person)


def _offer(
    uow: UnitOfWork,
    ctx: Context,
    command: Fuban,
    person: domain.PersonInput,
    found: list[search.Candidate],
) -> str:
    minutes = int(domain.fuban_config()["offer_minutes"])
    search_id = secrets.token_hex(16)
    uow.session.add(
        OfferRow(
            tenant_code=uow.tenant,
            search_id=search_id,
            client_id=command.requester[:64],
            gyomu_id=person.get("gyomu_id"),
            candidates=[c.atena_number for c in found],
            expires_at=utcnow() + timedelta(minutes=minutes),
            used=False,
        )
    )
    log(uow, ctx.actor, "atena.audit.fuban", "read", subjects=[c.atena_number for c in found],
        detail={"what": "付番候補", "search_id": search_id})  # fmt: skip
    return search_id


def _use_offer(uow: UnitOfWork, command: Fuban) -> OfferRow:
    offer = uow.session.scalars(
        select(OfferRow).where(OfferRow.search_id == command.search_id).with_for_update()
    ).first()
    if offer is None or offer.client_id != command.requester[:64]:
        raise _e4("search_id", "検索ID: 提示した候補の検索IDではありません。")
    if offer.used or offer.expires_at <= utcnow():
        raise _e4("search_id", "検索ID: 使用済みか有効期限切れです。もう一度検索してください。")
    offer.used = True
    return offer


def _choose(uow: UnitOfWork, ctx: Context, command: Fuban) -> FubanResult:
    if not command.search_id:
        raise _e1("search_id", "検索ID: 処理区分 2 では必須です。")
    number = _checked_number(command.atena_number)
    offer = _use_offer(uow, command)
    if number not in offer.candidates:
        raise _e4("atena_number", "宛名番号: 提示した候補にない宛名番号は選択できません。")
    log(uow, ctx.actor, "atena.audit.fuban", "read", subjects=[number],
        detail={"what": "候補の選択", "search_id": command.search_id})  # fmt: skip
    return FubanResult("chosen", atena_number=number)


def _new_entry(
    uow: UnitOfWork,
    ctx: Context,
    number: str,
    person: domain.PersonInput,
    *,
    origin: str,
    reason: str,
    valid_from: date | None = None,
) -> JutogaiRow:
    actor = ctx.actor.id[:64]
    start = valid_from or _valid_from(person, ctx)
    row = JutogaiRow(
        tenant_code=uow.tenant,
        atena_number=number,
        version=1,
        origin=origin,
        active=True,
        gyomu_id=person.get("gyomu_id") or "031",
        items=dict(person.items),
        valid_from=start,
        created_by=actor,
        updated_by=actor,
    )
    uow.session.add(row)
    record_state(uow, atena_number=number, source=JUTOGAI, items=person.items,
                 facts=domain.facts_of_items(person.items), valid_from=start, version=1,
                 operator=actor, reason=reason)  # fmt: skip
    identity(uow, number, JUTOGAI)
    mynumber = False
    if person.my_number is not None:
        index = store_my_number(uow, ctx, number, person.my_number)
        ensure_togo(uow, ctx, number, JUTOGAI, index)
        mynumber = True
    log(uow, ctx.actor, "atena.audit.register", "create", subjects=[number], mynumber=mynumber,
        detail={"origin": origin, "gyomu_id": row.gyomu_id})  # fmt: skip
    return row


def _valid_from(person: domain.PersonInput, ctx: Context) -> date:
    text = person.get("valid_from")
    return date.fromisoformat(text) if text else ctx.today


def _register_existing(
    uow: UnitOfWork, ctx: Context, number: str, person: domain.PersonInput
) -> FubanResult:
    row = jutogai_row(uow, number, lock=True)
    if row is None:
        resident = resident_row(uow, number)
        if resident is None or not numbering.is_issued(uow, number):
            raise _e4("atena_number", "宛名番号: 宛名管理に登録されていない宛名番号です。")
        if not resident.gone and not domain.has_left(resident.record):
            raise _e4(
                "atena_number",
                "宛名番号: 住民として記録されている宛名番号です。住登外者としては登録できません。",
            )
        _new_entry(uow, ctx, number, person, origin="inherited", reason="既存番号で登録")
    else:
        _new_version(uow, ctx, row, person, reason="既存番号で登録")
    index = my_number_index(uow, number)
    facts = domain.facts_of_items(person.items)
    nayose.offer_pairs(uow, ctx, number, search.find(uow, facts, my_number_index=index,
                                                     exclude=[number]))  # fmt: skip
    return FubanResult("registered", atena_number=number, person=person)


def _new_version(
    uow: UnitOfWork, ctx: Context, row: JutogaiRow, person: domain.PersonInput, *, reason: str
) -> None:
    actor = ctx.actor.id[:64]
    row.version += 1
    row.items = dict(person.items)
    row.gyomu_id = person.get("gyomu_id") or row.gyomu_id
    row.valid_from = _valid_from(person, ctx)
    row.active = True
    row.updated_at, row.updated_by = utcnow(), actor
    record_state(uow, atena_number=row.atena_number, source=JUTOGAI, items=person.items,
                 facts=domain.facts_of_items(person.items), valid_from=row.valid_from,
                 version=row.version, operator=actor, reason=reason)  # fmt: skip
    mynumber = False
    if person.my_number is not None:
        index = store_my_number(uow, ctx, row.atena_number, person.my_number)
        ensure_togo(uow, ctx, row.atena_number, JUTOGAI, index)
        mynumber = True
    log(uow, ctx.actor, "atena.audit.register", "update", subjects=[row.atena_number],
        mynumber=mynumber, detail={"version": row.version, "reason": reason})  # fmt: skip


@dataclass(frozen=True)
class UpdateJutogai:
    atena_number: str
    version: int
    values: Mapping[str, str | None]


def update_jutogai(uow: UnitOfWork, ctx: Context, command: UpdateJutogai) -> JutogaiRow:
    """Staff correct or update a 住登外者 (optimistic lock on `version`)."""
    row = jutogai_row(uow, command.atena_number, lock=True)
    if row is None:
        raise NotFoundError("not-found", "住登外者が見つかりません。")
    if row.version != command.version:
        raise StaleError(
            "stale-version", "他の職員が先に更新しました。再読み込みしてから修正してください。"
        )
    person = domain.check_person(command.values, today=ctx.today)
    _new_version(uow, ctx, row, person, reason="修正")
    facts = domain.facts_of_items(person.items)
    index = my_number_index(uow, row.atena_number)
    nayose.offer_pairs(uow, ctx, row.atena_number,
                       search.find(uow, facts, my_number_index=index,
                                   exclude=[row.atena_number]))  # fmt: skip
    return row


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class ListJutogai:
    text: str = ""
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class JutogaiPage:
    total: int
    rows: list[JutogaiRow]


def list_jutogai(uow: UnitOfWork, ctx: Context, query: ListJutogai) -> JutogaiPage:
    """The register, newest first; `text` finds a 宛名番号 or a (folded) name or 読み."""
    stmt = select(JutogaiRow)
    text = query.text.strip()
    if text:
        key = domain.Facts(text, text, "", "", "").name_key
        numbers = select(StateRow.atena_number).where(
            or_(StateRow.name_key == key, StateRow.kana_key == key)
        )
        stmt = stmt.where(
            or_(JutogaiRow.atena_number == text, JutogaiRow.atena_number.in_(numbers))
        )
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(
        uow.session.scalars(
            stmt.order_by(JutogaiRow.id.desc()).limit(query.limit).offset(query.offset)
        )
    )
    log(uow, ctx.actor, "atena.audit.read", "read", subjects=[r.atena_number for r in rows],
        detail={"what": "住登外者一覧", "count": len(rows)})  # fmt: skip
    return JutogaiPage(total, rows)


@dataclass(frozen=True)
class JutogaiDetail:
    row: JutogaiRow
    states: list[StateRow]


@dataclass(frozen=True)
class JutogaiQuery:
    """One 住登外者 to read, with every recorded state."""

    atena_number: str


def jutogai_detail(uow: UnitOfWork, ctx: Context, query: JutogaiQuery) -> JutogaiDetail:
    """住登外者照会: the register row and its states, oldest first (the read is audited)."""
    atena_number = query.atena_number
    row = jutogai_row(uow, atena_number)
    if row is None:
        raise NotFoundError("not-found", "住登外者が見つかりません。")
    states = list(
        uow.session.scalars(
            select(StateRow).where(StateRow.atena_number == atena_number).order_by(StateRow.id)
        )
    )
    log(uow, ctx.actor, "atena.audit.read", "read", subjects=[atena_number],
        detail={"what": "住登外者"})  # fmt: skip
    return JutogaiDetail(row, states)
