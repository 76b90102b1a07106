"""What the use cases of 宛名管理 share: states, identities, 個人番号 and the access log.

Use cases are shaped `fn(uow, ctx, command)` (ADR 0013): they never commit, never raise HTTP
errors (only `kikan.errors.DomainError` subclasses) and write the access log in the same
transaction as the change it describes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import select, update

from kikan.atena import domain
from kikan.atena.module import FUNCTIONS
from kikan.atena.store import (
    JUTOGAI,
    RESIDENT,
    AtenaResidentRow,
    IdentityRow,
    JutogaiRow,
    MyNumberRow,
    StateRow,
    TogoRow,
)
from kikan.errors import ConflictError
from kikan.platform import audit, sequences
from kikan.platform.context import Context
from kikan.platform.crypto import KeyRing, MyNumber
from kikan.platform.ids import DEFAULT_ATENA_WIDTH, make_atena_number
from kikan.platform.uow import UnitOfWork

IN_CHUNK = 500
SYNC_ACTOR = audit.Actor(kind="system", id="atena-sync")


def log(
    uow: UnitOfWork,
    actor: audit.Actor,
    key: str,
    action: str,
    *,
    subjects: Iterable[str] = (),
    mynumber: bool = False,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """One access-log record of this module (the function is a catalogue entry)."""
    audit.append(
        uow,
        actor,
        audit.AuditEvent(
            category="operation",
            action=action,
            function=FUNCTIONS.entry(key),
            subjects=tuple(subjects),
            mynumber_accessed=mynumber,
            detail=dict(detail or {}),
        ),
    )


# ---------------------------------------------------------------- states


def record_state(
    uow: UnitOfWork,
    *,
    atena_number: str,
    source: str,
    items: Mapping[str, Any],
    facts: domain.Facts,
    valid_from: date | None,
    version: int,
    operator: str,
    reason: str,
    known: StateRow | bool | None = True,
) -> StateRow:
    """Append one state of a person and make it the current one (the old ones stay: history
    and the candidate search over former names and addresses).

    `known`: the person's current state when the caller already read it (a `StateRow`, or None
    for "has none"), so a page of a sync needs no statement per person; True (the default):
    look it up."""
    if isinstance(known, StateRow):
        known.current = False
    elif known is True:
        uow.session.execute(
            update(StateRow)
            .where(StateRow.atena_number == atena_number, StateRow.current.is_(True))
            .values(current=False)
        )
    row = StateRow(
        tenant_code=uow.tenant,
        atena_number=atena_number,
        source=source,
        version=version,
        valid_from=valid_from,
        current=True,
        operator=operator[:64],
        reason=reason[:40],
        name=facts.name[:200],
        kana=facts.kana[:200],
        birth=facts.birth[:40],
        sex=facts.sex[:1],
        address=facts.address[:400],
        name_key=facts.name_key[:200],
        kana_key=facts.kana_key[:200],
        birth_day=facts.birth_day,
        items=dict(items),
    )
    uow.session.add(row)
    return row


def current_states(uow: UnitOfWork, atena_numbers: Iterable[str]) -> dict[str, StateRow]:
    """The current states of these persons, in bounded queries."""
    wanted = sorted(set(atena_numbers))
    found: dict[str, StateRow] = {}
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        for row in uow.session.scalars(
            select(StateRow).where(StateRow.atena_number.in_(chunk), StateRow.current.is_(True))
        ):
            found[row.atena_number] = row
    return found


def jutogai_rows(uow: UnitOfWork, atena_numbers: Iterable[str]) -> dict[str, JutogaiRow]:
    wanted = sorted(set(atena_numbers))
    found: dict[str, JutogaiRow] = {}
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        for row in uow.session.scalars(
            select(JutogaiRow).where(JutogaiRow.atena_number.in_(chunk))
        ):
            found[row.atena_number] = row
    return found


def current_state(uow: UnitOfWork, atena_number: str) -> StateRow | None:
    return uow.session.scalars(
        select(StateRow).where(StateRow.atena_number == atena_number, StateRow.current.is_(True))
    ).first()


def state_as_of(uow: UnitOfWork, atena_number: str, day: date) -> StateRow | None:
    """The state in force on `day`: the latest `valid_from` on or before it (a state without
    one counts as in force from the beginning), the latest recorded among equals."""
    rows = list(
        uow.session.scalars(
            select(StateRow).where(StateRow.atena_number == atena_number).order_by(StateRow.id)
        )
    )
    in_force = [r for r in rows if r.valid_from is None or r.valid_from <= day]
    if not in_force:
        return None
    return max(in_force, key=lambda r: (r.valid_from or date.min, r.id))


def facts_of_state(row: StateRow) -> domain.Facts:
    return domain.Facts(row.name, row.kana, row.birth, row.sex, row.address)


def same_facts(row: StateRow | None, facts: domain.Facts) -> bool:
    return row is not None and facts_of_state(row) == facts


# ---------------------------------------------------------------- persons


def source_of(uow: UnitOfWork, atena_number: str) -> str | None:
    """Which kind of person a 宛名番号 names for 宛名管理 now: an active 住登外者 entry wins (a
    resident who left), else a delivered resident, else None (unknown here)."""
    jutogai = jutogai_row(uow, atena_number)
    if jutogai is not None and jutogai.active:
        return JUTOGAI
    resident = resident_row(uow, atena_number)
    if resident is not None and not resident.gone:
        return RESIDENT
    return JUTOGAI if jutogai is not None else None


def jutogai_row(uow: UnitOfWork, atena_number: str, *, lock: bool = False) -> JutogaiRow | None:
    stmt = select(JutogaiRow).where(JutogaiRow.atena_number == atena_number)
    if lock:
        stmt = stmt.with_for_update()
    return uow.session.scalars(stmt).first()


def resident_row(uow: UnitOfWork, atena_number: str) -> AtenaResidentRow | None:
    return uow.session.scalars(
        select(AtenaResidentRow).where(AtenaResidentRow.atena_number == atena_number)
    ).first()


def protected_numbers(uow: UnitOfWork, atena_numbers: Iterable[str]) -> set[str]:
    """The 宛名番号 among these that 支援措置 protects (as the residents feed last said)."""
    wanted = sorted(set(atena_numbers))
    found: set[str] = set()
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        found.update(
            uow.session.scalars(
                select(AtenaResidentRow.atena_number).where(
                    AtenaResidentRow.atena_number.in_(chunk), AtenaResidentRow.protected.is_(True)
                )
            )
        )
    return found


def identity(uow: UnitOfWork, atena_number: str, source: str, *, lock: bool = False) -> IdentityRow:
    """The 名寄せ / 統合宛名 state of a 宛名番号, created on first need."""
    stmt = select(IdentityRow).where(IdentityRow.atena_number == atena_number)
    if lock:
        stmt = stmt.with_for_update()
    row = uow.session.scalars(stmt).first()
    if row is None:
        row = IdentityRow(
            tenant_code=uow.tenant,
            atena_number=atena_number,
            source=source,
            nayose_target="",
            representative=False,
            togo_number="",
            version=1,
        )
        uow.session.add(row)
        # the row is found by the next query of this use case (before autoflush would run)
        uow.session.flush()
    return row


# ---------------------------------------------------------------- 個人番号


def require_keyring(ctx: Context) -> KeyRing:
    """The key ring, or the platform's `keyring-missing` refusal (the same problem type the
    linkage feed and the certificates answer without a key)."""
    if ctx.keyring is None:
        raise ConflictError(
            "keyring-missing",
            "暗号鍵が設定されていないため、個人番号を扱えません（KIKAN_MYNUMBER_KEYS または"
            "鍵ファイル KIKAN_MYNUMBER_KEY_FILE を設定してください）。",
        )
    return ctx.keyring


def blind_index(uow: UnitOfWork, ctx: Context, number: MyNumber) -> str:
    return str(require_keyring(ctx).blind_index(number.reveal(), context=uow.tenant))


def store_my_number(uow: UnitOfWork, ctx: Context, atena_number: str, number: MyNumber) -> str:
    """Keep the 個人番号 of a 宛名番号 (encrypted) and return its blind index."""
    keyring = require_keyring(ctx)
    index = str(keyring.blind_index(number.reveal(), context=uow.tenant))
    row = uow.session.scalars(
        select(MyNumberRow).where(MyNumberRow.atena_number == atena_number)
    ).first()
    if row is not None and row.blind_index == index:
        return index
    token = str(keyring.encrypt_my_number(number, context=uow.tenant))
    if row is None:
        uow.session.add(
            MyNumberRow(
                tenant_code=uow.tenant, atena_number=atena_number, token=token, blind_index=index
            )
        )
    else:
        row.token, row.blind_index = token, index
    return index


def my_number_index(uow: UnitOfWork, atena_number: str) -> str | None:
    return uow.session.scalars(
        select(MyNumberRow.blind_index).where(MyNumberRow.atena_number == atena_number)
    ).first()


def my_number_indexes(uow: UnitOfWork, atena_numbers: Iterable[str]) -> dict[str, str]:
    wanted = sorted(set(atena_numbers))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        for atena, index in uow.session.execute(
            select(MyNumberRow.atena_number, MyNumberRow.blind_index).where(
                MyNumberRow.atena_number.in_(chunk)
            )
        ):
            found[atena] = index
    return found


def numbers_with_index(uow: UnitOfWork, index: str) -> list[str]:
    return list(
        uow.session.scalars(
            select(MyNumberRow.atena_number).where(MyNumberRow.blind_index == index)
        )
    )


# ---------------------------------------------------------------- 団体内統合宛名 (032)


#: 団体内統合宛名番号 (032): a sequence of their own, not the tenant's 宛名番号 space
TOGO_SEQUENCE = "atena.togo"


def _next_togo_number(uow: UnitOfWork) -> str:
    serial = sequences.next_value(uow, TOGO_SEQUENCE)
    return make_atena_number(serial, DEFAULT_ATENA_WIDTH, item="団体内統合宛名番号")


def ensure_togo(uow: UnitOfWork, ctx: Context, atena_number: str, source: str, index: str) -> str:
    """The 団体内統合宛名番号 of the person with this 個人番号: issued the first time the 個人番号
    is seen, reused for every other 宛名番号 with the same one (one per person)."""
    togo = uow.session.scalars(select(TogoRow).where(TogoRow.blind_index == index)).first()
    if togo is None:
        togo = TogoRow(
            tenant_code=uow.tenant,
            togo_number=_next_togo_number(uow),
            blind_index=index,
            issued_on=ctx.today,
            issued_by=ctx.actor.id[:64],
        )
        uow.session.add(togo)
        log(uow, ctx.actor, "atena.audit.togo", "create", subjects=[atena_number],
            detail={"togo_number": togo.togo_number})  # fmt: skip
    ident = identity(uow, atena_number, source)
    if ident.togo_number != togo.togo_number:
        ident.togo_number = togo.togo_number
    return togo.togo_number
