"""印鑑登録 as a consumer of the 宛名 (the linkage-consumer kit, ADR 0012): its `Consumer`
and the reactions a delivered person causes on registrations (消除 ends them, a changed 氏名
opens a review, a changed 名・住所 follows the register).

The replica, the cursor, the pages and the HTTP are the kit's; only `react` is 印鑑登録's.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping, Sequence
from datetime import date

from sqlalchemy import select

from kikan.linkage.consumer import FLAG_ITEM, Applied, Consumer, PersonChange
from kikan.linkage.consumer import sync as kit
from kikan.platform import audit
from kikan.platform.db import utcnow
from kikan.platform.uow import UnitOfWork
from kikan.seal import domain
from kikan.seal.domain import Person, ReactionKind, Status
from kikan.seal.module import FUNCTIONS
from kikan.seal.service.changes import open_reviews
from kikan.seal.service.common import (
    SYNC_ACTOR,
    add_history,
    end_registration,
    today_jst,
)
from kikan.seal.settings import SealSettings
from kikan.seal.store import (
    SealLinkRow,
    SealPersonRow,
    SealRegistrationRow,
    SealReviewRow,
)


def _actives(uow: UnitOfWork, atenas: Iterable[str]) -> dict[str, SealRegistrationRow]:
    """The active registrations of one page's persons, in bounded queries."""
    wanted = sorted(set(atenas))
    found: dict[str, SealRegistrationRow] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for r in uow.session.scalars(
            select(SealRegistrationRow).where(SealRegistrationRow.active_atena.in_(chunk))
        ):
            found[r.atena_number] = r
    return found


def react(
    uow: UnitOfWork, changes: Sequence[PersonChange], /, *, today: date | None = None
) -> list[str]:
    """The kit's hook: compare each delivered person with what the registration recorded."""
    today = today or today_jst()
    actives = _actives(uow, (c.atena_number for c in changes))
    labels: list[str] = []
    for change in changes:
        reg = actives.get(change.atena_number)
        if reg is None or reg.active_atena is None:
            continue
        current = Person.from_record(change.record) if change.record is not None else None
        label = _react_one(uow, reg, current, seq=change.seq, today=today)
        if label:
            labels.append(label)
    return labels


def _react_one(
    uow: UnitOfWork, reg: SealRegistrationRow, current: Person | None, *, seq: int, today: date
) -> str | None:
    registered = Person(**{f.name: reg.person.get(f.name, "") for f in dataclasses.fields(Person)})
    reaction = domain.react(registered, current, reg.seal_text)
    if reaction.kind is ReactionKind.NONE:
        return None
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
                registration_id=reg.id,
                atena_number=reg.atena_number,
                reason=reaction.reason,
                seq=seq,
            )
        )
        add_history(uow, reg, "要確認", SYNC_ACTOR.id, reaction.reason, seq=seq)
    return reaction.kind.value


CONSUMER = Consumer(
    name="seal",
    title="印鑑登録",
    link=SealLinkRow,
    replica=SealPersonRow,
    settings=SealSettings,
    actor=SYNC_ACTOR,
    functions=FUNCTIONS,
    react=react,
    client_name="印鑑登録システム",
)


def _consumer(today: date | None) -> Consumer:
    if today is None:
        return CONSUMER
    return dataclasses.replace(CONSUMER, react=functools.partial(react, today=today))


# ------------------------------------------------ the use cases seal's callers already know


def save_link(
    uow: UnitOfWork, actor: audit.Actor, *, base_url: str, client_id: str, client_secret: str
) -> SealLinkRow:
    row = kit.save_link(
        uow, CONSUMER, actor, base_url=base_url, client_id=client_id, client_secret=client_secret
    )
    assert isinstance(row, SealLinkRow)
    return row


def link(uow: UnitOfWork, *, for_update: bool = False) -> SealLinkRow | None:
    row = kit.link(uow, CONSUMER, for_update=for_update)
    assert row is None or isinstance(row, SealLinkRow)
    return row


def apply_full(
    uow: UnitOfWork, records: Iterable[Mapping[str, str]], *, today: date | None = None
) -> Applied:
    return kit.apply_full(uow, _consumer(today), records)


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
    return kit.apply_change(
        uow,
        _consumer(today),
        seq=seq,
        topic=topic,
        payload=payload,
        records=records,
        applied=applied,
    )


def audit_sync(uow: UnitOfWork, applied: Applied, **detail: object) -> None:
    kit.audit_sync(uow, CONSUMER, applied, **detail)


__all__ = [
    "CONSUMER",
    "FLAG_ITEM",
    "Applied",
    "apply_change",
    "apply_full",
    "audit_sync",
    "link",
    "react",
    "save_link",
]
