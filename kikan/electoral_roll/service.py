"""Use cases of 選挙人名簿管理: one function per use case, `fn(uow, ctx, command)` (ADR 0013).

`uow` is the caller's unit of work (a use case never commits), `ctx` the `Context`, `command`
one immutable object. Refusals are `kikan.errors.DomainError` subclasses with Japanese
messages; every change is written to the access log in the same transaction.

* **Rolls are snapshots.** `register_roll` (定時登録 or 選挙時登録) judges every person of the
  register *as of the base date* (the 全件 as of that day, from 庁内データ連携) with the pure
  rules of `domain` and writes the roll once, with a digest of its entries: the same register
  history and base date give the same roll (and the same digest). Nothing ever updates a fixed
  roll.
* **The living register** (`RegisterRow` + history) changes only through historied steps: a
  roll's 登録, the 表示/抹消 that `linkage.react` derives from 異動, the 4-month 抹消処理
  (`strike_due`) and staff's ex officio 抹消 (`strike`).
* **投票区** are tenant data (`load_districts`): validated whole, versioned, and a new table
  re-derives the district of every living entry and reports who moved.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, insert, select, update

from kikan.electoral_roll import domain
from kikan.electoral_roll.module import FUNCTIONS
from kikan.electoral_roll.store import (
    DistrictRow,
    ElectionRow,
    RegisterHistoryRow,
    RegisterRow,
    RollEntryRow,
    RollRow,
)
from kikan.errors import ConflictError, InvalidError, NotFoundError
from kikan.platform import audit
from kikan.platform.context import Context
from kikan.platform.db import utcnow
from kikan.platform.uow import UnitOfWork

#: the register's states
STRUCK = "抹消"
#: staff's ex officio 抹消 reasons (the others come from 異動 or the 4-month rule)
STAFF_STRIKE_REASONS = ("登録の誤り", "死亡", "国籍喪失", "職権消除")
#: persons looked up per query (bounded IN lists)
CHUNK = 500
#: persons of a roll written per round of bulk statements (a few MiB of parameters)
PAGE = 5000


# ---------------------------------------------------------------- commands and results


@dataclass(frozen=True)
class CreateElection:
    name: str
    base_date: date
    election_day: date


@dataclass(frozen=True)
class RegisterRoll:
    """定時登録 (`election_id` None: `base_date` must be a 定時登録 base date) or 選挙時登録 (the
    election's base date and election day). `judged`: the register as of the base date, judged
    (`domain.judge_all`, before the transaction: see `check_roll`)."""

    base_date: date | None
    election_id: int | None
    judged: domain.Judged


@dataclass(frozen=True)
class CheckRoll:
    """The checks of `RegisterRoll` before the register is read (fail fast, nothing read)."""

    base_date: date | None
    election_id: int | None


@dataclass(frozen=True)
class RollQuery:
    """One roll (of one district). `output` names the file written (csv / pdf) in the access
    log record of an extract."""

    roll_id: int
    district: str | None = None
    output: str = "csv"


@dataclass(frozen=True)
class ExtractHeading:
    """What the 抄本's page header shows: the roll and the 投票区 (its current name)."""

    roll_id: int
    kind: str
    base_date: date
    district: str
    district_name: str


@dataclass(frozen=True)
class ListRolls:
    """Every fixed roll, newest first (no parameters)."""


@dataclass(frozen=True)
class EntryQuery:
    atena_number: str


@dataclass(frozen=True)
class StrikeDue:
    """抹消処理: strike every 表示 entry whose 4 months have passed by `as_of`."""

    as_of: date


@dataclass(frozen=True)
class Strike:
    atena_number: str
    reason: str
    effective: date


@dataclass(frozen=True)
class LoadDistricts:
    rows: tuple[domain.DistrictRange, ...]


@dataclass(frozen=True)
class CurrentDistricts:
    """The 投票区 table in force (no parameters)."""


@dataclass(frozen=True)
class RollView:
    id: int
    kind: str
    base_date: date
    election_day: date
    election_id: int | None
    registered: int
    marked: int
    digest: str
    rules_version: str
    newly_registered: int = 0
    not_on_roll: Mapping[str, int] = field(default_factory=dict)
    without_district: int = 0


@dataclass(frozen=True)
class EntryView:
    atena_number: str
    name: str
    kana: str
    sex: str
    birth_date: str
    household_number: str
    town: str
    banchi: str
    address: str
    district: str
    mark: str
    moved_out: date | None
    strike_on: date | None


@dataclass(frozen=True)
class HistoryView:
    version: int
    event: str
    effective: date
    reason: str
    detail: Mapping[str, Any]


@dataclass(frozen=True)
class RegisterView:
    entry: EntryView
    state: str
    registered_on: date
    struck_on: date | None
    strike_reason: str
    history: tuple[HistoryView, ...]


@dataclass(frozen=True)
class DistrictMove:
    atena_number: str
    before: str
    after: str


@dataclass(frozen=True)
class DistrictsLoaded:
    version: int
    rows: int
    moved: tuple[DistrictMove, ...]
    without_district: tuple[str, ...]


@dataclass(frozen=True)
class CountRow:
    district: str
    name: str
    male: int
    female: int
    other: int

    @property
    def total(self) -> int:
        return self.male + self.female + self.other


# ---------------------------------------------------------------- helpers (steps, not use cases)


def _audit(
    uow: UnitOfWork,
    ctx: Context,
    key: str,
    action: str,
    *,
    subjects: Sequence[str] = (),
    **detail: object,
) -> None:
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


def district_table(uow: UnitOfWork) -> tuple[int, tuple[domain.DistrictRange, ...]]:
    version = uow.session.scalar(select(func.max(DistrictRow.version))) or 0
    rows = uow.session.scalars(
        select(DistrictRow).where(DistrictRow.version == version).order_by(DistrictRow.id)
    )
    return version, tuple(
        domain.DistrictRange(r.district, r.name, r.town, r.banchi_from, r.banchi_to) for r in rows
    )


def person_columns(person: domain.Person, district: str) -> dict[str, str]:
    return {
        "atena_number": person.atena_number,
        "name": person.name[:200],
        "kana": person.kana[:200],
        "sex": person.sex[:1],
        "birth_date": person.birth_date[:40],
        "household_number": person.household_number[:15],
        "town": person.town[:100],
        "banchi": person.banchi[:100],
        "address": person.address[:400],
        "district": district,
    }


def add_history(  # noqa: PLR0917 - a step called with the row's facts in order
    uow: UnitOfWork,
    actor_id: str,
    row: RegisterRow,
    event: str,
    effective: date,
    reason: str = "",
    **detail: object,
) -> None:
    """One historied step of a register entry (its version goes up)."""
    row.version += 1
    row.updated_at = utcnow()
    uow.session.add(
        RegisterHistoryRow(
            tenant_code=uow.tenant,
            atena_number=row.atena_number,
            version=row.version,
            event=event,
            effective=effective,
            reason=reason[:100],
            detail=dict(detail),
            recorded_by=actor_id[:64],
        )
    )


def strike_entry(
    uow: UnitOfWork, actor_id: str, row: RegisterRow, reason: str, effective: date
) -> None:
    """抹消 of a living entry (already struck: nothing)."""
    if row.state == STRUCK:
        return
    row.state, row.struck_on, row.strike_reason = STRUCK, effective, reason[:40]
    add_history(uow, actor_id, row, STRUCK, effective, reason)


def register_rows(uow: UnitOfWork, numbers: Sequence[str]) -> dict[str, RegisterRow]:
    found: dict[str, RegisterRow] = {}
    for start in range(0, len(numbers), CHUNK):
        chunk = list(numbers[start : start + CHUNK])
        rows = uow.session.scalars(select(RegisterRow).where(RegisterRow.atena_number.in_(chunk)))
        found |= {r.atena_number: r for r in rows}
    return found


def _register_states(uow: UnitOfWork) -> tuple[set[str], dict[str, tuple[int, int]]]:
    """The register before a roll, in one streamed query: the 宛名番号 of the living entries,
    and (id, version) of the struck ones (registered again if on the roll). Not per page with IN
    lists: within the roll's transaction PostgreSQL has no statistics of the rows just written,
    estimates a 500-element IN as the whole table and scans it for every page (measured: the
    lookup grew to 6.6 s per 5,000 persons at 100,000). A set of 宛名番号 costs ~80 bytes a
    person; rows written by this roll are never looked up (a person is on a roll once)."""
    living: set[str] = set()
    struck: dict[str, tuple[int, int]] = {}
    rows = uow.session.execute(
        select(RegisterRow.atena_number, RegisterRow.id, RegisterRow.state, RegisterRow.version),
        execution_options={"yield_per": 10_000},
    )
    for atena, id_, state, version in rows:
        if state == STRUCK:
            struck[atena] = (id_, version)
        else:
            living.add(atena)
    return living, struck


@dataclass
class _RollWriter:
    """Writes a roll's entries page by page, set-based: the register's states read once
    (`_register_states`), then per page bulk INSERTs (roll entries, new register rows, history)
    and one bulk UPDATE by primary key (persons registered again after an 抹消). The rows are
    exactly those the per-person path wrote (same columns, versions, history order; see
    tests/electoral_roll/test_roll_write.py); only the statements differ: three ORM INSERTs per
    person were nearly all of the roll's time."""

    uow: UnitOfWork
    actor_id: str
    roll_id: int
    kind: str
    base: date
    living: set[str]
    struck: dict[str, tuple[int, int]]
    newly: int = 0

    def write(self, page: Sequence[tuple[domain.Person, domain.Judgement, str]]) -> None:
        uow, tenant, roll_id, base = self.uow, self.uow.tenant, self.roll_id, self.base
        now = utcnow()
        entries: list[dict[str, Any]] = []
        added: list[dict[str, Any]] = []
        again: list[dict[str, Any]] = []
        history: list[dict[str, Any]] = []
        for person, judged, district in page:
            assert judged.mark is not None
            columns = person_columns(person, district)
            entries.append({"tenant_code": tenant, "roll_id": roll_id, "mark": judged.mark,
                            "moved_out": judged.moved_out, "strike_on": judged.strike,
                            **columns})  # fmt: skip
            if person.atena_number in self.living:
                continue
            row = self.struck.pop(person.atena_number, None)
            steps = 2 if judged.mark == domain.MARKED else 1
            state = {"state": judged.mark, "registered_on": base, "roll_id": roll_id,
                     "moved_out": judged.moved_out, "strike_on": judged.strike,
                     "struck_on": None, "strike_reason": "", "updated_at": now,
                     **columns}  # fmt: skip
            if row is None:
                version = 0
                added.append({"tenant_code": tenant, "version": steps, **state})
            else:  # registered again after an 抹消
                version = row[1]
                again.append({"id": row[0], "version": version + steps, **state})
            history.append(self._step(person, version + 1, "登録", base, self.kind,
                                      {"roll": roll_id}, now))  # fmt: skip
            if steps == 2:
                shown = judged.moved_out or base
                history.append(self._step(person, version + 2, "表示", shown, "転出",
                                          {"strike_on": str(judged.strike)}, now))  # fmt: skip
            self.newly += 1
        uow.session.execute(insert(RollEntryRow), entries)
        if added:
            uow.session.execute(insert(RegisterRow), added)
        if again:
            uow.session.execute(update(RegisterRow), again)
            ids = {r["id"] for r in again}
            for obj in list(uow.session.identity_map.values()):
                if isinstance(obj, RegisterRow) and obj.id in ids:
                    uow.session.expire(obj)  # loaded earlier in this unit of work: now stale
        if history:
            uow.session.execute(insert(RegisterHistoryRow), history)

    def _step(  # noqa: PLR0917 - one history row's facts, in the columns' order
        self,
        person: domain.Person,
        version: int,
        event: str,
        effective: date,
        reason: str,
        detail: dict[str, Any],
        now: datetime,
    ) -> dict[str, Any]:
        return {"tenant_code": self.uow.tenant, "atena_number": person.atena_number,
                "version": version, "event": event, "effective": effective,
                "reason": reason[:100], "detail": detail, "recorded_at": now,
                "recorded_by": self.actor_id[:64]}  # fmt: skip


def _entry_view(row: RollEntryRow | RegisterRow, mark: str) -> EntryView:
    return EntryView(
        atena_number=row.atena_number,
        name=row.name,
        kana=row.kana,
        sex=row.sex,
        birth_date=row.birth_date,
        household_number=row.household_number,
        town=row.town,
        banchi=row.banchi,
        address=row.address,
        district=row.district,
        mark=mark,
        moved_out=row.moved_out,
        strike_on=row.strike_on,
    )


def _roll_view(row: RollRow, **extra: Any) -> RollView:
    return RollView(
        id=row.id,
        kind=row.kind,
        base_date=row.base_date,
        election_day=row.election_day,
        election_id=row.election_id,
        registered=row.registered,
        marked=row.marked,
        digest=row.digest,
        rules_version=row.rules_version,
        **extra,
    )


# ---------------------------------------------------------------- elections


def create_election(uow: UnitOfWork, ctx: Context, command: CreateElection) -> int:
    name = command.name.strip()
    if not name or len(name) > 100:
        raise InvalidError("election-name", "選挙の名称を100文字以内で入力してください。", "name")
    if command.election_day < command.base_date:
        raise InvalidError(
            "election-day-before-base", "選挙期日は登録の基準日より後の日にしてください。",
            "election_day",
        )  # fmt: skip
    row = ElectionRow(
        tenant_code=uow.tenant,
        name=name,
        base_date=command.base_date,
        election_day=command.election_day,
    )
    uow.session.add(row)
    uow.session.flush()  # the id goes into the access log record and the answer
    _audit(uow, ctx, "electoral_roll.audit.election", "create", election=row.id, name=name)
    return row.id


# ---------------------------------------------------------------- rolls (snapshots)


def check_roll(
    uow: UnitOfWork, ctx: Context, query: CheckRoll
) -> tuple[str, date, date, int | None]:
    """(kind, base date, election day, election id) of a roll that may be registered, or the
    Japanese refusal: an unknown election, a day that is not a 定時登録 base date, a base date
    in the future, a roll already fixed for it, or a base date before a fixed roll's."""
    if query.election_id is not None:
        election = uow.session.get(ElectionRow, query.election_id)
        if election is None or election.tenant_code != uow.tenant:
            raise NotFoundError(
                "election-not-found", f"選挙（番号 {query.election_id}）は登録されていません。",
                "election_id",
            )  # fmt: skip
        kind, base, day = domain.ELECTION, election.base_date, election.election_day
        same = select(RollRow.id).where(RollRow.election_id == election.id)
    else:
        if query.base_date is None:
            raise InvalidError("base-date-missing", "基準日を指定してください。", "base_date")
        base = day = query.base_date
        rules = domain.rule_book().on(base)
        if not domain.is_regular_base_date(base, rules):
            months = "・".join(f"{m}月" for m in rules.regular_months)
            raise InvalidError(
                "base-date-not-regular",
                f"定時登録の基準日は{months}の{rules.regular_day}日です"
                f"（{base.isoformat()}は基準日ではありません）。",
                "base_date",
            )
        kind = domain.REGULAR
        same = select(RollRow.id).where(RollRow.kind == kind, RollRow.base_date == base)
    if base > ctx.today:
        raise InvalidError(
            "base-date-future", f"基準日（{base.isoformat()}）が処理日より後です。", "base_date"
        )
    if uow.session.scalar(same) is not None:
        raise ConflictError(
            "roll-fixed", f"基準日 {base.isoformat()} の{kind}は既に確定しています。", "base_date"
        )
    latest = uow.session.scalar(select(func.max(RollRow.base_date)))
    if latest is not None and base < latest:
        raise ConflictError(
            "base-date-in-past",
            f"基準日 {base.isoformat()} は確定済みの名簿の基準日"
            f"（{latest.isoformat()}）より前です。確定した名簿は変更できません。",
            "base_date",
        )
    return kind, base, day, query.election_id


def register_roll(uow: UnitOfWork, ctx: Context, command: RegisterRoll) -> RollView:
    """Judge the register as of the base date, fix the roll, register the newcomers."""
    kind, base, day, election_id = check_roll(
        uow, ctx, CheckRoll(command.base_date, command.election_id)
    )
    _version, table = district_table(uow)
    rules_version = domain.rule_book().version
    roll = RollRow(
        tenant_code=uow.tenant,
        kind=kind,
        base_date=base,
        election_day=day,
        election_id=election_id,
        rules_version=rules_version,
        registered=0,
        marked=0,
        digest="",
        fixed_by=ctx.actor.id[:64],
    )
    uow.session.add(roll)
    uow.session.flush()  # the roll's id goes into each entry
    lines: list[str] = []
    counts: Counter[str] = Counter()
    without = 0
    page: list[tuple[domain.Person, domain.Judgement, str]] = []
    writer = _RollWriter(uow, ctx.actor.id, roll.id, kind, base, *_register_states(uow))

    if (command.judged.base_date, command.judged.election_day) != (base, day):
        raise InvalidError(
            "judged-for-another-day", "判定した住民記録の基準日が名簿の基準日と違います。",
            "base_date",
        )  # fmt: skip
    for person, judged in command.judged.entries:
        district = domain.district_of(table, person.town, person.banchi)
        without += not district
        counts[str(judged.mark)] += 1
        lines.append(f"{person.atena_number}\t{judged.mark}\t{judged.moved_out or ''}\t{district}")
        page.append((person, judged, district))
        if len(page) >= PAGE:
            writer.write(page)
            page = []
    if page:
        writer.write(page)
    newly = writer.newly
    lines.sort()
    roll.registered, roll.marked = counts[domain.REGISTERED], counts[domain.MARKED]
    roll.digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    _audit(
        uow, ctx, "electoral_roll.audit.roll", "create", roll=roll.id, kind=kind,
        base_date=base.isoformat(), registered=roll.registered, marked=roll.marked,
        newly_registered=newly, digest=roll.digest,
    )  # fmt: skip
    return _roll_view(roll, newly_registered=newly, not_on_roll=dict(command.judged.not_on_roll),
                      without_district=without)  # fmt: skip


def list_rolls(uow: UnitOfWork, ctx: Context, query: ListRolls) -> list[RollView]:
    rows = uow.session.scalars(
        select(RollRow).order_by(RollRow.base_date.desc(), RollRow.id.desc())
    )
    return [_roll_view(r) for r in rows]


def _roll(uow: UnitOfWork, roll_id: int) -> RollRow:
    row = uow.session.get(RollRow, roll_id)
    if row is None or row.tenant_code != uow.tenant:
        raise NotFoundError("roll-not-found", f"名簿（番号 {roll_id}）はありません。", "roll_id")
    return row


def get_roll(uow: UnitOfWork, ctx: Context, query: RollQuery) -> RollView:
    return _roll_view(_roll(uow, query.roll_id))


def roll_entries(uow: UnitOfWork, ctx: Context, query: RollQuery) -> list[EntryView]:
    """選挙人名簿抄本: one roll's entries (of one district), in the order staff expect: by
    address (町字, 番地 as a number, the written address), then household, then 宛名番号."""
    roll = _roll(uow, query.roll_id)
    stmt = select(RollEntryRow).where(RollEntryRow.roll_id == roll.id)
    if query.district is not None:
        stmt = stmt.where(RollEntryRow.district == query.district)
    entries = [_entry_view(r, r.mark) for r in uow.session.scalars(stmt)]
    entries.sort(key=_address_order)
    _audit(uow, ctx, "electoral_roll.audit.extract", "read", roll=roll.id,
           district=query.district or "", entries=len(entries),
           output=query.output)  # fmt: skip
    return entries


def extract_heading(uow: UnitOfWork, ctx: Context, query: RollQuery) -> ExtractHeading:
    """The page header of a 抄本 (PDF): one 投票区 is required (the 抄本 is kept per district)."""
    roll = _roll(uow, query.roll_id)
    if not query.district:
        raise InvalidError(
            "district-missing", "抄本（PDF）は投票区ごとに作成します。投票区を指定してください。",
            "district",
        )  # fmt: skip
    _version, table = district_table(uow)
    names = {r.district: r.name for r in table}
    return ExtractHeading(roll.id, roll.kind, roll.base_date, query.district,
                          names.get(query.district, ""))  # fmt: skip


def _address_order(e: EntryView) -> tuple[str, int, str, str, str]:
    number = domain.banchi_number(e.banchi)
    return (e.town, number if number is not None else 10**9, e.address, e.household_number,
            e.atena_number)  # fmt: skip


def roll_counts(uow: UnitOfWork, ctx: Context, query: RollQuery) -> list[CountRow]:
    """選挙人名簿登録者数: per district and sex (1 男, 2 女, others together), as published."""
    roll = _roll(uow, query.roll_id)
    _version, table = district_table(uow)
    names = {r.district: r.name for r in table}
    rows = uow.session.execute(
        select(RollEntryRow.district, RollEntryRow.sex, func.count())
        .where(RollEntryRow.roll_id == roll.id)
        .group_by(RollEntryRow.district, RollEntryRow.sex)
    )
    by: dict[str, Counter[str]] = {}
    for district, sex, n in rows:
        by.setdefault(district, Counter())[sex if sex in ("1", "2") else "9"] += n
    return [
        CountRow(d, names.get(d, d or "未設定"), c["1"], c["2"], c["9"])
        for d, c in sorted(by.items(), key=lambda kv: (kv[0] == "", kv[0]))
    ]


# ---------------------------------------------------------------- the living register


def register_entry(uow: UnitOfWork, ctx: Context, query: EntryQuery) -> RegisterView:
    row = uow.session.scalars(
        select(RegisterRow).where(RegisterRow.atena_number == query.atena_number)
    ).first()
    if row is None:
        raise NotFoundError(
            "entry-not-found", "この宛名番号の選挙人は名簿に登録されていません。", "atena_number"
        )
    history = uow.session.scalars(
        select(RegisterHistoryRow)
        .where(RegisterHistoryRow.atena_number == query.atena_number)
        .order_by(RegisterHistoryRow.version, RegisterHistoryRow.id)
    )
    _audit(uow, ctx, "electoral_roll.audit.entry", "read", subjects=[row.atena_number])
    return RegisterView(
        entry=_entry_view(row, row.state),
        state=row.state,
        registered_on=row.registered_on,
        struck_on=row.struck_on,
        strike_reason=row.strike_reason,
        history=tuple(
            HistoryView(h.version, h.event, h.effective, h.reason, dict(h.detail or {}))
            for h in history
        ),
    )


def strike_due(uow: UnitOfWork, ctx: Context, command: StrikeDue) -> list[str]:
    """抹消処理 (第28条第2号): every 表示 entry whose 4 months after the move-out have passed by
    `as_of` is struck, effective on its strike day. Running it again strikes nobody twice."""
    rows = list(
        uow.session.scalars(
            select(RegisterRow)
            .where(
                RegisterRow.state == domain.MARKED,
                RegisterRow.strike_on.is_not(None),
                RegisterRow.strike_on <= command.as_of,
            )
            .order_by(RegisterRow.atena_number)
        )
    )
    for row in rows:
        assert row.strike_on is not None
        strike_entry(uow, ctx.actor.id, row, "転出後4か月経過", row.strike_on)
    struck = [r.atena_number for r in rows]
    _audit(uow, ctx, "electoral_roll.audit.strike", "update", subjects=struck,
           as_of=command.as_of.isoformat(), struck=len(struck))  # fmt: skip
    return struck


def strike(uow: UnitOfWork, ctx: Context, command: Strike) -> RegisterView:
    """Staff's ex officio 抹消: 登録の誤り, or a 死亡/国籍喪失 known before the register says so."""
    if command.reason not in STAFF_STRIKE_REASONS:
        raise InvalidError(
            "strike-reason",
            "抹消の事由は「" + "」「".join(STAFF_STRIKE_REASONS) + "」のいずれかです。",
            "reason",
        )
    row = uow.session.scalars(
        select(RegisterRow).where(RegisterRow.atena_number == command.atena_number)
    ).first()
    if row is None:
        raise NotFoundError(
            "entry-not-found", "この宛名番号の選挙人は名簿に登録されていません。", "atena_number"
        )
    if row.state == STRUCK:
        raise ConflictError("already-struck", "この選挙人は既に抹消されています。", "atena_number")
    strike_entry(uow, ctx.actor.id, row, command.reason, command.effective)
    _audit(uow, ctx, "electoral_roll.audit.strike", "update", subjects=[row.atena_number],
           reason=command.reason)  # fmt: skip
    return register_entry(uow, ctx, EntryQuery(row.atena_number))


# ---------------------------------------------------------------- 投票区


def load_districts(uow: UnitOfWork, ctx: Context, command: LoadDistricts) -> DistrictsLoaded:
    """A new 投票区 table: refused whole with every gap and overlap (nothing written), else a new
    version; every living entry's district is re-derived and each move is historied and
    reported. Fixed rolls keep the districts they were fixed with."""
    table = domain.validate_districts(command.rows)
    version = (uow.session.scalar(select(func.max(DistrictRow.version))) or 0) + 1
    for r in table:
        uow.session.add(
            DistrictRow(
                tenant_code=uow.tenant,
                version=version,
                district=r.district,
                name=r.name,
                town=r.town,
                banchi_from=r.banchi_from,
                banchi_to=r.banchi_to,
            )
        )
    moved: list[DistrictMove] = []
    without: list[str] = []
    living = uow.session.scalars(
        select(RegisterRow).where(RegisterRow.state != STRUCK).order_by(RegisterRow.atena_number)
    )
    for row in living:
        after = domain.district_of(table, row.town, row.banchi)
        if not after:
            without.append(row.atena_number)
        if after != row.district:
            moved.append(DistrictMove(row.atena_number, row.district, after))
            add_history(uow, ctx.actor.id, row, "投票区の変更", ctx.today, "投票区の区域の変更",
                        before=row.district, after=after, table=version)  # fmt: skip
            row.district = after
    _audit(uow, ctx, "electoral_roll.audit.districts", "update", version=version,
           rows=len(table), moved=len(moved))  # fmt: skip
    return DistrictsLoaded(version, len(table), tuple(moved), tuple(without))


def current_districts(
    uow: UnitOfWork, ctx: Context, query: CurrentDistricts
) -> tuple[int, tuple[domain.DistrictRange, ...]]:
    return district_table(uow)
