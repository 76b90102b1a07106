"""選挙人名簿管理's use cases on both backends: rolls as reproducible snapshots, the living
register's 表示/抹消 with history (through `react`), the 投票区 table, outputs and bad input."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from kikan.electoral_roll import domain, report, service
from kikan.electoral_roll.linkage import react
from kikan.electoral_roll.store import RegisterHistoryRow, RegisterRow, RollEntryRow, RollRow
from kikan.errors import ConflictError, InvalidError, NotFoundError
from kikan.linkage.consumer import PersonChange
from kikan.platform.context import Context
from kikan.platform.store import AuditRecordRow
from kikan.platform.uow import Database
from tests.conftest import TEST_ACTOR, create_tenant

CTX = Context(actor=TEST_ACTOR, now=datetime(2026, 11, 20, 3, tzinfo=UTC))


def record(atena: str, **items: str) -> dict[str, str]:
    return {
        "atena_number": atena,
        "resident_kind": "1",
        "status": "10",
        "birth_date": "S50-05-05",
        "became_resident_date": "H30-04-01",
        "family_name": "山田",
        "given_name": f"太郎{atena[-2:]}",
        "family_name_kana": "ヤマダ",
        "given_name_kana": "タロウ",
        "sex": "1",
        "household_number": "H" + atena[-3:],
        "prefecture": "東京都",
        "city": "見本市",
        "town": "本町一丁目",
        "banchi": "5番地",
        **items,
    }


REGISTER = [
    record("000000000000101"),
    record("000000000000102", sex="2", town="本町二丁目", banchi="12番地"),
    record("000000000000103", town="本町二丁目", banchi="3番地", household_number="H001"),
    record("000000000000104", birth_date="H20-09-02"),  # 18 on 2026-09-01: just
    record("000000000000105", birth_date="H20-09-03"),  # 18 on 2026-09-02: not yet
    record("000000000000106", became_resident_date="R8-06-02"),  # 3 months end 9/1: not yet
    record("000000000000107", resident_kind="2"),
    record("000000000000108", status="20", removal_reason="21", removal_date="R8-07-10"),
    record("000000000000109", status="21", removal_reason="23", removal_date="R8-08-01"),
]
TABLE = (
    domain.DistrictRange("01", "第1投票区", "本町一丁目"),
    domain.DistrictRange("02", "第2投票区", "本町二丁目", 1, 10),
    domain.DistrictRange("03", "第3投票区", "本町二丁目", 11, None),
)
SEPTEMBER = date(2026, 9, 1)


def judged(base: date, records: list[dict[str, str]], day: date | None = None) -> domain.Judged:
    return domain.judge_all(records, base_date=base, election_day=day or base)


def regular(base: date, records: list[dict[str, str]]) -> service.RegisterRoll:
    return service.RegisterRoll(base, None, judged(base, records))


def _fixed(db: Database, tenant: str, base: date = SEPTEMBER) -> service.RollView:
    with db.unit_of_work(tenant) as uow:
        service.load_districts(uow, CTX, service.LoadDistricts(TABLE))
        view = service.register_roll(uow, CTX, regular(base, REGISTER))
        uow.commit()
    return view


def test_a_regular_roll_lists_exactly_the_eligible_and_is_reproducible(db: Database) -> None:
    town, twin = create_tenant(db, "見本市"), create_tenant(db, "写し市")
    view = _fixed(db, town)
    assert (view.kind, view.registered, view.marked) == ("定時登録", 4, 1)
    assert view.newly_registered == 5 and view.without_district == 0
    assert view.not_on_roll == {"under-age": 1, "too-short": 1, "not-japanese": 1, "gone": 1}
    # the same register history and base date give the same roll, wherever computed
    assert _fixed(db, twin).digest == view.digest
    with db.unit_of_work(town) as uow:
        entries = service.roll_entries(uow, CTX, service.RollQuery(view.id))
        uow.commit()
    assert [e.atena_number[-3:] for e in entries] == ["101", "104", "108", "103", "102"]
    assert [e.district for e in entries] == ["01", "01", "01", "02", "03"]
    leaver = entries[2]
    assert (leaver.mark, leaver.moved_out, leaver.strike_on) == (
        "表示",
        date(2026, 7, 10),
        date(2026, 11, 11),
    )


def test_bad_input_is_refused_in_japanese_and_nothing_is_written(db: Database) -> None:
    town = create_tenant(db, "見本市")
    _fixed(db, town)
    cases: list[tuple[service.RegisterRoll, type[Exception], str]] = [
        (regular(date(2026, 9, 2), REGISTER), InvalidError, "base-date-not-regular"),
        (regular(SEPTEMBER, REGISTER), ConflictError, "roll-fixed"),
        (regular(date(2026, 6, 1), REGISTER), ConflictError, "base-date-in-past"),
        (regular(date(2026, 12, 1), REGISTER), InvalidError, "base-date-future"),
        (
            service.RegisterRoll(None, 999, judged(SEPTEMBER, REGISTER)),
            NotFoundError,
            "election-not-found",
        ),
    ]
    for command, kind, code in cases:
        with db.unit_of_work(town) as uow, pytest.raises(kind) as refused:
            service.register_roll(uow, CTX, command)
        assert refused.value.code == code
        assert any(ord(c) > 0x3000 for c in refused.value.message)
    with db.unit_of_work(town) as uow:
        assert len(service.list_rolls(uow, CTX, service.ListRolls())) == 1


def test_an_election_roll_judges_the_age_on_the_election_day(db: Database) -> None:
    town = create_tenant(db, "見本市")
    _fixed(db, town)
    with db.unit_of_work(town) as uow:
        election = service.create_election(
            uow, CTX, service.CreateElection("市長選挙", date(2026, 10, 4), date(2026, 10, 18))
        )
        command = service.RegisterRoll(
            None, election, judged(date(2026, 10, 4), REGISTER, date(2026, 10, 18))
        )
        view = service.register_roll(uow, CTX, command)
        uow.commit()
    # 105 is 18 by the election day; 106's 3 months ended 9/1, before the base date 10/4
    assert (view.kind, view.registered, view.newly_registered) == ("選挙時登録", 6, 2)


def change(atena: str, rec: dict[str, str] | None, on: date) -> PersonChange:
    return PersonChange(atena, rec, None, 1, "差分", on)


def test_move_out_marks_four_months_later_strikes_and_the_fixed_roll_never_changes(
    db: Database,
) -> None:
    town = create_tenant(db, "見本市")
    view = _fixed(db, town)
    mover = "000000000000101"
    planned = record(mover, status="11", move_out_planned_date="R8-09-20")
    with db.unit_of_work(town) as uow:
        assert list(react(uow, [change(mover, planned, date(2026, 9, 10))])) == ["表示"]
        uow.commit()
    with db.unit_of_work(town) as uow:
        entry = service.register_entry(uow, CTX, service.EntryQuery(mover))
    assert (entry.state, entry.entry.moved_out, entry.entry.strike_on) == (
        "表示",
        date(2026, 9, 20),
        date(2027, 1, 21),
    )
    moved = record(mover, status="20", removal_reason="21", removal_date="R8-09-21")
    with db.unit_of_work(town) as uow:
        assert list(react(uow, [change(mover, moved, date(2026, 9, 21))])) == ["表示"]
        # the 4 months: struck from 2027-01-22, not on the 21st
        assert mover not in service.strike_due(uow, CTX, service.StrikeDue(date(2027, 1, 21)))
        assert mover in service.strike_due(uow, CTX, service.StrikeDue(date(2027, 1, 22)))
        assert service.strike_due(uow, CTX, service.StrikeDue(date(2027, 2, 1))) == []
        uow.commit()
    with db.unit_of_work(town) as uow:
        entry = service.register_entry(uow, CTX, service.EntryQuery(mover))
        fixed = service.roll_entries(uow, CTX, service.RollQuery(view.id))
    assert (entry.state, entry.struck_on, entry.strike_reason) == (
        "抹消",
        date(2027, 1, 22),
        "転出後4か月経過",
    )
    assert [h.event for h in entry.history] == ["登録", "表示", "表示", "抹消"]
    # the fixed roll still lists the person as registered
    assert next(e for e in fixed if e.atena_number == mover).mark == "登録"


def test_death_and_loss_of_nationality_strike_at_once_and_staff_strike_errors(
    db: Database,
) -> None:
    town = create_tenant(db, "見本市")
    _fixed(db, town)
    dead = record("000000000000102", status="21", removal_reason="23", removal_date="R8-10-01")
    lost = record("000000000000103", status="22", removal_reason="25", removal_date="R8-10-02")
    with db.unit_of_work(town) as uow:
        labels = react(
            uow,
            [
                change("000000000000102", dead, date(2026, 10, 1)),
                change("000000000000103", lost, date(2026, 10, 2)),
                change("000000000000999", record("000000000000999"), SEPTEMBER),
            ],
        )
        assert list(labels) == ["抹消", "抹消"]
        struck = service.strike(
            uow, CTX, service.Strike("000000000000104", "登録の誤り", date(2026, 10, 5))
        )
        assert struck.state == "抹消" and struck.strike_reason == "登録の誤り"
        with pytest.raises(ConflictError):
            service.strike(
                uow, CTX, service.Strike("000000000000104", "登録の誤り", date(2026, 10, 5))
            )
        with pytest.raises(InvalidError):
            service.strike(uow, CTX, service.Strike("000000000000101", "気分", date(2026, 10, 5)))
        uow.commit()
    with db.unit_of_work(town) as uow:
        reasons = {
            r.atena_number[-3:]: (r.state, r.strike_reason, r.struck_on)
            for r in uow.session.query(RegisterRow)
        }
    assert reasons["102"] == ("抹消", "死亡", date(2026, 10, 1))
    assert reasons["103"] == ("抹消", "国籍喪失", date(2026, 10, 2))


def test_a_district_table_with_gaps_is_refused_and_a_new_one_reports_who_moved(
    db: Database,
) -> None:
    town = create_tenant(db, "見本市")
    _fixed(db, town)
    bad = (
        domain.DistrictRange("01", "第1投票区", "本町一丁目"),
        domain.DistrictRange("02", "第2投票区", "本町二丁目", 1, 4),
        domain.DistrictRange("03", "第3投票区", "本町二丁目", 6, None),
    )
    with db.unit_of_work(town) as uow, pytest.raises(domain.DistrictTableError) as refused:
        service.load_districts(uow, CTX, service.LoadDistricts(bad))
    assert "本町二丁目 5〜5番地がどの投票区にもありません" in refused.value.message
    moved = (
        domain.DistrictRange("01", "第1投票区", "本町一丁目"),
        domain.DistrictRange("02", "第2投票区", "本町二丁目", 1, 2),
        domain.DistrictRange("04", "第4投票区", "本町二丁目", 3, None),
    )
    with db.unit_of_work(town) as uow:
        assert service.current_districts(uow, CTX, service.CurrentDistricts())[0] == 1
        loaded = service.load_districts(uow, CTX, service.LoadDistricts(moved))
        uow.commit()
    assert loaded.version == 2
    assert {(m.atena_number[-3:], m.before, m.after) for m in loaded.moved} == {
        ("103", "02", "04"),
        ("102", "03", "04"),
    }
    with db.unit_of_work(town) as uow:
        events = [h.event for h in uow.session.query(RegisterHistoryRow).filter_by(
            atena_number="000000000000103")]  # fmt: skip
        kept = {e.district for e in uow.session.query(RollEntryRow)}
    assert events[-1] == "投票区の変更"
    assert kept == {"01", "02", "03"}  # the fixed roll keeps its districts


def test_counts_per_district_and_sex_as_html_and_excel(db: Database) -> None:
    town = create_tenant(db, "見本市")
    view = _fixed(db, town)
    with db.unit_of_work(town) as uow:
        rows = service.roll_counts(uow, CTX, service.RollQuery(view.id))
        roll = uow.session.get(RollRow, view.id)
        assert roll is not None
    assert [(r.district, r.male, r.female, r.total) for r in rows] == [
        ("01", 3, 0, 3),
        ("02", 1, 0, 1),
        ("03", 0, 1, 1),
    ]
    page = report.counts_html(rows, SEPTEMBER)
    assert "第1投票区" in page and "<td>5</td>" in page
    book = load_workbook(io.BytesIO(report.counts_xlsx(rows, SEPTEMBER)))
    sheet = book.active
    assert sheet is not None
    values: list[Any] = [c.value for c in sheet[sheet.max_row]]
    assert values == ["合計", None, 4, 1, 0, 5]


def _pdf_text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_extract_pdf_lists_one_district_in_address_order_and_is_logged(
    db: Database,
) -> None:
    town = create_tenant(db, "見本市")
    view = _fixed(db, town)
    query = service.RollQuery(view.id, "01", output="pdf")
    with db.unit_of_work(town) as uow:
        heading = service.extract_heading(uow, CTX, query)
        entries = service.roll_entries(uow, CTX, query)
        uow.commit()
    result = report.extract_pdf(entries, heading)
    assert result.pdf.startswith(b"%PDF") and result.form_id == "0060001"
    text = _pdf_text(result.pdf)
    assert "選挙人名簿抄本" in text and "第1投票区" in text and "令和8年9月1日" in text
    assert "1 / 1" in text
    # the persons of district 01 in the CSV's order (address, household), none of 02 or 03
    positions = [text.index(f"太郎{n}") for n in ("01", "04", "08")]
    assert positions == sorted(positions)
    assert "太郎03" not in text and "太郎02" not in text
    assert "表示（転出 2026-07-10）" in text and "昭和50年5月5日" in text
    with db.unit_of_work(town) as uow:
        logged = [
            (r.detail["output"], r.detail["entries"])
            for r in uow.session.scalars(
                select(AuditRecordRow).where(AuditRecordRow.function.contains("名簿の出力"))
            )
        ]
        # the 抄本 is kept per district: a PDF without one is refused in Japanese
        with pytest.raises(InvalidError) as refused:
            service.extract_heading(uow, CTX, service.RollQuery(view.id, None, output="pdf"))
    assert refused.value.code == "district-missing"
    assert logged == [("pdf", 3)]


def test_a_long_district_extract_pdf_has_numbered_pages_in_order() -> None:
    entries = [
        service.EntryView(
            atena_number=f"{n:015d}", name=f"選挙　{n:04d}", kana="センキョ", sex="2",
            birth_date="S50-05-05", household_number=f"H{n:04d}", town="本町一丁目",
            banchi=f"{n}番地", address=f"東京都見本市本町一丁目{n}番地", district="01",
            mark="登録", moved_out=None, strike_on=None,
        )
        for n in range(1, 80)
    ]  # fmt: skip
    heading = service.ExtractHeading(1, "定時登録", SEPTEMBER, "01", "第1投票区")
    result = report.extract_pdf(entries, heading)
    assert result.pages > 1 and not result.overflow
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(result.pdf)).pages]
    assert all(f"{i} / {result.pages}" in p and "第1投票区" in p for i, p in enumerate(pages, 1))
    text = "".join(pages)
    positions = [text.index(f"選挙　{n:04d}") for n in range(1, 80)]
    assert positions == sorted(positions)
