"""Audited reads of the register: 異動履歴 (optionally "as known at"), the entry in force on a
day, 住民照会 and 基本検索.

Why a module of its own: nothing here writes the register; every read checks the 照会抑止 first
(`protection.inquiry_check`) and leaves an audit record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import aliased

from kikan.calendar import DateError, RegisterDate
from kikan.moji import address_key, search_key
from kikan.platform.context import Context
from kikan.platform.uow import UnitOfWork
from kikan.residents.domain import RegisterError, Snapshot, Status, support_period_alert
from kikan.residents.module import FUNCTIONS
from kikan.residents.service._common import (
    _audit_read,
    _raise_not_found,
    _snapshot,
    latest,
    protected_among,
)
from kikan.residents.service.commands import (
    AsOfQuery,
    HistoryQuery,
    PersonRef,
    SearchCriteria,
)
from kikan.residents.service.protection import inquiry_check, support_measures
from kikan.residents.store import (
    CurrentRow,
    HistoryRow,
    HouseholdRow,
    NameKeyRow,
    SupportMeasureRow,
)

# ---------------------------------------------------------------- reading (audited)


T = TypeVar("T")


@dataclass(frozen=True)
class HistoryEntry:
    history_no: int
    reason: str
    valid_from: date
    recorded_at: datetime
    notified_date: date | None
    operator: str
    terminal: str
    place: str
    note: str
    cancels_history_no: int | None
    cancelled: bool
    snapshot: Snapshot


@dataclass(frozen=True)
class Guarded(Generic[T]):
    """What an audited read returns when 照会抑止 at level アラート applies: the value and the
    warnings the clerk must see beside it (spec 3.1)."""

    value: T
    warnings: list[str] = field(default_factory=list)


def read_history(uow: UnitOfWork, ctx: Context, query: HistoryQuery) -> Guarded[list[HistoryEntry]]:
    """異動履歴 (spec 2.2.1), optionally as the register knew it at `known_at`, after the
    照会抑止 check (refused at level エラー, warnings at level アラート)."""
    atena_number = query.atena_number
    known_at = query.known_at
    warnings = inquiry_check(uow, ctx, atena_number)
    stmt = (
        select(HistoryRow)
        .where(HistoryRow.atena_number == atena_number)
        .order_by(HistoryRow.history_no)
    )
    if known_at is not None:
        stmt = stmt.where(HistoryRow.recorded_at <= known_at)
    rows = uow.session.scalars(stmt).all()
    if not rows and known_at is None:
        _raise_not_found(atena_number)
    cancelled = {r.cancels_history_no for r in rows if r.cancels_history_no}
    _audit_read(
        uow,
        ctx,
        FUNCTIONS.entry("residents.history"),
        [atena_number],
        known_at=known_at.isoformat() if known_at else None,
    )
    entries = [
        HistoryEntry(
            r.history_no,
            r.reason,
            r.valid_from,
            r.recorded_at,
            r.notified_date,
            r.operator,
            r.terminal,
            r.place,
            r.note,
            r.cancels_history_no,
            r.history_no in cancelled,
            _snapshot(r),
        )
        for r in rows
    ]
    return Guarded(entries, warnings)


def history(uow: UnitOfWork, ctx: Context, query: HistoryQuery) -> list[HistoryEntry]:
    """`read_history` without the warnings, for callers that show none (batch, benchmarks)."""
    return read_history(uow, ctx, query).value


def read_as_of(uow: UnitOfWork, ctx: Context, query: AsOfQuery) -> Guarded[HistoryEntry | None]:
    """The entry in force on `valid_on` according to what was recorded by `known_at`
    (defaults: today, now). Cancelled 異動 and the cancelling rows themselves are ignored."""
    atena_number = query.atena_number
    valid_on = query.valid_on
    known_at = query.known_at
    read = read_history(uow, ctx, HistoryQuery(atena_number=atena_number, known_at=known_at))
    day = valid_on or ctx.today
    live = [e for e in read.value if not e.cancelled and e.cancels_history_no is None]
    candidates = [e for e in live if e.valid_from <= day]
    if not candidates:
        return Guarded(None, read.warnings)
    return Guarded(max(candidates, key=lambda e: (e.valid_from, e.history_no)), read.warnings)


def as_of(uow: UnitOfWork, ctx: Context, query: AsOfQuery) -> HistoryEntry | None:
    """`read_as_of` without the warnings."""
    return read_as_of(uow, ctx, query).value


@dataclass(frozen=True)
class ResidentDetail:
    snapshot: Snapshot
    version: int
    measures: list[SupportMeasureRow]
    warnings: list[str]
    #: the version of the person's household: what 転入 into it, 出生, 世帯主変更 and 転居 of
    #: members take as `expected_household_version` (no other read tells it)
    household_version: int = 0


def detail(uow: UnitOfWork, ctx: Context, query: PersonRef) -> ResidentDetail:
    """住民照会: the latest entry with its 支援措置 (spec 2.2.4: visibly flagged) after the
    照会抑止 check. Warnings: 照会抑止 at level アラート and the 支援措置 period alerts of
    spec 3.4."""
    atena_number = query.atena_number
    warnings = inquiry_check(uow, ctx, atena_number)
    snap, version = latest(uow, atena_number)
    measures = support_measures(uow, atena_number, ctx.today)
    warnings += [
        alert
        for m in measures
        if (alert := support_period_alert(m.kind, m.end_date, ctx.today)) is not None
    ]
    _audit_read(
        uow,
        ctx,
        FUNCTIONS.entry("residents.inquiry"),
        [atena_number],
        support_measure=bool(measures),
    )
    household_version = uow.session.scalar(
        select(HouseholdRow.version).where(HouseholdRow.household_number == snap.household_number)
    )
    return ResidentDetail(snap, version, measures, warnings, household_version or 0)


def _prefix(column: Any, key: str) -> ColumnElement[bool]:
    """`column` starts with `key`, written as a range so that PostgreSQL can use the index.

    LIKE is not leakproof, so under row-level security PostgreSQL evaluates it only after the
    policy, as a filter over every row of the tenant (≈0.7 s for a common surname among a
    million residents); the comparison operators are leakproof and become index conditions.
    The keys are compared by code point (collation "C" on PostgreSQL, binary on SQLite), so
    every string with the prefix lies in [key, key + U+10FFFF).
    """
    return and_(column >= key, column < key + "\U0010ffff")


#: Totals above this are reported as "more than" (`total == SEARCH_COUNT_CAP + 1`).
SEARCH_COUNT_CAP = 1000


def _by_name_key(key: str) -> tuple[Select[CurrentRow], tuple[Any, ...]]:
    """Residents whose 氏名, フリガナ, 通称, 旧氏 or foreign name starts with `key`, in key order.

    The query is driven by the name-key index (range predicate, see `_prefix`) and joins each
    match to its person, so a page of a common surname among a million residents reads about a
    page of index entries. A person two of whose names match is listed once, under the smallest
    matching key (the NOT EXISTS probe reads at most the person's few name keys).
    """
    other = aliased(NameKeyRow)
    smaller_match = (
        select(other.kind)
        .where(
            other.atena_number == NameKeyRow.atena_number,
            _prefix(other.key, key),
            or_(
                other.key < NameKeyRow.key,
                and_(other.key == NameKeyRow.key, other.kind < NameKeyRow.kind),
            ),
        )
        .exists()
    )
    base = (
        select(CurrentRow)
        .join(
            NameKeyRow,
            and_(
                NameKeyRow.tenant_code == CurrentRow.tenant_code,
                NameKeyRow.atena_number == CurrentRow.atena_number,
            ),
        )
        .where(_prefix(NameKeyRow.key, key), ~smaller_match)
    )
    return base, (NameKeyRow.key, NameKeyRow.atena_number)


def search(
    uow: UnitOfWork, ctx: Context, query: SearchCriteria
) -> tuple[list[CurrentRow], int, set[str]]:
    """基本検索 (spec 2.1.3): any combination of criteria; name keys are prefix matches over
    氏名, 通称, 旧氏 and foreign residents' names. The total is exact up to SEARCH_COUNT_CAP."""
    conditions: list[ColumnElement[bool]] = []
    if query.kana:
        conditions.append(_prefix(CurrentRow.kana_key, search_key(query.kana)))
    if query.birth_date:
        try:
            birth = RegisterDate.parse(query.birth_date)
        except DateError as exc:
            # the message of a DateError quotes the value: name the item only
            raise RegisterError(
                "search.birth", exc.without_value("生年月日") + "。", "生年月日"
            ) from exc
        conditions.append(CurrentRow.birth_sort == birth.internal_date)
    if query.address:
        conditions.append(
            CurrentRow.address_key.contains(address_key(query.address), autoescape=True)
        )
    if query.atena_number:
        conditions.append(CurrentRow.atena_number == query.atena_number)
    if query.juminhyo_code:
        conditions.append(CurrentRow.juminhyo_code == query.juminhyo_code)
    if not conditions and not query.name:
        raise RegisterError("search.empty", "検索条件を一つ以上入力してください。", "検索条件")
    if not query.include_removed:
        conditions.append(CurrentRow.status.in_([Status.RESIDENT, Status.MOVING_OUT]))
    base = select(CurrentRow)
    order: tuple[Any, ...] = (CurrentRow.kana_key, CurrentRow.atena_number)
    if query.name:
        base, order = _by_name_key(search_key(query.name))
    where = and_(*conditions)
    # the total is counted up to a cap: a clerk narrows a search of thousands, and an exact
    # count of a common surname in a big city would cost more than the page itself
    capped = base.where(where).limit(SEARCH_COUNT_CAP + 1).subquery()
    total = uow.session.scalar(select(func.count()).select_from(capped)) or 0
    rows = list(
        uow.session.scalars(
            base.where(where)
            .order_by(*order)
            .limit(query.page_size)
            .offset((query.page - 1) * query.page_size)
        )
    )
    protected = protected_among(uow, [r.atena_number for r in rows])
    _audit_read(
        uow,
        ctx,
        FUNCTIONS.entry("residents.search"),
        [r.atena_number for r in rows],
        total=total,
        criteria=sorted(
            k
            for k in ("name", "kana", "birth_date", "address", "atena_number", "juminhyo_code")
            if getattr(query, k)
        ),
    )
    return rows, total, protected
