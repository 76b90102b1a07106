"""Resumability: a running `kikan import legacy` is killed with SIGKILL and rerun; the rerun
continues after the last committed batch, with no duplicate and no lost row (both backends)."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
from sqlalchemy import func, select

from kikan.migration.store import ImportBatchRow, ImportFileRow
from kikan.migration.synth import synth_to_files
from kikan.platform.context import Context
from kikan.platform.uow import Database
from kikan.residents.store import CurrentRow, HistoryRow
from tests.conftest import Backend, create_tenant
from tests.migration.conftest import with_batch_size

POPULATION = 2500


def _run(backend: Backend, keyfile: Path, args: list[str], tmp: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "KIKAN_DATABASE_URL": backend.app_url,
        "KIKAN_MYNUMBER_KEY_FILE": str(keyfile),
        "KIKAN_VAR_DIR": str(tmp),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "kikan", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _committed(db: Database, tenant: str) -> int:
    with db.unit_of_work(tenant) as uow:
        return uow.session.scalar(select(func.count()).select_from(ImportBatchRow)) or 0


def test_sigkill_mid_import_then_rerun_loses_and_duplicates_nothing(
    backend: Backend, db: Database, tmp_path: Path, keyfile: Path, ctx: Context
) -> None:
    tenant = create_tenant(db, "中断市")
    data, mapping = synth_to_files(
        tmp_path / "in", tenant, POPULATION, 8, legacy_format="cp932-fixed", today=ctx.today
    )
    mapping = with_batch_size(mapping, 50)
    args = ["import", "legacy", "--mapping", str(mapping), "--tenant", tenant,
            "--report-dir", str(tmp_path / "rep"), str(data)]  # fmt: skip

    proc = _run(backend, keyfile, args, tmp_path)
    deadline = time.monotonic() + 120
    while _committed(db, tenant) < 3:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert time.monotonic() < deadline, "import made no progress"
        time.sleep(0.05)
    helpers = psutil.Process(proc.pid).children(recursive=True)  # preparation workers
    assert helpers, "a multi-batch import prepares in worker processes"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # the workers (and their forkserver) notice the writer's death and go too
    _gone, alive = psutil.wait_procs(helpers, timeout=20)
    assert not alive, f"processes outlived the killed import: {[p.pid for p in alive]}"

    killed_at = _committed(db, tenant)
    with db.unit_of_work(tenant) as uow:
        persons = uow.session.scalar(select(func.count()).select_from(CurrentRow)) or 0
        in_ledger = uow.session.scalar(select(func.sum(ImportBatchRow.imported))) or 0
        status = uow.session.scalars(select(ImportFileRow.status)).one()
    assert 0 < persons < POPULATION, "the kill must land mid-import"
    assert persons == in_ledger  # a batch's rows and its ledger row commit together
    assert status == "running"

    rerun = _run(backend, keyfile, args, tmp_path)
    stdout, stderr = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, stderr.decode()
    text = stdout.decode()
    assert (
        "再開" in text
        and f"全{POPULATION:,}行 = 取込{POPULATION:,}行 + 取込済み0行 + 作業リスト0行 + 不採用0行"
        in text
    )

    with db.unit_of_work(tenant) as uow:
        final = uow.session.scalar(select(func.count()).select_from(CurrentRow))
        histories = uow.session.scalar(select(func.count()).select_from(HistoryRow))
        codes = uow.session.scalar(select(func.count(func.distinct(CurrentRow.juminhyo_code))))
        batches = list(
            uow.session.scalars(select(ImportBatchRow).order_by(ImportBatchRow.batch_no))
        )
        file_row = uow.session.scalars(select(ImportFileRow)).one()
        uow.commit()
    assert final == histories == codes == POPULATION
    assert len(batches) > killed_at
    assert batches[0].first_row == 1 and batches[-1].last_row == POPULATION
    assert all(b.first_row == a.last_row + 1 for a, b in itertools.pairwise(batches))
    assert file_row.status == "done" and file_row.imported == POPULATION


def test_sigkill_mid_synth_then_rerun_resumes_from_the_committed_chunk(
    backend: Backend, db: Database, tmp_path: Path, keyfile: Path, ctx: Context
) -> None:
    """Issue 14 item 11: the rerun used to die with 「住民票コード重複」 and a traceback."""
    tenant = create_tenant(db, "合成中断市")
    args = ["synth", "--tenant", tenant, "--population", str(POPULATION), "--seed", "5",
            "--chunk", "50", "--workers", "2"]  # fmt: skip
    proc = _run(backend, keyfile, args, tmp_path)
    deadline = time.monotonic() + 120
    while _committed(db, tenant) < 3:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert time.monotonic() < deadline, "synth made no progress"
        time.sleep(0.05)
    helpers = psutil.Process(proc.pid).children(recursive=True)
    assert helpers, "a multi-chunk synth prepares in worker processes"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    _gone, alive = psutil.wait_procs(helpers, timeout=20)
    assert not alive, f"processes outlived the killed synth: {[p.pid for p in alive]}"
    with db.unit_of_work(tenant) as uow:
        persons = uow.session.scalar(select(func.count()).select_from(CurrentRow)) or 0
        in_ledger = uow.session.scalar(select(func.sum(ImportBatchRow.imported))) or 0
    assert 0 < persons < POPULATION, "the kill must land mid-synth"
    assert persons == in_ledger

    rerun = _run(backend, keyfile, args, tmp_path)
    stdout, stderr = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, stderr.decode()
    assert "Traceback" not in stderr.decode()
    assert f"{POPULATION:,}人を登録しました" in stdout.decode()
    assert f"続きから{POPULATION - persons:,}人" in stdout.decode()
    with db.unit_of_work(tenant) as uow:
        final = uow.session.scalar(select(func.count()).select_from(CurrentRow))
        codes = uow.session.scalar(select(func.count(func.distinct(CurrentRow.juminhyo_code))))
        batches = [
            (a, b)
            for a, b in uow.session.execute(
                select(ImportBatchRow.first_row, ImportBatchRow.last_row).order_by(
                    ImportBatchRow.batch_no
                )
            )
        ]
        status = uow.session.scalars(select(ImportFileRow.status)).one()
    assert final == codes == POPULATION
    assert batches[0][0] == 1 and batches[-1][1] == POPULATION
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(batches))
    assert status == "done"

    # the same city from scratch (another tenant) is the same city: resume changed nothing
    other = create_tenant(db, "合成比較市")
    from kikan.migration.synth import synth_to_db

    synth_to_db(db, other, POPULATION, 5, ctx=ctx, chunk=50, workers=0)

    def people(code: str) -> list[tuple[str, str, str]]:
        with db.unit_of_work(code) as uow:
            return [
                (a, n, c)
                for a, n, c in uow.session.execute(
                    select(
                        CurrentRow.atena_number, CurrentRow.full_name, CurrentRow.juminhyo_code
                    ).order_by(CurrentRow.atena_number)
                )
            ]

    assert people(tenant) == people(other)

    again = _run(backend, keyfile, args, tmp_path)
    stdout, stderr = again.communicate(timeout=120)
    assert again.returncode == 0, stderr.decode()
    with db.unit_of_work(tenant) as uow:
        assert uow.session.scalar(select(func.count()).select_from(CurrentRow)) == POPULATION


def test_sigkill_mid_import_with_kept_legacy_numbers_resumes_with_the_same_numbers(
    backend: Backend, db: Database, tmp_path: Path, keyfile: Path, ctx: Context
) -> None:
    """Issue 15 with resume: kept legacy numbers, combined names and the faults of the golden
    layout survive a kill -9 mid-import: the rerun ends with the same outcome per row as one
    uninterrupted run, every person under their legacy 宛名番号."""
    from kikan.migration.store import ImportRejectRow, MigrationPersonRow
    from kikan.platform.ids import make_atena_number
    from tests.migration.legacy_faults import ATENA_BASE, FIXED_MAPPING, write_faulty_fixed

    tenant = create_tenant(db, "旧番号中断市")
    data = tmp_path / "legacy.dat"
    # large enough that the kill lands mid-import even when the writer is fast and the poller
    # slow (a loaded CI machine): 1,500 rows sometimes finished before the third batch was seen
    f = write_faulty_fixed(data, tenant, 5000, 12, today=ctx.today)
    mapping = FIXED_MAPPING  # batches of 40 rows
    args = ["import", "legacy", "--mapping", str(mapping), "--tenant", tenant,
            "--report-dir", str(tmp_path / "rep"), str(data)]  # fmt: skip
    proc = _run(backend, keyfile, args, tmp_path)
    deadline = time.monotonic() + 120
    while _committed(db, tenant) < 3:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert time.monotonic() < deadline, "import made no progress"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with db.unit_of_work(tenant) as uow:
        persons = uow.session.scalar(select(func.count()).select_from(CurrentRow)) or 0
    assert 0 < persons < f.good_rows + 1, "the kill must land mid-import"

    rerun = _run(backend, keyfile, args, tmp_path)
    stdout, stderr = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, stderr.decode()
    # no one holds legacy serial 1 in this tenant, so that fault row is imported here
    imported, worklist = f.good_rows + 1, 5
    text = stdout.decode()
    assert "再開" in text
    assert (
        f"全{f.total:,}行 = 取込{imported:,}行 + 取込済み0行 + 作業リスト{worklist}行"
        f" + 不採用{f.total - imported - worklist}行"
    ) in text
    with db.unit_of_work(tenant) as uow:
        pairs = select(MigrationPersonRow.row_no, MigrationPersonRow.atena_number)
        kept = {int(row): str(atena) for row, atena in uow.session.execute(pairs)}
        rejected = uow.session.scalar(select(func.count()).select_from(ImportRejectRow))
        final = uow.session.scalar(select(func.count()).select_from(CurrentRow))
    assert final == len(kept) == imported
    assert rejected == f.total - imported
    assert all(kept[r] == make_atena_number(ATENA_BASE + r, 15) for r in range(1, f.good_rows + 1))
