"""Preparation in worker processes changes nothing but the speed: same numbers for the same
rows, same rejects, same totals, errors raised at their batch's turn."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from kikan.migration.importer import import_file
from kikan.migration.legacy import load_mapping
from kikan.migration.parallel import ordered_map
from kikan.migration.store import ImportRejectRow
from kikan.migration.synth import synth_to_db, synth_to_files
from kikan.platform.context import Context
from kikan.platform.uow import Database
from kikan.residents.domain import RegisterError
from kikan.residents.store import CurrentRow, HistoryRow
from tests.conftest import create_tenant
from tests.migration.conftest import ACTOR, with_batch_size
from tests.migration.test_import import _bad_rows


def _slow_square(n: int) -> tuple[int, int]:
    """Later items finish first (shorter sleeps), so order must come from ordered_map."""
    time.sleep(0.02 * (5 - n % 5))
    return n * n, os.getpid()


def _fails_at_three(n: int) -> int:
    if n == 3:
        raise RegisterError("test.code", "三番目で失敗", "項目")
    return n


def test_ordered_map_keeps_input_order_across_processes() -> None:
    results = list(ordered_map(_slow_square, range(12), workers=2))
    assert [item for item, _ in results] == list(range(12))
    assert [value for _, (value, _pid) in results] == [n * n for n in range(12)]
    assert {pid for _, (_v, pid) in results} - {os.getpid()}, "work ran in worker processes"


def test_one_item_and_zero_workers_stay_in_process() -> None:
    [(_item, (_value, pid))] = list(ordered_map(_slow_square, [7], workers=2))
    assert pid == os.getpid()  # a single batch never pays for starting processes
    pids = {pid for _, (_v, pid) in ordered_map(_slow_square, range(4), workers=0)}
    assert pids == {os.getpid()}


def test_worker_error_is_raised_at_its_turn_with_its_fields() -> None:
    seen: list[int] = []
    with pytest.raises(RegisterError) as caught:
        for item, _value in ordered_map(_fails_at_three, range(8), workers=2):
            seen.append(item)
    assert seen == [0, 1, 2]  # everything before the failing item was delivered, nothing after
    assert (caught.value.code, caught.value.message, caught.value.item) == (
        "test.code",
        "三番目で失敗",
        "項目",
    )


def _register(db: Database, tenant: str) -> list[tuple[str, ...]]:
    with db.unit_of_work(tenant) as uow:
        rows = uow.session.execute(
            select(
                CurrentRow.atena_number,
                CurrentRow.household_number,
                CurrentRow.juminhyo_code,
                CurrentRow.full_name,
                CurrentRow.birth_display,
                CurrentRow.address_text,
            ).order_by(CurrentRow.atena_number)
        ).all()
        snapshots = uow.session.scalars(
            select(HistoryRow.snapshot).order_by(HistoryRow.atena_number)
        ).all()
    # the snapshot carries the numbers the writer put back into the worker's JSON
    for row, snap in zip(rows, snapshots, strict=True):
        assert (snap["atena_number"], snap["household_number"]) == (row[0], row[1])
    return [tuple(r) for r in rows]


def _rejects(db: Database, tenant: str) -> list[tuple[int, str]]:
    with db.unit_of_work(tenant) as uow:
        return [
            (r.row_no, r.rule)
            for r in uow.session.scalars(select(ImportRejectRow).order_by(ImportRejectRow.row_no))
        ]


def test_import_with_workers_equals_import_in_process(
    db: Database, tmp_path: Path, ctx: Context
) -> None:
    first = create_tenant(db, "一人市")
    second = create_tenant(db, "並行市")
    data, mapping = synth_to_files(
        tmp_path / "in", first, 400, 11, legacy_format="cp932-fixed", today=ctx.today
    )
    mapping = with_batch_size(mapping, 60)  # several batches, so the pool really starts
    lines = data.read_bytes().split(b"\r\n")
    lines = [line for line in lines if line]
    bad = _bad_rows(lines, mapping)
    data.write_bytes(b"\r\n".join(lines[:150] + list(bad.values()) + lines[150:]) + b"\r\n")
    m = load_mapping(mapping)

    alone = import_file(db, first, data, m, ctx=ctx, workers=0)
    together = import_file(db, second, data, m, ctx=ctx, workers=2)

    assert alone.batches == together.batches > 2
    assert (alone.total, alone.imported, alone.rejected, alone.worklist) == (
        together.total,
        together.imported,
        together.rejected,
        together.worklist,
    )
    assert alone.imported + alone.rejected + alone.worklist == alone.total == 400 + len(bad)
    assert alone.cleansing == together.cleansing
    assert _rejects(db, first) == _rejects(db, second)
    assert len(_rejects(db, first)) == alone.rejected + alone.worklist
    register = _register(db, first)
    assert len(register) == alone.imported
    assert register == _register(db, second)


def test_synth_with_workers_builds_the_same_city(db: Database, ctx: Context) -> None:
    first = create_tenant(db, "合成一市")
    second = create_tenant(db, "合成二市")
    assert synth_to_db(db, first, 900, 5, ctx=ctx, chunk=200, workers=0) == 900
    assert synth_to_db(db, second, 900, 5, ctx=ctx, chunk=200, workers=2) == 900
    assert _register(db, first) == _register(db, second)


def test_missing_key_ring_in_a_worker_is_the_same_clear_error(db: Database, tmp_path: Path) -> None:
    tenant = create_tenant(db, "鍵無市")
    no_keys = Context(actor=ACTOR, keyring=None)
    data, mapping = synth_to_files(
        tmp_path / "in", tenant, 200, 3, legacy_format="utf8-csv", today=no_keys.today
    )
    with pytest.raises(RegisterError) as caught:
        import_file(
            db, tenant, data, load_mapping(with_batch_size(mapping, 40)), ctx=no_keys, workers=2
        )
    assert caught.value.code == "mynumber.no_key"
    with db.unit_of_work(tenant) as uow:
        assert uow.session.scalars(select(CurrentRow.atena_number)).first() is None
