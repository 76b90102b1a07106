"""`kikan import legacy`: resumable, batch-atomic import of legacy exports.

One file is cut into batches deterministically (every `batch_size` rows, extended to the end of
the household in progress, so a household never straddles two batches). Each batch is ONE
transaction: its residents (through `kikan.residents.bulk`), its rejects, its ledger row and the
file's running totals commit together or not at all. A rerun after any crash, SIGKILL included,
reads the ledger, skips the committed batches and carries on: nothing twice, nothing lost.

Every data row ends as imported or rejected (with a Japanese reason); the totals are printed and
stored in `migration_files`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update

from kikan.migration.legacy import (
    ORIGINAL,
    Mapping,
    MappingError,
    RawRow,
    Reader,
    count_lines,
    file_sha256,
)
from kikan.migration.parallel import default_workers, ordered_map
from kikan.migration.records import (
    WORKLIST_RULES,
    Cleansing,
    RowReject,
    legacy_number,
    to_member,
)
from kikan.migration.store import (
    SYNTH_MAPPING,
    ImportBatchRow,
    ImportFileRow,
    ImportRejectRow,
    MigrationPersonRow,
)
from kikan.platform.context import Context
from kikan.platform.crypto import redact_my_numbers
from kikan.platform.db import utcnow
from kikan.platform.uow import Database, UnitOfWork
from kikan.residents.bulk import (
    Address,
    BulkHousehold,
    BulkMember,
    PreparedBatch,
    find_holders,
    load_prepared,
    prepare,
    reserve_numbers,
)

ProgressFn = Callable[[int], None]


@dataclass
class FileOutcome:
    path: Path
    sha256: str
    total: int = 0
    imported: int = 0
    rejected: int = 0
    present: int = 0
    worklist: int = 0
    batches: int = 0
    skipped_batches: int = 0
    resumed: bool = False
    cleansing: dict[str, int] = field(default_factory=dict)


def batches(reader: Reader, size: int) -> Iterator[tuple[int, list[RawRow]]]:
    """Deterministic batches: `size` rows, then up to the end of the current household."""
    batch: list[RawRow] = []
    last_key: bytes | None = None
    number = 0
    for raw in reader.rows():
        key = reader.household_key(raw)
        if len(batch) >= size and key != last_key:
            number += 1
            yield number, batch
            batch = []
        batch.append(raw)
        last_key = key
    if batch:
        number += 1
        yield number, batch


def _raw_text(raw: RawRow, reader: Reader) -> str:
    """The row as text for the reject list with the 個人番号 field masked (and any other
    12-digit My Number redacted): a My Number is never stored in clear."""
    m = reader.mapping
    data = raw.data
    spec = m.fields.get("my_number")
    if spec is not None and m.format == "fixed":
        cut = min(spec.length, max(0, len(data) - spec.start))
        data = data[: spec.start] + b"*" * cut + data[spec.start + spec.length :]
    elif spec is not None and "my_number" in reader.columns:
        parts = data.split(m.delimiter.encode())
        idx = reader.columns["my_number"]
        if idx < len(parts):
            parts[idx] = b"************"
        data = m.delimiter.encode().join(parts)
    return redact_my_numbers(data.decode(m.encoding, errors="replace"))[:2000]


@dataclass
class Prepared:
    """A batch as the writer receives it from `prepare_batch`."""

    batch: PreparedBatch
    rejects: list[dict[str, Any]]
    counts: dict[str, int]
    #: row → legacy numbers and texts as read (for `migration_persons`)
    persons: dict[int, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class NumberScan:
    """What a first pass over the file's number columns found (deterministic per file, so
    every run, resumed or not, cuts and judges the rows the same way)."""

    duplicates: dict[int, tuple[int, ...]] = field(default_factory=dict)  # row → other rows
    atena_serial: int = 0  # highest kept 宛名番号 serial
    household_serial: int = 0  # highest kept 世帯番号 serial


def _kept_serial(text: str) -> int:
    """The serial of a legacy number that would be kept, or 0 if it would be rejected."""
    try:
        return int(legacy_number(text, "atena_number", keep=True)[:-1])
    except RowReject:
        return 0


def scan_numbers(reader: Reader) -> NumberScan:
    """One pass over the 宛名番号 / 世帯番号 columns: legacy 宛名番号 used by more than one row
    (each such row is rejected, naming the others: which one is right is not ours to guess),
    and the highest kept numbers (the sequences continue after them)."""
    m = reader.mapping
    if "atena_number" not in m.fields and not m.keeps("household_number"):
        return NumberScan()
    rows_of: dict[str, list[int]] = {}
    atena_serial = household_serial = 0
    for raw in reader.rows():
        atena = reader.field_text(raw, "atena_number").strip(" \u3000")
        if atena:
            key = atena.translate(_FULLWIDTH).lstrip("0")
            rows_of.setdefault(key, []).append(raw.row_no)
            if m.keeps("atena_number"):
                atena_serial = max(atena_serial, _kept_serial(atena))
        if m.keeps("household_number"):
            home = reader.field_text(raw, "household_number").strip(" \u3000")
            if home:
                household_serial = max(household_serial, _kept_serial(home))
    duplicates = {
        row: tuple(r for r in rows if r != row)
        for rows in rows_of.values()
        if len(rows) > 1
        for row in rows
    }
    return NumberScan(duplicates, atena_serial, household_serial)


_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


def _reject(raw: RawRow, rej: RowReject) -> dict[str, Any]:
    return {
        "row_no": raw.row_no,
        "rule": rej.rule,
        "reason": rej.reason,
        "item": rej.item,
        "detail": rej.detail or {},
        "outcome": "worklist" if rej.rule in WORKLIST_RULES else "rejected",
    }


def _rows_text(rows: tuple[int, ...]) -> str:
    return "・".join(f"第{r}行" for r in rows[:5]) + ("ほか" if len(rows) > 5 else "")


def prepare_batch(
    reader: Reader,
    tenant: str,
    ctx: Context,
    rows: Sequence[RawRow],
    scan: NumberScan | None = None,
) -> Prepared:
    """Decode, validate and prepare a batch's rows: the pure part, run in a worker process.

    Rows that fail become reject dicts; the rest are grouped into households (consecutive rows
    with the same household key) and prepared for the bulk API. Legacy numbers are checked
    here (check digit, kept or cross-referenced as the mapping says).
    """
    m = reader.mapping
    scan = scan or NumberScan()
    clean = Cleansing()
    rejects: list[dict[str, Any]] = []
    persons: dict[int, dict[str, Any]] = {}
    households: list[BulkHousehold] = []
    current_key: str | None = None
    members: list[BulkMember] = []
    address: Address | None = None
    home = ""

    def close() -> None:
        if members and address is not None:
            households.append(
                BulkHousehold(address=address, members=list(members), household_number=home)
            )

    for raw in rows:
        try:
            rec = reader.decode(raw, clean)
            if not rec.get("city_code"):
                rec["city_code"] = tenant
            legacy_atena = legacy_home = ""
            if rec.get("atena_number"):
                legacy_atena = legacy_number(
                    rec["atena_number"],
                    "atena_number",
                    keep=m.keeps("atena_number"),
                    check=m.check_digits,
                )
                if raw.row_no in scan.duplicates:
                    others = scan.duplicates[raw.row_no]
                    raise RowReject(
                        "atena_number.duplicate",
                        f"宛名番号が同じファイルの{_rows_text(others)}と重複しています"
                        f"（第{raw.row_no}行と{_rows_text(others)}のどれも取り込みませんでした。"
                        "正しい行を確かめてください）。",
                        "宛名番号",
                        {"rows": [raw.row_no, *others]},
                    )
            if rec.get("household_number"):
                legacy_home = legacy_number(
                    rec["household_number"],
                    "household_number",
                    keep=m.keeps("household_number"),
                    check=m.check_digits,
                )
            member, addr = to_member(rec, ref=raw.row_no, today=ctx.today, clean=clean)
        except RowReject as rej:
            rejects.append(_reject(raw, rej))
            continue
        if legacy_atena and m.keeps("atena_number"):
            member = replace(member, atena_number=legacy_atena)
        persons[raw.row_no] = {
            "legacy_atena": legacy_atena,
            "legacy_household": legacy_home,
            "original": {
                k.removeprefix(ORIGINAL): v for k, v in rec.items() if k.startswith(ORIGINAL)
            },
        }
        key = rec["household_key"]
        if key != current_key:
            close()
            members, address, current_key = [], addr, key
            home = legacy_home if m.keeps("household_number") else ""
        members.append(member)
    close()
    return Prepared(prepare(ctx, tenant, households), rejects, dict(clean.counts), persons)


def _already_present(uow: UnitOfWork, prepared: Prepared, sha: str) -> dict[int, tuple[str, str]]:
    """Rows of this batch whose person an earlier import (another file, or an earlier version
    of this one) already entered: found by legacy 宛名番号, else by 住民票コード or 個人番号 held
    by a migrated person. Row → (item matched, 宛名番号). A person entered from this very file
    is not "present" but a duplicate inside the file, which is rejected."""
    session = uow.session
    people = [p for hh in prepared.batch.households for p in hh]
    present: dict[int, tuple[str, str]] = {}
    legacy = {
        info["legacy_atena"]: row for row, info in prepared.persons.items() if info["legacy_atena"]
    }
    if legacy:
        for legacy_atena, atena in session.execute(
            select(MigrationPersonRow.legacy_atena, MigrationPersonRow.atena_number).where(
                MigrationPersonRow.legacy_atena.in_(list(legacy)),
                MigrationPersonRow.file_sha256 != sha,
            )
        ):
            present[legacy[legacy_atena]] = ("宛名番号", atena)
    codes, indexes = find_holders(
        uow,
        (p.juminhyo_code for p in people if p.ref not in present),
        (p.blind_index for p in people if p.ref not in present),
    )
    holders = set(codes.values()) | set(indexes.values())
    if holders:
        migrated = set(
            session.scalars(
                select(MigrationPersonRow.atena_number).where(
                    MigrationPersonRow.atena_number.in_(sorted(holders)),
                    MigrationPersonRow.file_sha256 != sha,
                )
            )
        )
        for p in people:
            if p.ref in present:
                continue
            if codes.get(p.juminhyo_code) in migrated:
                present[p.ref] = ("住民票コード", codes[p.juminhyo_code])
            elif indexes.get(p.blind_index) in migrated:
                present[p.ref] = ("個人番号", indexes[p.blind_index])
    return present


def _commit_batch(  # noqa: PLR0917 - the batch's whole context, named at the one call site
    db: Database,
    tenant: str,
    ctx: Context,
    path: Path,
    sha: str,
    reader: Reader,
    batch: tuple[int, list[RawRow]],
    prepared: Prepared,
    *,
    look_back: bool = True,
) -> None:
    """Write one prepared batch: its residents, rejects, ledger row and the file's running
    totals, in ONE transaction (all or nothing: the resume unit). Persons already entered by
    an earlier import are recognised by content and counted as present, not entered twice."""
    number, rows = batch
    rejects = list(prepared.rejects)
    by_row = {r.row_no: r for r in rows}
    with db.unit_of_work(tenant) as uow:
        present = _already_present(uow, prepared, sha) if look_back else {}
        for row_no, (item, atena) in sorted(present.items()):
            rejects.append(
                {
                    "row_no": row_no,
                    "rule": "person.present",
                    "reason": f"この人は既に取り込まれています（{item}で照合、宛名番号 {atena}）。",
                    "item": item,
                    "detail": {"atena_number": atena},
                    "outcome": "present",
                }
            )
        partly = {
            p.ref
            for hh in prepared.batch.households
            if any(p.ref in present for p in hh)
            for p in hh
            if p.ref not in present
        }
        for row_no in sorted(partly):
            rejects.append(
                {
                    "row_no": row_no,
                    "rule": "household.partly_present",
                    "reason": "同じ世帯の他の人が既に取り込まれています。世帯への追加は"
                    "異動の届出（転入・世帯変更）として窓口で行ってください。",
                    "item": "世帯",
                    "detail": {},
                    "outcome": "rejected",
                }
            )
        to_load = prepared.batch.without(set(present) | partly)
        result = load_prepared(uow, ctx, to_load, label=f"{path.name} 第{number}バッチ")
        rejects.extend(
            {
                "row_no": r.ref,
                "rule": r.code,
                "reason": r.message,
                "item": r.item,
                "detail": {},
                "outcome": "rejected",
            }
            for r in result.rejected
        )
        if result.atena_numbers:
            uow.session.execute(
                insert(MigrationPersonRow),
                [
                    {
                        "tenant_code": tenant,
                        "atena_number": atena,
                        "household_number": result.households[row_no],
                        "legacy_atena": prepared.persons[row_no]["legacy_atena"],
                        "legacy_household": prepared.persons[row_no]["legacy_household"],
                        "file_sha256": sha,
                        "row_no": row_no,
                        "original": prepared.persons[row_no]["original"],
                        "imported_at": ctx.now,
                    }
                    for row_no, atena in result.atena_numbers.items()
                ],
            )
        if rejects:
            uow.session.execute(
                insert(ImportRejectRow),
                [
                    {
                        **rj,
                        "tenant_code": tenant,
                        "file_sha256": sha,
                        "batch_no": number,
                        "raw": _raw_text(by_row[rj["row_no"]], reader),
                    }
                    for rj in rejects
                ],
            )
        tally = Counter(rj["outcome"] for rj in rejects)
        uow.session.add(
            ImportBatchRow(
                tenant_code=tenant,
                file_sha256=sha,
                batch_no=number,
                first_row=rows[0].row_no,
                last_row=rows[-1].row_no,
                imported=result.loaded,
                rejected=tally["rejected"],
                present=tally["present"],
                worklist=tally["worklist"],
                status="committed",
                committed_at=utcnow(),
            )
        )
        file_row = uow.session.scalars(
            select(ImportFileRow).where(ImportFileRow.file_sha256 == sha).with_for_update()
        ).one()
        merged = dict(file_row.cleansing or {})
        for k, v in prepared.counts.items():
            merged[k] = merged.get(k, 0) + v
        uow.session.execute(
            update(ImportFileRow)
            .where(ImportFileRow.file_sha256 == sha)
            .values(
                imported=ImportFileRow.imported + result.loaded,
                rejected=ImportFileRow.rejected + tally["rejected"],
                present=ImportFileRow.present + tally["present"],
                worklist=ImportFileRow.worklist + tally["worklist"],
                cleansing=merged,
            )
        )
        uow.commit()


def _other_imports(uow: UnitOfWork, sha: str) -> bool:
    """Has another import (not this file, not a synthetic city) entered anyone here?"""
    return (
        uow.session.scalars(
            select(ImportFileRow.file_sha256)
            .where(
                ImportFileRow.file_sha256 != sha,
                ImportFileRow.mapping_sha256 != SYNTH_MAPPING,
                ImportFileRow.imported > 0,
            )
            .limit(1)
        ).first()
        is not None
    )


def import_file(
    db: Database,
    tenant: str,
    path: Path,
    mapping: Mapping,
    *,
    ctx: Context,
    progress: ProgressFn | None = None,
    workers: int | None = None,
) -> FileOutcome:
    """Import one file, resuming after its last committed batch.

    `workers` processes prepare the next batches while this one writes (default: one per core,
    see `kikan.migration.parallel`; 0 prepares in this process). The result is the same either
    way: same numbers for the same rows, same rejects, same totals.
    """
    if workers is None:
        workers = default_workers()
    sha = file_sha256(path)
    outcome = FileOutcome(path, sha)
    with db.unit_of_work(tenant) as uow:
        row = uow.session.get(ImportFileRow, (tenant, sha))
        if row is None:
            row = ImportFileRow(
                tenant_code=tenant,
                file_sha256=sha,
                name=path.name[:400],
                mapping_sha256=mapping.sha256,
                batch_size=mapping.batch_size,
                imported=0,
                rejected=0,
                status="running",
                cleansing={},
            )
            uow.session.add(row)
        else:
            outcome.resumed = True
            if row.status != "done" and row.mapping_sha256 != mapping.sha256:
                raise MappingError(
                    f"{path.name} は別の対応表で取込中です。同じ対応表で再実行してください"
                    "（行の読み方が変わると、取込済みのバッチと重複・欠落が生じるため）。"
                )
        size = row.batch_size  # the batches of a file never change once started
        finished = row.status == "done"
        # persons can only be "already present" when another import entered someone: on the
        # tenant's first file the per-batch lookup is skipped (a 1M-row file saves a join each)
        look_back = _other_imports(uow, sha)
        done = set(
            uow.session.scalars(
                select(ImportBatchRow.batch_no).where(ImportBatchRow.file_sha256 == sha)
            )
        )
        uow.commit()
    reader = Reader(path, mapping)
    scan = NumberScan() if finished else scan_numbers(reader)
    if scan.atena_serial or scan.household_serial:
        # before any new number is handed out: new numbers continue after the highest kept one
        with db.unit_of_work(tenant) as uow:
            reserve_numbers(
                uow, atena_serial=scan.atena_serial, household_serial=scan.household_serial
            )
            uow.commit()
    tick = progress or (lambda _n: None)
    last_row = 0

    def todo() -> Iterator[tuple[int, list[RawRow]]]:
        nonlocal last_row
        for number, rows in batches(reader, size):
            last_row = rows[-1].row_no
            if number in done:
                outcome.skipped_batches += 1
                tick(len(rows))
                continue
            yield number, rows

    work = partial(_prepare_job, reader, tenant, ctx, scan)
    for (number, rows), prepared in ordered_map(work, todo(), workers=workers):
        _commit_batch(
            db, tenant, ctx, path, sha, reader, (number, rows), prepared, look_back=look_back
        )
        outcome.batches += 1
        tick(len(rows))
    _finish(db, tenant, outcome, last_row)
    return outcome


def _finish(db: Database, tenant: str, outcome: FileOutcome, last_row: int) -> None:
    """Mark the file done (once) and read its totals into `outcome`."""
    with db.unit_of_work(tenant) as uow:
        file_row = uow.session.scalars(
            select(ImportFileRow)
            .where(ImportFileRow.file_sha256 == outcome.sha256)
            .with_for_update()
        ).one()
        if file_row.status != "done":
            file_row.status = "done"
            file_row.total_rows = last_row
            file_row.finished_at = utcnow()
        outcome.total = file_row.total_rows or last_row
        outcome.imported = file_row.imported
        outcome.rejected = file_row.rejected
        outcome.present = file_row.present
        outcome.worklist = file_row.worklist
        outcome.cleansing = dict(file_row.cleansing or {})
        uow.commit()


def _prepare_job(
    reader: Reader, tenant: str, ctx: Context, scan: NumberScan, job: tuple[int, list[RawRow]]
) -> Prepared:
    return prepare_batch(reader, tenant, ctx, job[1], scan)


def total_rows(paths: Sequence[Path]) -> int:
    """Line count of the inputs, for the progress bar (CSV header lines included: an estimate)."""
    return sum(count_lines(p) for p in paths)
