"""The resident register's published bulk-load API (移行 and synthetic cities).

Why it lives here: only `kikan.residents` writes the register's tables (architecture rule), so a
migration tool hands validated persons to this module instead of inserting rows itself. The rows
written are the ones the use cases would write for the same persons, built with the same domain
functions (`validate_person`, `search_keys`, `name_keys`, `Snapshot`):

- per person one `residents_history` row, 履歴番号 1, with the full snapshot;
- the `residents_current` projection (version 1) and the `residents_name_keys` rows;
- per household a `residents_households` row with its 世帯主 (or none: 世帯主不在);
- the My Number encrypted with the key ring and its blind index (never stored in clear);
- optional 支援措置 rows.

What differs from the use cases, deliberately, is the bookkeeping per batch instead of per row:
ONE audit record per batch ("バッチ処理（データ更新）" with the count and the 宛名番号 range, not
one per person), and ONE outbox event per batch on the usual topic `residents.changed`, listing
all the batch's 宛名番号 (and the protected ones under `support_measure`, so linkage filters them
as it does for every event). Linkage consumers therefore learn about migrated persons through the
same feed and payload shape as any 異動, at the cost of one large event per batch.

How rows reach the database: SQLite gets `executemany` inserts (Core, no ORM objects per row)
inside the caller's transaction. PostgreSQL gets COPY into temporary staging tables, a set-based
duplicate check (住民票コード and 個人番号 against the register) and `INSERT … SELECT` into the
real tables (COPY cannot write to tables under row-level security, INSERT … SELECT can and is
checked by the policies). Numbers (宛名番号, 世帯番号) come from the gap-free sequences, taken once
per batch; the caller commits once per batch, so a batch is all or nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, select

from kikan.calendar import RegisterDate
from kikan.moji import search_key
from kikan.platform import audit, numbering, outbox, sequences
from kikan.platform.context import Context
from kikan.platform.crypto import MyNumber
from kikan.platform.ids import IdentifierError, make_atena_number, validate_my_number
from kikan.platform.sequences import next_values
from kikan.platform.uow import UnitOfWork
from kikan.residents.domain import (
    HEAD,
    Reason,
    Snapshot,
    Status,
    name_keys,
    search_keys,
    validate_person,
)

# The published interface of the register for 移行 (kikan.migration imports nothing else of
# kikan.residents; an import-linter contract and tests/test_module_registry.py hold it): the
# input value objects a legacy row is mapped to, and the error a rule raises.
from kikan.residents.domain import Address as Address  # noqa: PLC0414
from kikan.residents.domain import ForeignResident as ForeignResident  # noqa: PLC0414
from kikan.residents.domain import Honseki as Honseki  # noqa: PLC0414
from kikan.residents.domain import OtherAddress as OtherAddress  # noqa: PLC0414
from kikan.residents.domain import PersonInput as PersonInput  # noqa: PLC0414
from kikan.residents.domain import RegisterError as RegisterError  # noqa: PLC0414
from kikan.residents.domain import register_date as register_date  # noqa: PLC0414
from kikan.residents.module import FUNCTIONS
from kikan.residents.service._common import EVENT_TOPIC
from kikan.residents.store import (
    CurrentRow,
    HistoryRow,
    HouseholdRow,
    NameKeyRow,
    SupportMeasureRow,
)

#: Spec 3.4: a 支援措置 runs one year unless extended.
SUPPORT_KIND = "support"
_CHUNK = 500  # IN-list size for the SQLite duplicate check


@dataclass(frozen=True)
class BulkMember:
    """One person to enter. `person` must come from `validate_member` (already validated and
    normalised); `ref` is the caller's reference (e.g. the input row number) for results."""

    person: PersonInput
    ref: int
    my_number: str = ""
    became_resident_date: str = ""  # storage form (RegisterDate.to_storage); may be 不詳
    address_set_date: str = ""
    prior_address: OtherAddress | None = None
    previous_address: OtherAddress | None = None
    support_measure: tuple[date, date] | None = None  # 支援措置 (start, end)
    #: a number the person keeps (移行: the legacy 宛名番号, already validated, 15 digits);
    #: empty = a new number from the sequence
    atena_number: str = ""


@dataclass(frozen=True)
class BulkHousehold:
    address: Address
    members: Sequence[BulkMember]
    household_number: str = ""  # kept 世帯番号 (validated, 15 digits); empty = a new one


@dataclass(frozen=True)
class BulkRejected:
    ref: int
    code: str
    message: str
    item: str
    #: for a number already on the register: the 宛名番号 of the person holding it, so a
    #: caller can tell "this very person is already here" from "someone else has it"
    existing: str = ""


@dataclass
class BulkResult:
    atena_numbers: dict[int, str] = field(default_factory=dict)  # ref → 宛名番号
    household_numbers: list[str] = field(default_factory=list)
    rejected: list[BulkRejected] = field(default_factory=list)
    households: dict[int, str] = field(default_factory=dict)  # ref → 世帯番号

    @property
    def loaded(self) -> int:
        return len(self.atena_numbers)


def validate_member(person: PersonInput, my_number: str, *, today: date) -> tuple[PersonInput, str]:
    """The same checks a 転入 applies to a person (names, dates, 続柄, 住民票コード check digit,
    foreign-resident items and codes), plus the 個人番号 check digit. Raises `RegisterError`."""
    checked = validate_person(person, today=today)
    number = ""
    if my_number:
        try:
            number = validate_my_number(my_number)
        except IdentifierError as exc:
            raise RegisterError(exc.code, exc.message, "個人番号") from exc
    return checked, number


def storage_date(value: str, *, fallback: date) -> date:
    """The real day a stored (possibly 不詳) date stands for, for 異動日 columns."""
    if not value:
        return fallback
    return _date_columns(value)[0]


@lru_cache(maxsize=100_000)
def _date_columns(storage: str) -> tuple[date, str]:
    """(internal date, display) of a stored date. Pure and much repeated in a city (a few tens
    of thousands of distinct birth dates among millions of persons), so it is memoised."""
    value = RegisterDate.from_storage(storage)
    return value.internal_date, value.display()


def family_names_by_reading(uow: UnitOfWork, family_kana: str, *, limit: int = 500) -> list[str]:
    """Family names on the register read `family_kana` (for 外字同定 in a migration).

    Served by the kana-key index (prefix match on the full reading, then an exact check of the
    family part). The caller audits the use (the migration report records one audit entry)."""
    key = search_key(family_kana)
    if not key:
        return []
    rows = uow.session.execute(
        select(CurrentRow.full_name, CurrentRow.full_kana)
        .where(CurrentRow.kana_key.startswith(key, autoescape=True))
        .limit(limit)
    ).all()
    out = []
    for name, kana in rows:
        fam_kana = kana.split("　")[0]
        if search_key(fam_kana) == key:
            out.append(name.split("　")[0])
    return out


# ---------------------------------------------------------------- duplicates


def _existing(uow: UnitOfWork, column: Any, values: list[str]) -> dict[str, str]:
    """Which of `values` the tenant's register already holds in `column`, each with the
    宛名番号 of (one) person holding it."""
    found: dict[str, str] = {}
    holder = CurrentRow.atena_number
    for i in range(0, len(values), _CHUNK):
        chunk = values[i : i + _CHUNK]
        for value, atena in uow.session.execute(select(column, holder).where(column.in_(chunk))):
            found.setdefault(value, atena)
    return found


def find_holders(
    uow: UnitOfWork, juminhyo_codes: Iterable[str], blind_indexes: Iterable[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """Who on the tenant's register holds these 住民票コード / 個人番号 blind indexes: value →
    宛名番号 (the same lookup the bulk load screens with; a migration uses it to recognise
    persons it imported before)."""
    codes = sorted({c for c in juminhyo_codes if c})
    indexes = sorted({i for i in blind_indexes if i})
    if not codes and not indexes:
        return {}, {}
    if uow.db.is_postgres:
        return _existing_pg(uow, codes, indexes)
    return (
        _existing(uow, CurrentRow.juminhyo_code, codes),
        _existing(uow, CurrentRow.mynumber_index, indexes),
    )


def _existing_households(uow: UnitOfWork, numbers: list[str]) -> set[str]:
    found: set[str] = set()
    col = HouseholdRow.household_number
    for i in range(0, len(numbers), _CHUNK):
        found.update(uow.session.scalars(select(col).where(col.in_(numbers[i : i + _CHUNK]))))
    return found


def _existing_pg(
    uow: UnitOfWork, codes: list[str], indexes: list[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """Set-based duplicate check on PostgreSQL: COPY the batch's keys into a staging table and
    join it with the register once."""
    raw = _driver(uow)
    with raw.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS bulk_stage_keys (kind text, value text)"
            " ON COMMIT DELETE ROWS"
        )
        # indexed and analysed staging: whichever side the planner drives from (the register's
        # statistics lag behind a fast bulk load), every probe is an index lookup
        cur.execute("CREATE INDEX IF NOT EXISTS bulk_stage_keys_value ON bulk_stage_keys (value)")
        # a second lookup in the same transaction (find_holders, then the load's screening)
        # must not see the first one's keys: ON COMMIT DELETE ROWS only clears at commit
        cur.execute("DELETE FROM bulk_stage_keys")
        with cur.copy("COPY bulk_stage_keys (kind, value) FROM STDIN") as copy:
            for c in codes:
                copy.write_row(("j", c))
            for m in indexes:
                copy.write_row(("m", m))
        cur.execute("ANALYZE bulk_stage_keys")
        # two index joins (ix_residents_current_juminhyo / _mynumber), not one OR join
        cur.execute(
            "SELECT 'j', k.value, c.atena_number FROM bulk_stage_keys k JOIN residents_current c"
            " ON c.tenant_code = current_setting('kikan.tenant', true)"
            " AND c.juminhyo_code = k.value WHERE k.kind = 'j'"
            " UNION ALL SELECT 'm', k.value, c.atena_number"
            " FROM bulk_stage_keys k JOIN residents_current c"
            " ON c.tenant_code = current_setting('kikan.tenant', true)"
            " AND c.mynumber_index = k.value WHERE k.kind = 'm'"
        )
        rows = cur.fetchall()
    return {v: a for k, v, a in rows if k == "j"}, {v: a for k, v, a in rows if k == "m"}


def _driver(uow: UnitOfWork) -> Any:
    """The psycopg connection under the unit of work's transaction (PostgreSQL only)."""
    return uow.session.connection().connection.driver_connection


# ---------------------------------------------------------------- writing


_HISTORY_COLS = (
    "tenant_code", "atena_number", "history_no", "household_number", "status", "reason",
    "valid_from", "recorded_at", "notified_date", "operator", "terminal", "place", "note",
    "cancels_history_no", "snapshot",
)  # fmt: skip
_CURRENT_COLS = (
    "tenant_code", "atena_number", "history_no", "version", "household_number", "status",
    "resident_kind", "full_name", "full_kana", "name_key", "kana_key", "address_key",
    "address_text", "birth_sort", "birth_display", "sex", "zokugara", "juminhyo_code",
    "mynumber_index",
)  # fmt: skip
_KEY_COLS = ("tenant_code", "atena_number", "kind", "key")
_HOUSEHOLD_COLS = ("tenant_code", "household_number", "head_atena", "version", "active")


def _write(uow: UnitOfWork, table: Table, cols: Sequence[str], rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if uow.db.is_postgres:
        stage = f"bulk_stage_{table.name}"
        col_list = ", ".join(cols)
        raw = _driver(uow)
        with raw.cursor() as cur:
            cur.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS"  # noqa: S608
                f" SELECT {col_list} FROM {table.name} WITH NO DATA"
            )
            with cur.copy(f"COPY {stage} ({col_list}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row(tuple(r[c] for c in cols))
            # identifiers are this module's constants, never input
            cur.execute(f"INSERT INTO {table.name} ({col_list}) SELECT {col_list} FROM {stage}")  # noqa: S608
            cur.execute(f"DELETE FROM {stage}")  # noqa: S608
    else:
        uow.session.execute(table.insert(), rows)


_SNAPSHOT_NUMBERS = '"atena_number":"","household_number":""'


@dataclass(frozen=True)
class PreparedPerson:
    """A person's rows minus the two numbers only the writer's transaction can hand out.

    Everything here is pure CPU work (snapshot JSON, search and name keys, My Number encryption
    and blind index, date columns), so `prepare` can run in another process than the writer.
    The snapshot's JSON is kept in two parts, around the place of 宛名番号 and 世帯番号.
    """

    ref: int
    is_head: bool
    juminhyo_code: str
    blind_index: str
    mynumber: bool
    valid_from: date
    snapshot_head: str
    snapshot_tail: str
    current: dict[str, Any]  # residents_current columns except tenant and the two numbers
    keys: tuple[tuple[str, str], ...]
    support_measure: tuple[date, date] | None
    atena_number: str = ""  # kept number (see BulkMember.atena_number)


@dataclass
class PreparedBatch:
    """What `prepare` made of a batch of households: the households to write (each a list of
    persons, in input order), their kept 世帯番号 ("" = new; aligned with `households`, may be
    shorter) and the households refused outright (two 世帯主)."""

    households: list[list[PreparedPerson]] = field(default_factory=list)
    rejected: list[BulkRejected] = field(default_factory=list)
    household_numbers: list[str] = field(default_factory=list)

    def household_number(self, index: int) -> str:
        return self.household_numbers[index] if index < len(self.household_numbers) else ""

    def without(self, refs: set[int]) -> PreparedBatch:
        """The batch minus the persons `refs` (a household left empty goes too)."""
        out = PreparedBatch(rejected=[r for r in self.rejected if r.ref not in refs])
        for i, hh in enumerate(self.households):
            kept = [p for p in hh if p.ref not in refs]
            if kept:
                out.households.append(kept)
                out.household_numbers.append(self.household_number(i))
        return out


def prepare(ctx: Context, tenant: str, households: Iterable[BulkHousehold]) -> PreparedBatch:
    """The pure part of a bulk load: no database, safe to run in a worker process.

    Refuses every member of a household with two 世帯主; raises `RegisterError` when a My Number
    is present and no key ring is configured (nothing may be stored in clear)."""
    batch = PreparedBatch()
    keyring = ctx.keyring
    for hh in households:
        heads = [m for m in hh.members if m.person.zokugara == HEAD]
        if len(heads) > 1:
            batch.rejected.extend(
                BulkRejected(
                    m.ref,
                    "household.two_heads",
                    "一つの世帯に世帯主が二人以上います（世帯の全員を取り込みませんでした）。",
                    "続柄",
                )
                for m in hh.members
            )
            continue
        people: list[PreparedPerson] = []
        for m in hh.members:
            token = index = ""
            if m.my_number:
                if keyring is None:
                    raise RegisterError(
                        "mynumber.no_key", "個人番号の暗号鍵が設定されていません。", "個人番号"
                    )
                token = keyring.encrypt_my_number(MyNumber(m.my_number), context=tenant)
                index = keyring.blind_index(m.my_number, context=tenant)
            people.append(_prepare_person(ctx, m, hh.address, token=token, blind_index=index))
        batch.households.append(people)
        batch.household_numbers.append(hh.household_number)
    return batch


def _prepare_person(
    ctx: Context, m: BulkMember, address: Address, *, token: str, blind_index: str
) -> PreparedPerson:
    snap = Snapshot(
        **m.person.model_dump(),
        atena_number="",
        household_number="",
        status=Status.RESIDENT,
        address=address,
        became_resident_date=m.became_resident_date,
        address_set_date=m.address_set_date,
        prior_address=m.prior_address,
        previous_address=m.previous_address,
        my_number_token=token,
    )
    # pydantic's own JSON (the register's column format); the two numbers are left empty and
    # cut out here, to be put back by the writer (`_SNAPSHOT_NUMBERS` can only match the real
    # keys: a quote inside any string value would be escaped)
    head, numbers, tail = snap.model_dump_json().partition(_SNAPSHOT_NUMBERS)
    if not numbers or _SNAPSHOT_NUMBERS in tail:
        raise AssertionError("snapshot JSON without exactly one pair of empty numbers")
    birth_sort, birth_display = _date_columns(snap.birth_date)
    return PreparedPerson(
        ref=m.ref,
        is_head=snap.is_head,
        juminhyo_code=snap.juminhyo_code,
        blind_index=blind_index,
        mynumber=bool(token),
        valid_from=storage_date(m.address_set_date, fallback=ctx.today),
        snapshot_head=head,
        snapshot_tail=tail,
        current={
            "history_no": 1,
            "version": 1,
            "status": Status.RESIDENT.value,
            "resident_kind": snap.resident_kind,
            "full_name": snap.full_name,
            "full_kana": snap.full_kana,
            "address_text": snap.address.text(),
            "birth_sort": birth_sort,
            "birth_display": birth_display,
            "sex": snap.sex,
            "zokugara": snap.zokugara,
            "juminhyo_code": snap.juminhyo_code,
            "mynumber_index": blind_index,
            **search_keys(snap),
        },
        keys=tuple(name_keys(snap).items()),
        support_measure=m.support_measure,
        atena_number=m.atena_number,
    )


def _screen(
    uow: UnitOfWork, batch: PreparedBatch, result: BulkResult
) -> list[tuple[str, list[PreparedPerson]]]:
    """Drop persons whose 住民票コード, 個人番号 or kept 宛名番号 is already on the register or
    repeated in the batch, and households whose kept 世帯番号 is (rejects go to `result`, with
    the holder's 宛名番号 when it is on the register). Returns (kept 世帯番号, persons) pairs."""
    people = [p for hh in batch.households for p in hh]
    codes = sorted({p.juminhyo_code for p in people if p.juminhyo_code})
    indexes = sorted({p.blind_index for p in people if p.blind_index})
    atenas = sorted({p.atena_number for p in people if p.atena_number})
    homes = sorted({n for n in batch.household_numbers if n})
    if uow.db.is_postgres and (codes or indexes):
        dup_codes, dup_indexes = _existing_pg(uow, codes, indexes)
    else:
        dup_codes = _existing(uow, CurrentRow.juminhyo_code, codes)
        dup_indexes = _existing(uow, CurrentRow.mynumber_index, indexes)
    dup_atenas = _existing(uow, CurrentRow.atena_number, atenas) if atenas else {}
    dup_homes = _existing_households(uow, homes) if homes else set()

    kept: list[tuple[str, list[PreparedPerson]]] = []
    for i, hh in enumerate(batch.households):
        number = batch.household_number(i)
        if number and number in dup_homes:
            result.rejected.extend(
                BulkRejected(
                    p.ref,
                    "household_number.used",
                    f"世帯番号（{number}）は既に登録されている世帯の番号か、入力内で重複しています"
                    "（世帯の全員を取り込みませんでした）。",
                    "世帯番号",
                )
                for p in hh
            )
            continue
        ok: list[PreparedPerson] = []
        for p in hh:
            rejected = _duplicate(p, dup_codes, dup_indexes, dup_atenas)
            if rejected is not None:
                result.rejected.append(rejected)
                continue
            if p.juminhyo_code:
                dup_codes[p.juminhyo_code] = ""
            if p.blind_index:
                dup_indexes[p.blind_index] = ""
            if p.atena_number:
                dup_atenas[p.atena_number] = ""
            ok.append(p)
        if ok:
            if number:
                dup_homes.add(number)
            kept.append((number, ok))
    return kept


def _duplicate(
    p: PreparedPerson,
    codes: dict[str, str],
    indexes: dict[str, str],
    atenas: dict[str, str],
) -> BulkRejected | None:
    """The reject for a person whose numbers are taken (value "" = taken earlier in the batch)."""
    if p.atena_number and p.atena_number in atenas:
        return BulkRejected(
            p.ref,
            "atena_number.used",
            f"宛名番号（{p.atena_number}）は既に他の住民に使われているか、入力内で重複しています。",
            "宛名番号",
            atenas[p.atena_number],
        )
    if p.juminhyo_code and p.juminhyo_code in codes:
        return BulkRejected(
            p.ref,
            "person.duplicate",
            f"同じ住民票コード（{p.juminhyo_code}）の住民が既に登録されているか、"
            "入力内で重複しています。",
            "住民票コード",
            codes[p.juminhyo_code],
        )
    if p.blind_index and p.blind_index in indexes:
        return BulkRejected(
            p.ref,
            "person.duplicate",
            "同じ個人番号の住民が既に登録されているか、入力内で重複しています。",
            "個人番号",
            indexes[p.blind_index],
        )
    return None


def _serial(number: str) -> int:
    return int(number[:-1])


def reserve_numbers(uow: UnitOfWork, *, atena_serial: int = 0, household_serial: int = 0) -> None:
    """Move the gap-free 宛名番号 / 世帯番号 sequences past kept legacy numbers, so the numbers
    handed out later continue after the highest kept one and never collide with it. Idempotent
    (a sequence already further along is left alone); in the caller's transaction."""
    if atena_serial > 0:  # the tenant's one 宛名番号 space (kikan.platform.numbering)
        numbering.keep_atena_serial(uow, atena_serial)
    if household_serial > 0:
        sequences.advance_past(uow, "residents.setai", household_serial)


@dataclass
class _Rows:
    history: list[dict[str, Any]] = field(default_factory=list)
    current: list[dict[str, Any]] = field(default_factory=list)
    keys: list[dict[str, Any]] = field(default_factory=list)
    homes: list[dict[str, Any]] = field(default_factory=list)
    protected: list[str] = field(default_factory=list)
    measures: list[SupportMeasureRow] = field(default_factory=list)
    mynumber: bool = False


def load(
    uow: UnitOfWork,
    ctx: Context,
    households: Iterable[BulkHousehold],
    *,
    label: str,
    reason: Reason = Reason.EX_OFFICIO_ENTRY,
) -> BulkResult:
    """Enter whole households of validated persons in the caller's transaction (one batch).

    Persons whose 住民票コード or 個人番号 is already on the register, or repeats within the batch,
    are rejected (not written) and returned in `BulkResult.rejected`; so is every member of a
    household with two 世帯主. The caller commits; nothing is written if it does not.
    """
    return load_prepared(uow, ctx, prepare(ctx, uow.tenant, households), label=label, reason=reason)


def load_prepared(
    uow: UnitOfWork,
    ctx: Context,
    batch: PreparedBatch,
    *,
    label: str,
    reason: Reason = Reason.EX_OFFICIO_ENTRY,
) -> BulkResult:
    """`load` for a batch `prepare` made (possibly in another process): the database part only
    — duplicate screening, numbering from the gap-free sequences, writing, audit and outbox."""
    result = BulkResult(rejected=list(batch.rejected))
    kept = _screen(uow, batch, result)
    count = sum(len(ok) for _n, ok in kept)
    if not count:
        return result
    tenant = uow.tenant
    postgres = uow.db.is_postgres
    kept_atenas = [p.atena_number for _n, ok in kept for p in ok if p.atena_number]
    kept_homes = [n for n, _ok in kept if n]
    reserve_numbers(
        uow,
        atena_serial=max(map(_serial, kept_atenas), default=0),
        household_serial=max(map(_serial, kept_homes), default=0),
    )
    new_atenas = count - len(kept_atenas)
    new_homes = len(kept) - len(kept_homes)
    atenas = iter(numbering.next_atena_numbers(uow, new_atenas) if new_atenas else [])
    home_serials = iter(next_values(uow, "residents.setai", new_homes) if new_homes else [])
    note = f"データ移行（{label}）"
    rows = _Rows()
    for number, ok in kept:
        household = number or make_atena_number(next(home_serials), 15, item="世帯番号")
        head: str | None = None
        for p in ok:
            atena = p.atena_number or next(atenas)
            snapshot = (
                f'{p.snapshot_head}"atena_number":"{atena}",'
                f'"household_number":"{household}"{p.snapshot_tail}'
            )
            rows.history.append(
                {
                    "tenant_code": tenant,
                    "atena_number": atena,
                    "history_no": 1,
                    "household_number": household,
                    "status": Status.RESIDENT.value,
                    "reason": reason.value,
                    "valid_from": p.valid_from,
                    "recorded_at": ctx.now,
                    "notified_date": None,
                    "operator": ctx.actor.id,
                    "terminal": ctx.actor.terminal,
                    "place": ctx.actor.place,
                    "note": note,
                    "cancels_history_no": None,
                    "snapshot": snapshot if postgres else json.loads(snapshot),
                }
            )
            rows.current.append(
                {
                    "tenant_code": tenant,
                    "atena_number": atena,
                    "household_number": household,
                    **p.current,
                }
            )
            rows.keys.extend(
                {"tenant_code": tenant, "atena_number": atena, "kind": kind, "key": key}
                for kind, key in p.keys
            )
            rows.mynumber = rows.mynumber or p.mynumber
            if p.support_measure is not None:
                start, end = p.support_measure
                rows.protected.append(atena)
                rows.measures.append(
                    SupportMeasureRow(
                        tenant_code=tenant,
                        atena_number=atena,
                        kind=SUPPORT_KIND,
                        start_date=start,
                        end_date=end,
                        perpetrators=[],
                        note=note,
                        created_by=ctx.actor.id,
                        created_at=ctx.now,
                    )
                )
            if p.is_head:
                head = atena
            result.atena_numbers[p.ref] = atena
            result.households[p.ref] = household
        rows.homes.append(
            {
                "tenant_code": tenant,
                "household_number": household,
                "head_atena": head,
                "version": 1,
                "active": True,
            }
        )
        result.household_numbers.append(household)

    _write(uow, HouseholdRow.__table__, _HOUSEHOLD_COLS, rows.homes)  # type: ignore[arg-type]
    _write(uow, HistoryRow.__table__, _HISTORY_COLS, rows.history)  # type: ignore[arg-type]
    _write(uow, CurrentRow.__table__, _CURRENT_COLS, rows.current)  # type: ignore[arg-type]
    _write(uow, NameKeyRow.__table__, _KEY_COLS, rows.keys)  # type: ignore[arg-type]
    if rows.measures:
        uow.session.add_all(rows.measures)
    _announce(uow, ctx, result, rows, label=label, reason=reason)
    # written before the next batch goes in through the driver's cursor (COPY), no autoflush
    uow.session.flush()
    return result


def _announce(
    uow: UnitOfWork, ctx: Context, result: BulkResult, rows: _Rows, *, label: str, reason: Reason
) -> None:
    """ONE outbox event and ONE audit record for the whole batch."""
    loaded = list(result.atena_numbers.values())
    today = ctx.today.isoformat()
    outbox.emit(
        uow,
        EVENT_TOPIC,
        {
            "tenant": uow.tenant,
            "atena_numbers": loaded,
            "household_numbers": result.household_numbers,
            "reason": reason.value,
            "valid_from": today,
            "processed_on": today,
            "support_measure": rows.protected,
            "bulk": {"label": label, "count": len(loaded)},
        },
    )
    audit.append(
        uow,
        ctx.actor,
        audit.AuditEvent(
            category="operation",
            action="batch.update",
            function=FUNCTIONS.entry("residents.bulk_import"),
            mynumber_accessed=rows.mynumber,
            detail={
                "label": label,
                "count": len(loaded),
                "households": len(result.household_numbers),
                "atena_first": loaded[0],
                "atena_last": loaded[-1],
                "support_measures": len(rows.protected),
                "rejected": len(result.rejected),
            },
        ),
    )
