"""The 宛名 replica and its feed: the linkage credentials, 全件 and 差分 applied to
`seal_persons`, and the reactions a change causes on registrations (消除 ends them, a changed 氏名
opens a review)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from kikan.platform import audit
from kikan.platform.db import utcnow
from kikan.platform.uow import UnitOfWork
from kikan.seal import domain
from kikan.seal.domain import Person, ReactionKind, Status
from kikan.seal.service.changes import open_reviews
from kikan.seal.service.common import (
    FUNCTION,
    SYNC_ACTOR,
    add_history,
    end_registration,
    today_jst,
)
from kikan.seal.store import (
    SealLinkRow,
    SealPersonRow,
    SealRegistrationRow,
    SealReviewRow,
)


def save_link(
    uow: UnitOfWork, actor: audit.Actor, *, base_url: str, client_id: str, client_secret: str
) -> SealLinkRow:
    """Keep the linkage client this tenant registered for 印鑑登録 (a new client restarts the
    sync from 全件: the replica is refreshed in place, registrations are kept)."""
    row = uow.session.scalars(select(SealLinkRow)).first()
    if row is None:
        row = SealLinkRow(base_url=base_url, client_id=client_id, client_secret=client_secret)
        uow.session.add(row)
    else:
        row.base_url, row.client_id, row.client_secret = base_url, client_id, client_secret
    row.cursor, row.full_done, row.full_cursor, row.full_as_of = 0, False, None, None
    row.updated_at = utcnow()
    audit.append(
        uow,
        actor,
        audit.AuditEvent(
            category="config",
            action="config",
            function=f"{FUNCTION}：庁内データ連携の設定",
            detail={"client_id": client_id, "base_url": base_url},
        ),
    )
    return row


def link(uow: UnitOfWork, *, for_update: bool = False) -> SealLinkRow | None:
    stmt = select(SealLinkRow)
    if for_update:
        stmt = stmt.with_for_update()
    return uow.session.scalars(stmt).first()


@dataclass
class Applied:
    """What one sync page did (for the report and the audit record)."""

    persons: set[str] = dataclasses.field(default_factory=set)
    reactions: Counter[str] = dataclasses.field(default_factory=Counter)
    ids_only: int = 0


@dataclass
class _Known:
    """The replica rows and active registrations of one page's persons, read in two queries."""

    persons: dict[str, SealPersonRow]
    actives: dict[str, SealRegistrationRow]


def _known(uow: UnitOfWork, atenas: Iterable[str]) -> _Known:
    wanted = sorted(set(atenas))
    known = _Known({}, {})
    for start in range(0, len(wanted), 500):  # bounded IN lists
        chunk = wanted[start : start + 500]
        for p in uow.session.scalars(
            select(SealPersonRow).where(SealPersonRow.atena_number.in_(chunk))
        ):
            known.persons[p.atena_number] = p
        for r in uow.session.scalars(
            select(SealRegistrationRow).where(SealRegistrationRow.active_atena.in_(chunk))
        ):
            known.actives[r.atena_number] = r
    return known


def _upsert_person(
    uow: UnitOfWork,
    known: _Known,
    atena_number: str,
    record: Mapping[str, str] | None,
    *,
    protected: bool | None,
    seq: int,
) -> None:
    row = known.persons.get(atena_number)
    if row is None:
        if record is None:
            return
        row = SealPersonRow(atena_number=atena_number, record=dict(record), seq=seq)
        uow.session.add(row)
        known.persons[atena_number] = row
    changed = (
        (record is not None and row.record != dict(record))
        or row.gone != (record is None)
        or (protected is not None and row.protected != protected)
    )
    if not changed and row.id is not None:
        return  # nothing new: no write (a re-run of the same page is cheap)
    if record is not None:
        row.record = dict(record)
    row.gone = record is None
    if protected is not None:
        row.protected = protected
    row.seq = seq
    row.updated_at = utcnow()


def _react(
    uow: UnitOfWork,
    known: _Known,
    atena_number: str,
    current: Person | None,
    *,
    seq: int,
    today: date,
    applied: Applied,
) -> None:
    reg = known.actives.get(atena_number)
    if reg is None or reg.active_atena is None:
        return
    registered = Person(**{f.name: reg.person.get(f.name, "") for f in dataclasses.fields(Person)})
    reaction = domain.react(registered, current, reg.seal_text)
    if reaction.kind is ReactionKind.NONE:
        return
    applied.reactions[reaction.kind.value] += 1
    if reaction.kind is ReactionKind.STRIKE:
        end_registration(reg, Status.STRUCK, today, reaction.reason)
        for review in open_reviews(uow, reg.id):
            review.open = False
            review.closed_by = SYNC_ACTOR.id
        add_history(uow, reg, "職権抹消", SYNC_ACTOR.id, reaction.reason, seq=seq)
    elif reaction.kind is ReactionKind.UPDATE:
        assert current is not None
        reg.person = dataclasses.asdict(current)
        reg.version += 1
        reg.updated_at = utcnow()
        add_history(uow, reg, "登録事項変更（職権）", SYNC_ACTOR.id, reaction.reason, seq=seq)
    elif not open_reviews(uow, reg.id):
        uow.session.add(
            SealReviewRow(
                registration_id=reg.id, atena_number=atena_number, reason=reaction.reason, seq=seq
            )
        )
        add_history(uow, reg, "要確認", SYNC_ACTOR.id, reaction.reason, seq=seq)


#: The 支援措置 flag the linkage API puts on every record it sends to a `support_measure` client
#: ("1" protected now, "0" not; docs/linkage.md §6).
FLAG_ITEM = "support_measure"


def _flag(record: Mapping[str, object]) -> bool | None:
    """The record's 支援措置 flag; None when it has none (a client without the scope never
    receives protected persons at all, so nothing is to be learnt then)."""
    value = record.get(FLAG_ITEM)
    if value in ("0", "1"):
        return value == "1"
    return None


def apply_full(
    uow: UnitOfWork, records: Iterable[Mapping[str, str]], *, today: date | None = None
) -> Applied:
    """One 全件 page: refresh the replica (with each record's 支援措置 flag, so a person protected
    before the first sync is protected here from the first page on) and react for each person."""
    today = today or today_jst()
    applied = Applied()
    page = [r for r in records if r.get("atena_number")]
    known = _known(uow, [str(r["atena_number"]) for r in page])
    for record in page:
        atena = str(record["atena_number"])
        _upsert_person(uow, known, atena, record, protected=_flag(record), seq=0)
        applied.persons.add(atena)
        _react(uow, known, atena, Person.from_record(record), seq=0, today=today, applied=applied)
    return applied


def apply_change(
    uow: UnitOfWork,
    *,
    seq: int,
    topic: str,
    payload: Mapping[str, object] | None,
    records: Sequence[Mapping[str, str]] | None,
    today: date | None = None,
    applied: Applied | None = None,
) -> Applied:
    """One 差分 event: the replica takes the delivered current rows and registrations react.

    State-based: a subject without a record is no longer published (e.g. a cancelled 転入).
    The 支援措置 flag comes from the record (as at pull time, so a measure that ended clears
    it); the payload's `support_measure` list (as at the event) only stands in for a record
    without the flag."""
    today = today or today_jst()
    applied = applied or Applied()
    if payload is None or topic != "residents.changed":
        return applied
    if records is None:  # ids only (an older linkage API): nothing reliable to react on
        applied.ids_only += 1
        return applied
    protected = {str(a) for a in payload.get("support_measure") or []}  # type: ignore[attr-defined]
    by_atena = {str(r.get("atena_number")): r for r in records}
    subjects = [str(a) for a in payload.get("atena_numbers") or []]  # type: ignore[attr-defined]
    known = _known(uow, subjects)
    for atena in subjects:
        record = by_atena.get(atena)
        flag = _flag(record) if record is not None else None
        _upsert_person(
            uow,
            known,
            atena,
            record,
            protected=flag if flag is not None else atena in protected,
            seq=seq,
        )
        applied.persons.add(atena)
        _react(
            uow,
            known,
            atena,
            Person.from_record(record) if record is not None else None,
            seq=seq,
            today=today,
            applied=applied,
        )
    return applied


def audit_sync(uow: UnitOfWork, applied: Applied, **detail: object) -> None:
    if not applied.persons and not applied.reactions:
        return
    audit.append(
        uow,
        SYNC_ACTOR,
        audit.AuditEvent(
            category="operation",
            action="batch.update",
            function=f"{FUNCTION}：宛名連携",
            subjects=sorted(applied.persons),
            detail={**detail, "reactions": dict(applied.reactions)},
        ),
    )
