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

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update

from kikan.migration.legacy import (
    Mapping,
    MappingError,
    RawRow,
    Reader,
    count_lines,
    file_sha256,
)
from kikan.migration.parallel import default_workers, ordered_map
from kikan.migration.records import Cleansing, RowReject, to_member
from kikan.migration.store import ImportBatchRow, ImportFileRow, ImportRejectRow
from kikan.platform.crypto import redact_my_numbers
from kikan.platform.db import utcnow
from kikan.platform.uow import Database
from kikan.residents.bulk import BulkHousehold, BulkMember, PreparedBatch, load_prepared, prepare
from kikan.residents.domain import Address
from kikan.residents.service import Context

ProgressFn = Callable[[int], None]


@dataclass
class FileOutcome:
    path: Path
    sha256: str
    total: int = 0
    imported: int = 0
    rejected: int = 0
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


def prepare_batch(reader: Reader, tenant: str, ctx: Context, rows: Sequence[RawRow]) -> Prepared:
    """Decode, validate and prepare a batch's rows: the pure part, run in a worker process.

    Rows that fail become reject dicts; the rest are grouped into households (consecutive rows
    with the same household key) and prepared for the bulk API.
    """
    clean = Cleansing()
    rejects: list[dict[str, Any]] = []
    households: list[BulkHousehold] = []
    current_key: str | None = None
    members: list[BulkMember] = []
    address: Address | None = None

    def close() -> None:
        if members and address is not None:
            households.append(BulkHousehold(address=address, members=list(members)))

    for raw in rows:
        try:
            rec = reader.decode(raw, clean)
            if not rec.get("city_code"):
                rec["city_code"] = tenant
            member, addr = to_member(rec, ref=raw.row_no, today=ctx.today, clean=clean)
        except RowReject as rej:
            rejects.append(
                {
                    "row_no": raw.row_no,
                    "rule": rej.rule,
                    "reason": rej.reason,
                    "item": rej.item,
                    "detail": rej.detail or {},
                }
            )
            continue
        key = rec["household_key"]
        if key != current_key:
            close()
            members, address, current_key = [], addr, key
        members.append(member)
    close()
    return Prepared(prepare(ctx, tenant, households), rejects, dict(clean.counts))


def _commit_batch(  # noqa: PLR0917 - the batch's whole context, named at the one call site
    db: Database,
    tenant: str,
    ctx: Context,
    path: Path,
    sha: str,
    reader: Reader,
    batch: tuple[int, list[RawRow]],
    prepared: Prepared,
) -> None:
    """Write one prepared batch: its residents, rejects, ledger row and the file's running
    totals, in ONE transaction (all or nothing: the resume unit)."""
    number, rows = batch
    rejects = prepared.rejects
    by_row = {r.row_no: r for r in rows}
    with db.unit_of_work(tenant) as uow:
        result = load_prepared(uow, ctx, prepared.batch, label=f"{path.name} 第{number}バッチ")
        for r in result.rejected:
            rejects.append(
                {
                    "row_no": r.ref,
                    "rule": r.code,
                    "reason": r.message,
                    "item": r.item,
                    "detail": {},
                }
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
        uow.session.add(
            ImportBatchRow(
                tenant_code=tenant,
                file_sha256=sha,
                batch_no=number,
                first_row=rows[0].row_no,
                last_row=rows[-1].row_no,
                imported=result.loaded,
                rejected=len(rejects),
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
                rejected=ImportFileRow.rejected + len(rejects),
                cleansing=merged,
            )
        )
        uow.commit()


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
        done = set(
            uow.session.scalars(
                select(ImportBatchRow.batch_no).where(ImportBatchRow.file_sha256 == sha)
            )
        )
        uow.commit()
    reader = Reader(path, mapping)
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

    work = partial(_prepare_job, reader, tenant, ctx)
    for (number, rows), prepared in ordered_map(work, todo(), workers=workers):
        _commit_batch(db, tenant, ctx, path, sha, reader, (number, rows), prepared)
        outcome.batches += 1
        tick(len(rows))
    with db.unit_of_work(tenant) as uow:
        file_row = uow.session.scalars(
            select(ImportFileRow).where(ImportFileRow.file_sha256 == sha).with_for_update()
        ).one()
        if file_row.status != "done":
            file_row.status = "done"
            file_row.total_rows = last_row
            file_row.finished_at = utcnow()
        outcome.total = file_row.total_rows or last_row
        outcome.imported = file_row.imported
        outcome.rejected = file_row.rejected
        outcome.cleansing = dict(file_row.cleansing or {})
        uow.commit()
    return outcome


def _prepare_job(
    reader: Reader, tenant: str, ctx: Context, job: tuple[int, list[RawRow]]
) -> Prepared:
    return prepare_batch(reader, tenant, ctx, job[1])


def total_rows(paths: Sequence[Path]) -> int:
    """Line count of the inputs, for the progress bar (CSV header lines included: an estimate)."""
    return sum(count_lines(p) for p in paths)
