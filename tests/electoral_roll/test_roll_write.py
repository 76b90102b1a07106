"""The set-based write of a roll (bulk INSERT/UPDATE) against the per-person path it replaced.

`_per_person_roll` is the former `service.register_roll` write, kept here verbatim as the oracle:
a few hundred generated persons go through two rolls (June, September) with staff 抹消 in between,
in one tenant through the service and in another through the oracle; roll entries, the living
register and every history row must come out the same (ids, timestamps and roll ids aside)."""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from kikan.calendar import RegisterDate
from kikan.electoral_roll import domain, service
from kikan.electoral_roll.store import RegisterHistoryRow, RegisterRow, RollEntryRow, RollRow
from kikan.platform.context import Context
from kikan.platform.uow import Database, UnitOfWork
from tests.conftest import TEST_ACTOR, create_tenant

CTX = Context(actor=TEST_ACTOR, now=datetime(2026, 11, 20, 3, tzinfo=UTC))
JUNE, SEPTEMBER = date(2026, 6, 1), date(2026, 9, 1)
TOWNS = ["本町一丁目", "本町二丁目", "緑町"]
TABLE = (
    domain.DistrictRange("01", "第1投票区", "本町一丁目"),
    domain.DistrictRange("02", "第2投票区", "本町二丁目", 1, 10),
    domain.DistrictRange("03", "第3投票区", "本町二丁目", 11, None),
)  # 緑町 has no district: entries without one are written too


def _day(d: date) -> str:
    return RegisterDate.from_date(d).to_storage()


def people(n: int, base: date, seed: int) -> list[dict[str, str]]:
    """N records as of `base`: minors, recent movers-in, movers-out (表示), foreigners."""
    rng = random.Random(seed)
    out = []
    for i in range(1, n + 1):
        roll = rng.random()
        born = date(1940, 1, 1) + timedelta(days=rng.randint(0, 30000))
        moved_in = base - timedelta(days=rng.choice([30, 95, 2000]))
        rec = {
            "atena_number": f"{i:015d}", "resident_kind": "2" if roll > 0.97 else "1",
            "status": "10", "birth_date": _day(born), "became_resident_date": _day(moved_in),
            "family_name": "𠮷田", "given_name": f"名{i}", "family_name_kana": "ヨシダ",
            "given_name_kana": "ナ", "sex": rng.choice("129"), "household_number": f"H{i // 3}",
            "prefecture": "架空県", "city": "日和市", "town": rng.choice(TOWNS),
            "banchi": f"{rng.randint(1, 20)}番地",
        }  # fmt: skip
        if roll < 0.1:
            out_day = base - timedelta(days=rng.randint(1, 100))
            rec |= {"status": "20", "removal_reason": "21", "removal_date": _day(out_day)}
        out.append(rec)
    return out


def _per_person_roll(uow: UnitOfWork, ctx: Context, command: service.RegisterRoll) -> str:
    """The former write: three ORM rows per person, a register lookup per 500 persons."""
    kind, base, day, election_id = service.check_roll(
        uow, ctx, service.CheckRoll(command.base_date, command.election_id)
    )
    _version, table = service.district_table(uow)
    roll = RollRow(tenant_code=uow.tenant, kind=kind, base_date=base, election_day=day,
                   election_id=election_id, rules_version=domain.rule_book().version,
                   registered=0, marked=0, digest="", fixed_by=ctx.actor.id[:64])  # fmt: skip
    uow.session.add(roll)
    uow.session.flush()  # the roll's id goes into each entry
    lines: list[str] = []
    counts: Counter[str] = Counter()
    page: list[tuple[domain.Person, domain.Judgement, str]] = []

    def write(page: list[tuple[domain.Person, domain.Judgement, str]]) -> None:
        known = service.register_rows(uow, [p.atena_number for p, _j, _d in page])
        for person, judged, district in page:
            assert judged.mark is not None
            columns = service.person_columns(person, district)
            uow.session.add(RollEntryRow(tenant_code=uow.tenant, roll_id=roll.id,
                                         mark=judged.mark, moved_out=judged.moved_out,
                                         strike_on=judged.strike, **columns))  # fmt: skip
            row = known.get(person.atena_number)
            if row is not None and row.state != service.STRUCK:
                continue
            if row is None:
                row = RegisterRow(tenant_code=uow.tenant, state=judged.mark, registered_on=base,
                                  roll_id=roll.id, moved_out=judged.moved_out,
                                  strike_on=judged.strike, strike_reason="", version=0,
                                  **columns)  # fmt: skip
                uow.session.add(row)
            else:
                for name, value in columns.items():
                    setattr(row, name, value)
                row.state, row.registered_on, row.roll_id = judged.mark, base, roll.id
                row.moved_out, row.strike_on, row.struck_on, row.strike_reason = (
                    judged.moved_out, judged.strike, None, "",
                )  # fmt: skip
            service.add_history(uow, ctx.actor.id, row, "登録", base, kind, roll=roll.id)
            if judged.mark == domain.MARKED:
                service.add_history(uow, ctx.actor.id, row, "表示", judged.moved_out or base,
                                    "転出", strike_on=str(judged.strike))  # fmt: skip
        uow.session.flush()  # one page at a time, as the former path did

    for person, judged in command.judged.entries:
        district = domain.district_of(table, person.town, person.banchi)
        counts[str(judged.mark)] += 1
        lines.append(f"{person.atena_number}\t{judged.mark}\t{judged.moved_out or ''}\t{district}")
        page.append((person, judged, district))
        if len(page) >= 500:
            write(page)
            page = []
    if page:
        write(page)
    lines.sort()
    roll.registered, roll.marked = counts[domain.REGISTERED], counts[domain.MARKED]
    roll.digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    return roll.digest


def _struck_between(uow: UnitOfWork) -> None:
    """Staff 抹消 of every 7th registered person: the September roll registers them again."""
    for number in sorted(uow.session.scalars(select(RegisterRow.atena_number)))[::7]:
        service.strike(uow, CTX, service.Strike(number, "登録の誤り", date(2026, 7, 1)))


def _state(db: Database, tenant: str) -> dict[str, Any]:
    ignore = {"id", "tenant_code", "updated_at", "recorded_at", "fixed_at"}
    with db.unit_of_work(tenant) as uow:
        rolls = {
            r.id: n for n, r in enumerate(uow.session.scalars(select(RollRow).order_by(RollRow.id)))
        }

        def plain(obj: Any) -> dict[str, Any]:
            cols = {
                c.key: getattr(obj, c.key) for c in obj.__table__.columns if c.key not in ignore
            }
            if cols.get("roll_id") is not None:
                cols["roll_id"] = rolls[cols["roll_id"]]
            if "roll" in (cols.get("detail") or {}):
                cols["detail"] = {**cols["detail"], "roll": rolls[cols["detail"]["roll"]]}
            return cols

        return {
            "rolls": [plain(r) for r in uow.session.scalars(select(RollRow).order_by(RollRow.id))],
            "entries": [plain(r) for r in uow.session.scalars(select(RollEntryRow).order_by(RollEntryRow.id))],
            "register": [plain(r) for r in uow.session.scalars(select(RegisterRow).order_by(RegisterRow.id))],
            "history": [plain(r) for r in uow.session.scalars(select(RegisterHistoryRow).order_by(RegisterHistoryRow.id))],
        }  # fmt: skip


def test_the_bulk_write_gives_exactly_the_rows_of_the_per_person_write(db: Database) -> None:
    bulk, oracle = create_tenant(db, "一括市"), create_tenant(db, "逐次市")
    digests: dict[str, list[str]] = {bulk: [], oracle: []}
    for base, seed in ((JUNE, 6), (SEPTEMBER, 9)):
        judged = domain.judge_all(people(420, base, seed), base_date=base, election_day=base)
        for tenant in (bulk, oracle):
            with db.unit_of_work(tenant) as uow:
                if base == JUNE:
                    service.load_districts(uow, CTX, service.LoadDistricts(TABLE))
                else:
                    _struck_between(uow)
                command = service.RegisterRoll(base, None, judged)
                if tenant == bulk:
                    view = service.register_roll(uow, CTX, command)
                    digests[tenant].append(view.digest)
                else:
                    digests[tenant].append(_per_person_roll(uow, CTX, command))
                uow.commit()
    assert digests[bulk] == digests[oracle]
    got, want = _state(db, bulk), _state(db, oracle)
    assert got["entries"] == want["entries"] and len(got["entries"]) > 400
    assert got["register"] == want["register"]
    assert got["history"] == want["history"]
    assert got["rolls"] == want["rolls"]
    # the case that matters: persons struck in July and registered again in September
    again = [r for r in got["register"] if r["version"] > 2 and r["registered_on"] == SEPTEMBER]
    assert len(again) > 10 and all(r["state"] != service.STRUCK for r in again)
