"""Gap-free per-tenant sequences and the outbox: nothing published for rolled-back work."""

from __future__ import annotations

import threading

import pytest

from kikan.platform import outbox
from kikan.platform.sequences import current_value, next_value, next_values
from kikan.platform.uow import Database
from tests.conftest import create_tenant


def test_values_are_gap_free_and_rollback_returns_them(db: Database) -> None:
    t = create_tenant(db)
    with db.unit_of_work(t) as uow:
        assert next_values(uow, "atena", 3) == [1, 2, 3]
        uow.commit()
    with db.unit_of_work(t) as uow:
        assert next_value(uow, "atena") == 4
        # rolled back: 4 is handed out again
    with db.unit_of_work(t) as uow:
        assert next_value(uow, "atena") == 4
        assert next_value(uow, "setai") == 1
        uow.commit()
    other = create_tenant(db)
    with db.unit_of_work(other) as uow:
        assert next_value(uow, "atena") == 1  # each tenant has its own numbering
        uow.commit()
    with db.unit_of_work(t) as uow:
        assert current_value(uow, "atena") == 4


def test_outbox_events_follow_the_transaction(db: Database) -> None:
    t = create_tenant(db)
    with db.unit_of_work(t) as uow:
        outbox.emit(uow, "residents.changed", {"atena": ["1"]})
        uow.commit()
    with pytest.raises(RuntimeError), db.unit_of_work(t) as uow:
        outbox.emit(uow, "residents.changed", {"atena": ["2"]})
        raise RuntimeError("the change failed")
    with db.unit_of_work(t) as uow:
        outbox.emit(uow, "residents.changed", {"atena": ["3"]})
        uow.commit()
    with db.unit_of_work(t) as uow:
        events = outbox.events_since(uow, 0)
        assert [(e.seq, e.payload["atena"]) for e in events] == [(1, ["1"]), (2, ["3"])]
        assert [e.seq for e in outbox.events_since(uow, 1)] == [2]


def test_concurrent_takers_never_share_or_skip_a_value(pg_db: Database) -> None:
    t = create_tenant(pg_db)
    taken: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(20):
                with pg_db.unit_of_work(t) as uow:
                    v = next_value(uow, "atena")
                    uow.commit()
                with lock:
                    taken.append(v)
        except BaseException as exc:  # pragma: no cover - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert sorted(taken) == list(range(1, 161))
