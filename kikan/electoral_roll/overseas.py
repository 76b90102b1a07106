"""Use cases of the 在外選挙人名簿: one function per use case, `fn(uow, ctx, command)` (ADR 0013).

The 在外選挙人名簿 (公職選挙法 第4章の2) is a register of its own, kept by this city's
選挙管理委員会 for electors living abroad whose 最終住所 or 本籍 is here. It lives in its own tables
(`OverseasEntryRow` + history) and nothing of `service` reads them: a 在外選挙人 is never on a
fixed roll, in a 抄本 of the 選挙人名簿, in a 投票区 or in its 登録者数
(tests/electoral_roll/test_overseas.py proves it). Its outputs are its own (`extract_csv`).

Registration is judged by the pure rules of `overseas_domain` (the rules file's `[[overseas]]`
section and the roll's age rule); a refusal is a Japanese problem naming the rule and writes
nothing. Every change (登録, 修正, 抹消) bumps the entry's version and writes a history row with
the whole entry as it became, the operator and the time; corrections check the version read.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select

from kikan.electoral_roll import overseas_domain as rules
from kikan.electoral_roll.module import FUNCTIONS
from kikan.electoral_roll.store import OverseasEntryRow, OverseasHistoryRow
from kikan.errors import ConflictError, InvalidError, NotFoundError, StaleError
from kikan.platform import audit
from kikan.platform.context import Context
from kikan.platform.db import utcnow
from kikan.platform.uow import UnitOfWork

#: the entry's states
REGISTERED, STRUCK = "登録", "抹消"
#: 抹消の事由 staff record (第30条の11: 死亡・国籍喪失, 国内の市町村への転入, 登録の誤り)
STRIKE_REASONS = ("死亡", "国籍喪失", "国内転入", "登録の誤り")
#: 性別 codes (kikan/standard/data/codes/sex.toml)
SEXES = ("1", "2", "9", "0")
#: what a snapshot (history row) holds of an entry
_FIELDS = (
    "state", "name", "kana", "birth_date", "sex", "route", "last_address", "honseki",
    "consular_district", "resident_since", "on_city_roll", "applied_on", "registered_on",
    "struck_on", "strike_reason",
)  # fmt: skip


# ---------------------------------------------------------------- commands and results


@dataclass(frozen=True)
class OverseasFacts:
    """What staff enter from an application (the same for a registration and a correction)."""

    name: str
    kana: str
    birth_date: str  # storage form or typed text (和暦, 西暦, 年月日不詳 …)
    sex: str
    route: str  # 出国時申請 | 在外公館申請
    last_address: str
    honseki: str
    consular_district: str
    resident_since: date | None
    on_city_roll: bool
    japanese_national: bool
    applied_on: date
    registered_on: date


@dataclass(frozen=True)
class RegisterOverseas:
    facts: OverseasFacts


@dataclass(frozen=True)
class CorrectOverseas:
    """A correction of a registered entry; `version` is the one staff read (optimistic lock)."""

    entry_id: int
    version: int
    facts: OverseasFacts
    reason: str = "修正"


@dataclass(frozen=True)
class StrikeOverseas:
    entry_id: int
    reason: str  # one of STRIKE_REASONS
    effective: date


@dataclass(frozen=True)
class OverseasQuery:
    entry_id: int


@dataclass(frozen=True)
class ListOverseas:
    """Entries of the 在外選挙人名簿 (`state` None: all), by kana. `output` names the file in the
    access log record of an extract (empty: a list on screen)."""

    state: str | None = REGISTERED
    output: str = ""


@dataclass(frozen=True)
class CountOverseas:
    """登録者数 of the 在外選挙人名簿 (registered entries), per consular district and sex."""


@dataclass(frozen=True)
class OverseasHistoryView:
    version: int
    event: str
    effective: date
    reason: str
    recorded_by: str
    snapshot: Mapping[str, Any]


@dataclass(frozen=True)
class OverseasView:
    id: int
    version: int
    state: str
    name: str
    kana: str
    birth_date: str
    sex: str
    route: str
    last_address: str
    honseki: str
    consular_district: str
    resident_since: date | None
    on_city_roll: bool
    applied_on: date
    registered_on: date
    struck_on: date | None
    strike_reason: str
    history: tuple[OverseasHistoryView, ...] = ()


@dataclass(frozen=True)
class OverseasCountRow:
    consular_district: str
    male: int
    female: int
    other: int

    @property
    def total(self) -> int:
        return self.male + self.female + self.other


# ---------------------------------------------------------------- steps


def _audit(
    uow: UnitOfWork, ctx: Context, key: str, action: str, *, subjects: Sequence[str] = (),
    **detail: object,
) -> None:  # fmt: skip
    audit.append(
        uow,
        ctx.actor,
        audit.AuditEvent(
            category="operation",
            action=action,
            function=FUNCTIONS.entry(key),
            subjects=list(subjects),
            detail=dict(detail),
        ),
    )


def _checked(facts: OverseasFacts, today: date) -> tuple[dict[str, Any], rules.Applicant]:
    """The entry's columns from the facts, or the Japanese refusal (nothing is written)."""
    name, kana = facts.name.strip(), facts.kana.strip()
    district = facts.consular_district.strip()
    if not name:
        raise InvalidError("name", "氏名を入力してください。", "name")
    if not district:
        raise InvalidError(
            "consular-district", "領事官の管轄区域（在外公館）を入力してください。",
            "consular_district",
        )  # fmt: skip
    if facts.sex not in SEXES:
        raise InvalidError("sex", "性別は 1（男）・2（女）・9・0 のいずれかです。", "sex")
    if facts.registered_on > today:
        raise InvalidError(
            "registered-on-future",
            f"登録日（{facts.registered_on.isoformat()}）が処理日より後です。", "registered_on",
        )  # fmt: skip
    if facts.applied_on > facts.registered_on:
        raise InvalidError("applied-after-registration", "申請日が登録日より後です。", "applied_on")
    if facts.resident_since is not None and facts.resident_since > facts.applied_on:
        raise InvalidError(
            "resident-since-after-application",
            "管轄区域に住み始めた日が申請日より後です。", "resident_since",
        )  # fmt: skip
    birth = rules.birth_storage(facts.birth_date)
    applicant = rules.Applicant(
        japanese_national=facts.japanese_national,
        birth_date=birth,
        route=facts.route,
        last_address=facts.last_address,
        honseki=facts.honseki,
        resident_since=facts.resident_since,
        on_city_roll=facts.on_city_roll,
    )
    refusal = rules.check_registration(applicant, facts.registered_on)
    if refusal is not None:
        raise refusal
    columns: dict[str, Any] = {
        "name": name[:200],
        "kana": kana[:200],
        "birth_date": birth,
        "sex": facts.sex,
        "route": facts.route,
        "last_address": facts.last_address.strip()[:400],
        "honseki": facts.honseki.strip()[:400],
        "consular_district": district[:100],
        "resident_since": facts.resident_since,
        "on_city_roll": facts.on_city_roll,
        "applied_on": facts.applied_on,
        "registered_on": facts.registered_on,
    }
    return columns, applicant


def _snapshot(row: OverseasEntryRow) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in _FIELDS:
        value = getattr(row, name)
        values[name] = value.isoformat() if isinstance(value, date) else value
    return values


def _history(  # noqa: PLR0917 - one step with the entry's facts in order
    uow: UnitOfWork, ctx: Context, row: OverseasEntryRow, event: str, effective: date,
    reason: str = "",
) -> None:  # fmt: skip
    """One historied step: the version goes up and the whole entry is kept as it became."""
    row.version += 1
    row.updated_at = utcnow()
    row.updated_by = ctx.actor.id[:64]
    uow.session.add(
        OverseasHistoryRow(
            tenant_code=uow.tenant,
            entry_id=row.id,
            version=row.version,
            event=event,
            effective=effective,
            reason=reason[:100],
            snapshot=_snapshot(row),
            recorded_by=ctx.actor.id[:64],
        )
    )


def _entry(uow: UnitOfWork, entry_id: int) -> OverseasEntryRow:
    row = uow.session.get(OverseasEntryRow, entry_id)
    if row is None or row.tenant_code != uow.tenant:
        raise NotFoundError(
            "overseas-not-found", f"在外選挙人（番号 {entry_id}）は登録されていません。",
            "entry_id",
        )  # fmt: skip
    return row


def _view(row: OverseasEntryRow, history: Sequence[OverseasHistoryRow] = ()) -> OverseasView:
    return OverseasView(
        id=row.id, version=row.version, state=row.state, name=row.name, kana=row.kana,
        birth_date=row.birth_date, sex=row.sex, route=row.route, last_address=row.last_address,
        honseki=row.honseki, consular_district=row.consular_district,
        resident_since=row.resident_since, on_city_roll=row.on_city_roll,
        applied_on=row.applied_on, registered_on=row.registered_on, struck_on=row.struck_on,
        strike_reason=row.strike_reason,
        history=tuple(
            OverseasHistoryView(h.version, h.event, h.effective, h.reason, h.recorded_by,
                                dict(h.snapshot or {}))
            for h in history
        ),
    )  # fmt: skip


def _with_history(uow: UnitOfWork, row: OverseasEntryRow) -> OverseasView:
    history = uow.session.scalars(
        select(OverseasHistoryRow)
        .where(OverseasHistoryRow.entry_id == row.id)
        .order_by(OverseasHistoryRow.version, OverseasHistoryRow.id)
    )
    return _view(row, list(history))


# ---------------------------------------------------------------- use cases


def register_overseas(uow: UnitOfWork, ctx: Context, command: RegisterOverseas) -> OverseasView:
    """登録: the facts are checked and the applicant judged before anything is written."""
    columns, _applicant = _checked(command.facts, ctx.today)
    row = OverseasEntryRow(
        tenant_code=uow.tenant,
        version=0,
        state=REGISTERED,
        struck_on=None,
        strike_reason="",
        updated_by=ctx.actor.id[:64],
        **columns,
    )
    uow.session.add(row)
    uow.session.flush()  # the entry's id goes into its history row and the access log
    _history(uow, ctx, row, REGISTERED, row.registered_on, row.route)
    _audit(uow, ctx, "electoral_roll.audit.overseas", "create", entry=row.id, route=row.route,
           registered_on=row.registered_on.isoformat())  # fmt: skip
    return _with_history(uow, row)


def correct_overseas(uow: UnitOfWork, ctx: Context, command: CorrectOverseas) -> OverseasView:
    """修正 of a registered entry: the version staff read must still be current, and the
    corrected facts must still allow the registration (else: 抹消 for 登録の誤り)."""
    row = _entry(uow, command.entry_id)
    if row.version != command.version:
        raise StaleError(
            "stale-version", "他の職員が先に更新しました。再読み込みしてから修正してください。",
            "version",
        )  # fmt: skip
    if row.state == STRUCK:
        raise ConflictError("overseas-struck", "抹消された在外選挙人は修正できません。", "entry_id")
    columns, _applicant = _checked(command.facts, ctx.today)
    changed = sorted(name for name, value in columns.items() if getattr(row, name) != value)
    if not changed:
        return _with_history(uow, row)
    for name in changed:
        setattr(row, name, columns[name])
    _history(uow, ctx, row, "修正", ctx.today, command.reason.strip() or "修正")
    _audit(uow, ctx, "electoral_roll.audit.overseas", "update", entry=row.id,
           changed=changed)  # fmt: skip
    return _with_history(uow, row)


def strike_overseas(uow: UnitOfWork, ctx: Context, command: StrikeOverseas) -> OverseasView:
    """抹消 with its reason and day (the entry and its history stay)."""
    if command.reason not in STRIKE_REASONS:
        raise InvalidError(
            "strike-reason", "抹消の事由は「" + "」「".join(STRIKE_REASONS) + "」のいずれかです。",
            "reason",
        )  # fmt: skip
    row = _entry(uow, command.entry_id)
    if row.state == STRUCK:
        raise ConflictError("already-struck", "この在外選挙人は既に抹消されています。", "entry_id")
    if command.effective < row.registered_on or command.effective > ctx.today:
        raise InvalidError(
            "strike-date", "抹消の日は登録日から処理日までの日にしてください。", "effective"
        )
    row.state, row.struck_on, row.strike_reason = STRUCK, command.effective, command.reason
    _history(uow, ctx, row, STRUCK, command.effective, command.reason)
    _audit(uow, ctx, "electoral_roll.audit.overseas", "update", entry=row.id,
           reason=command.reason)  # fmt: skip
    return _with_history(uow, row)


def get_overseas(uow: UnitOfWork, ctx: Context, query: OverseasQuery) -> OverseasView:
    row = _entry(uow, query.entry_id)
    _audit(uow, ctx, "electoral_roll.audit.overseas_read", "read", entry=row.id)
    return _with_history(uow, row)


def list_overseas(uow: UnitOfWork, ctx: Context, query: ListOverseas) -> list[OverseasView]:
    """The entries (of one state), by kana then number; an extract (`output`) is logged as one."""
    if query.state is not None and query.state not in (REGISTERED, STRUCK):
        raise InvalidError("state", "状態は「登録」か「抹消」です。", "state")
    stmt = select(OverseasEntryRow).order_by(OverseasEntryRow.kana, OverseasEntryRow.id)
    if query.state is not None:
        stmt = stmt.where(OverseasEntryRow.state == query.state)
    views = [_view(r) for r in uow.session.scalars(stmt)]
    key = "electoral_roll.audit.overseas_extract" if query.output else (
        "electoral_roll.audit.overseas_read"
    )  # fmt: skip
    _audit(uow, ctx, key, "read", state=query.state or "", entries=len(views),
           output=query.output)  # fmt: skip
    return views


def count_overseas(uow: UnitOfWork, ctx: Context, query: CountOverseas) -> list[OverseasCountRow]:
    """在外選挙人名簿登録者数: registered entries per consular district and sex (1 男, 2 女,
    others together)."""
    rows = uow.session.execute(
        select(OverseasEntryRow.consular_district, OverseasEntryRow.sex, func.count())
        .where(OverseasEntryRow.state == REGISTERED)
        .group_by(OverseasEntryRow.consular_district, OverseasEntryRow.sex)
    )
    by: dict[str, Counter[str]] = {}
    for district, sex, n in rows:
        by.setdefault(district, Counter())[sex if sex in ("1", "2") else "9"] += n
    return [OverseasCountRow(d, c["1"], c["2"], c["9"]) for d, c in sorted(by.items())]


# ---------------------------------------------------------------- output (pure)

#: the 在外選挙人名簿抄本's columns (its own file: never the 選挙人名簿抄本's layout)
EXTRACT_COLUMNS = (
    "番号", "状態", "氏名", "フリガナ", "生年月日", "性別", "申請の経路", "最終住所", "本籍",
    "領事官の管轄区域", "管轄区域に住み始めた日", "申請日", "登録日", "抹消日", "抹消事由",
)  # fmt: skip
_SEX = {"1": "男", "2": "女"}


def extract_csv(entries: Sequence[OverseasView]) -> bytes:
    """在外選挙人名簿抄本 (CSV, UTF-8 with a BOM like the roll's, so Excel opens it)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXTRACT_COLUMNS)
    for e in entries:
        writer.writerow(
            [
                e.id, e.state, e.name, e.kana, e.birth_date, _SEX.get(e.sex, "その他"), e.route,
                e.last_address, e.honseki, e.consular_district,
                e.resident_since.isoformat() if e.resident_since else "",
                e.applied_on.isoformat(), e.registered_on.isoformat(),
                e.struck_on.isoformat() if e.struck_on else "", e.strike_reason,
            ]
        )  # fmt: skip
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
