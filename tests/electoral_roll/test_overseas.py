"""The 在外選挙人名簿: golden tests of its registration rules at the edges (pure), its use cases
on both backends (history, version check, 抹消, CSV, counts) and its separation from the
選挙人名簿 (never on a roll, in a 抄本, a 投票区 or a count)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from kikan.electoral_roll import overseas, service
from kikan.electoral_roll import overseas_domain as rules
from kikan.electoral_roll.store import OverseasEntryRow, OverseasHistoryRow
from kikan.errors import ConflictError, InvalidError, NotFoundError, StaleError
from kikan.platform.settings import get_settings
from kikan.platform.store import AuditRecordRow
from kikan.platform.uow import Database
from tests.conftest import Backend, bearer, create_staff, create_tenant
from tests.electoral_roll.test_service import CTX, REGISTER, SEPTEMBER, TABLE, regular

# ---------------------------------------------------------------- rules at the edges (pure)


def applicant(**changes: object) -> rules.Applicant:
    """A Japanese national born 2008-06-02 (18 on 2026-06-01), abroad since 2026-03-01."""
    base = rules.Applicant(
        japanese_national=True,
        birth_date="H20-06-02",
        route=rules.CONSULATE,
        last_address="東京都見本市本町一丁目5番地",
        honseki="",
        resident_since=date(2026, 3, 1),
        on_city_roll=False,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def refusal(a: rules.Applicant, day: date) -> str | None:
    found = rules.check_registration(a, day)
    return None if found is None else found.code


def test_age_is_reached_the_day_before_the_18th_birthday() -> None:
    old_enough = applicant(resident_since=date(2025, 1, 1))
    assert refusal(old_enough, date(2026, 5, 31)) == "under-age"  # the day before 18
    assert refusal(old_enough, date(2026, 6, 1)) is None  # 18 on this day
    leap = applicant(birth_date="H20-02-29", resident_since=date(2025, 1, 1))
    assert refusal(leap, date(2026, 2, 27)) == "under-age"
    assert refusal(leap, date(2026, 2, 28)) is None
    # 不詳: the latest day it may mean (月日不詳 of 2008 → 2008-12-31 → 18 on 2026-12-30)
    unknown_day = applicant(birth_date="H20-??-??", resident_since=date(2025, 1, 1))
    assert refusal(unknown_day, date(2026, 12, 29)) == "under-age"
    assert refusal(unknown_day, date(2026, 12, 30)) is None
    assert refusal(applicant(birth_date=rules.birth_storage("年月日不詳")), date(2026, 9, 1)) == (
        "birth-unknown"
    )


def test_three_months_in_the_consular_district_end_before_the_registration_day() -> None:
    a = applicant(birth_date="S50-05-05")  # abroad since 2026-03-01: the period ends 5/31
    assert refusal(a, date(2026, 5, 31)) == "too-short"
    assert refusal(a, date(2026, 6, 1)) is None  # exactly 3 months
    short = rules.check_registration(applicant(birth_date="S50-05-05"), date(2026, 5, 31))
    assert short is not None and "3か月以上" in short.message and "2026-05-31" in short.message
    # a period starting on the 31st ends on the last day of a shorter month (民法第143条)
    late = applicant(birth_date="S50-05-05", resident_since=date(2025, 11, 30))
    assert refusal(late, date(2026, 2, 28)) == "too-short"
    assert refusal(late, date(2026, 3, 1)) is None
    assert refusal(applicant(birth_date="S50-05-05", resident_since=None), SEPTEMBER) == (
        "residence-unknown"
    )


def test_the_departure_route_needs_the_city_roll_and_the_last_address_not_three_months() -> None:
    leaving = applicant(
        birth_date="S50-05-05", route=rules.DEPARTURE, resident_since=None, on_city_roll=True
    )
    assert refusal(leaving, date(2026, 3, 2)) is None
    assert refusal(replace(leaving, on_city_roll=False), SEPTEMBER) == "not-on-city-roll"
    assert refusal(replace(leaving, last_address="", honseki="東京都"), SEPTEMBER) == (
        "last-address-missing"
    )
    by_honseki = applicant(birth_date="S50-05-05", last_address="", honseki="東京都見本市本町1")
    assert refusal(by_honseki, SEPTEMBER) is None
    assert refusal(replace(by_honseki, honseki=""), SEPTEMBER) == "address-missing"
    assert refusal(applicant(japanese_national=False), SEPTEMBER) == "not-japanese"
    assert refusal(applicant(route="郵便"), SEPTEMBER) == "route"
    # no rule is held before the first version of the [[overseas]] section
    first = rules.overseas_rules()[0].effective_from
    with pytest.raises(rules.OverseasRuleError) as early:
        rules.check_registration(applicant(), date.fromordinal(first.toordinal() - 1))
    assert early.value.code == "no-overseas-rules"


def test_birth_dates_are_kept_in_the_register_storage_form() -> None:
    assert rules.birth_storage("平成20年6月2日") == "H20-06-02"
    assert rules.birth_storage("H20-06-02") == "H20-06-02"
    assert rules.birth_storage("2008-06-02") == "H20-06-02"
    with pytest.raises(rules.OverseasRuleError):
        rules.birth_storage("そのうち")


# ---------------------------------------------------------------- use cases


def facts(**changes: object) -> overseas.OverseasFacts:
    base = overseas.OverseasFacts(
        name="海外　花子",
        kana="カイガイ　ハナコ",
        birth_date="昭和60年1月2日",
        sex="2",
        route=rules.CONSULATE,
        last_address="東京都見本市本町一丁目5番地",
        honseki="",
        consular_district="在英国日本国大使館",
        resident_since=date(2026, 3, 1),
        on_city_roll=False,
        japanese_national=True,
        applied_on=date(2026, 5, 20),
        registered_on=date(2026, 6, 1),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _register(db: Database, tenant: str, f: overseas.OverseasFacts) -> overseas.OverseasView:
    with db.unit_of_work(tenant) as uow:
        view = overseas.register_overseas(uow, CTX, overseas.RegisterOverseas(f))
        uow.commit()
    return view


def test_register_correct_strike_with_history_and_version_check(db: Database) -> None:
    town = create_tenant(db, "見本市")
    view = _register(db, town, facts())
    assert (view.state, view.version, view.birth_date) == ("登録", 1, "S60-01-02")
    assert [h.event for h in view.history] == ["登録"]

    corrected = facts(kana="カイガイ　ハナ")
    with db.unit_of_work(town) as uow:
        fixed = overseas.correct_overseas(
            uow, CTX, overseas.CorrectOverseas(view.id, 1, corrected, "フリガナの誤り")
        )
        uow.commit()
    assert (fixed.version, fixed.kana) == (2, "カイガイ　ハナ")
    # the version read is checked: a stale correction changes nothing
    with db.unit_of_work(town) as uow, pytest.raises(StaleError):
        overseas.correct_overseas(uow, CTX, overseas.CorrectOverseas(view.id, 1, facts()))
    # a correction that makes the registration ineligible is refused (strike it instead)
    with db.unit_of_work(town) as uow, pytest.raises(InvalidError) as bad:
        overseas.correct_overseas(
            uow, CTX, overseas.CorrectOverseas(view.id, 2, facts(resident_since=date(2026, 3, 2)))
        )
    assert bad.value.code == "too-short"

    with db.unit_of_work(town) as uow:
        struck = overseas.strike_overseas(
            uow, CTX, overseas.StrikeOverseas(view.id, "国内転入", date(2026, 10, 1))
        )
        uow.commit()
    assert (struck.state, struck.struck_on, struck.strike_reason) == (
        "抹消",
        date(2026, 10, 1),
        "国内転入",
    )
    # nothing overwritten: every version is a history row with the entry as it became
    assert [(h.version, h.event) for h in struck.history] == [(1, "登録"), (2, "修正"), (3, "抹消")]
    assert struck.history[0].snapshot["kana"] == "カイガイ　ハナコ"
    assert struck.history[1].snapshot["kana"] == "カイガイ　ハナ"
    assert struck.history[2].snapshot["state"] == "抹消"
    assert all(h.recorded_by == CTX.actor.id for h in struck.history)
    refused: list[tuple[overseas.StrikeOverseas, type[Exception], str]] = [
        (overseas.StrikeOverseas(view.id, "国内転入", date(2026, 10, 2)), ConflictError,
         "already-struck"),
        (overseas.StrikeOverseas(view.id, "転居", date(2026, 10, 2)), InvalidError,
         "strike-reason"),
        (overseas.StrikeOverseas(999999, "死亡", date(2026, 10, 2)), NotFoundError,
         "overseas-not-found"),
    ]  # fmt: skip
    for command, kind, code in refused:
        with db.unit_of_work(town) as uow, pytest.raises(kind) as err:
            overseas.strike_overseas(uow, CTX, command)
        assert err.value.code == code
    with db.unit_of_work(town) as uow, pytest.raises(ConflictError):
        overseas.correct_overseas(uow, CTX, overseas.CorrectOverseas(view.id, 3, facts()))
    with db.unit_of_work(town) as uow:
        functions = set(uow.session.scalars(select(AuditRecordRow.function)))
    assert "選挙人名簿管理：在外選挙人名簿の登録・修正・抹消" in functions


def test_an_ineligible_application_is_refused_in_japanese_and_nothing_is_written(
    db: Database,
) -> None:
    town = create_tenant(db, "見本市")
    cases = {
        "under-age": facts(birth_date="平成20年6月2日", registered_on=date(2026, 5, 31)),
        "too-short": facts(resident_since=date(2026, 3, 2)),
        "not-japanese": facts(japanese_national=False),
        "not-on-city-roll": facts(route=rules.DEPARTURE, resident_since=None),
        "registered-on-future": facts(registered_on=date(2026, 12, 1)),
        "applied-after-registration": facts(applied_on=date(2026, 6, 2)),
        "sex": facts(sex="男"),
        "birth-date": facts(birth_date="不明な日"),
    }
    for code, f in cases.items():
        with db.unit_of_work(town) as uow, pytest.raises(InvalidError) as refused:
            overseas.register_overseas(uow, CTX, overseas.RegisterOverseas(f))
        assert refused.value.code == code, code
        assert refused.value.message  # Japanese, naming the rule
    with db.unit_of_work(town) as uow:
        assert uow.session.scalar(select(OverseasEntryRow.id)) is None
        assert uow.session.scalar(select(OverseasHistoryRow.id)) is None


def test_extract_csv_and_counts_by_sex(db: Database) -> None:
    town = create_tenant(db, "見本市")
    _register(db, town, facts())
    _register(db, town, facts(name="海外　一郎", kana="カイガイ　イチロウ", sex="1"))
    gone = _register(db, town, facts(name="海外　次郎", kana="カイガイ　ジロウ", sex="1",
                                     consular_district="在米国日本国大使館"))  # fmt: skip
    with db.unit_of_work(town) as uow:
        overseas.strike_overseas(uow, CTX, overseas.StrikeOverseas(gone.id, "死亡", SEPTEMBER))
        entries = overseas.list_overseas(uow, CTX, overseas.ListOverseas(output="csv"))
        counts = overseas.count_overseas(uow, CTX, overseas.CountOverseas())
        uow.commit()
    assert [e.name for e in entries] == ["海外　一郎", "海外　花子"]  # by kana, registered only
    text = overseas.extract_csv(entries).decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("番号,状態,氏名") and len(lines) == 3
    assert "在英国日本国大使館" in lines[1] and "海外　次郎" not in text
    assert [(c.consular_district, c.male, c.female, c.total) for c in counts] == [
        ("在英国日本国大使館", 1, 1, 2)
    ]
    with db.unit_of_work(town) as uow:
        outputs = list(
            uow.session.scalars(
                select(AuditRecordRow.function).where(
                    AuditRecordRow.function == "選挙人名簿管理：在外選挙人名簿の出力"
                )
            )
        )
    assert len(outputs) == 1


# ---------------------------------------------------------------- separation from the 選挙人名簿


def test_overseas_electors_never_appear_in_a_roll_extract_district_or_count(
    db: Database,
) -> None:
    town = create_tenant(db, "見本市")
    # an overseas elector with the same name, address and town as a resident elector
    resident = REGISTER[0]
    abroad = facts(
        name=f"{resident['family_name']}　{resident['given_name']}",
        kana="ヤマダ　タロウ",
        sex="1",
        last_address="東京都見本市本町一丁目5番地",
        registered_on=date(2026, 6, 1),
    )
    mine = _register(db, town, abroad)
    with db.unit_of_work(town) as uow:
        service.load_districts(uow, CTX, service.LoadDistricts(TABLE))
        roll = service.register_roll(uow, CTX, regular(SEPTEMBER, [resident]))
        uow.commit()
    assert (roll.registered, roll.marked, roll.newly_registered) == (1, 0, 1)
    with db.unit_of_work(town) as uow:
        entries = service.roll_entries(uow, CTX, service.RollQuery(roll.id))
        by_district = service.roll_entries(uow, CTX, service.RollQuery(roll.id, "01"))
        counts = service.roll_counts(uow, CTX, service.RollQuery(roll.id))
        living = service.load_districts(uow, CTX, service.LoadDistricts(TABLE))
        uow.commit()
    assert [e.atena_number for e in entries] == [resident["atena_number"]]
    assert [e.atena_number for e in by_district] == [resident["atena_number"]]
    assert [(c.district, c.male, c.female, c.total) for c in counts] == [("01", 1, 0, 1)]
    assert living.moved == () and living.without_district == ()
    from kikan.electoral_roll import report

    csv_text = report.extract_csv(entries).decode("utf-8-sig")
    assert "在英国日本国大使館" not in csv_text and len(csv_text.splitlines()) == 2
    # and the overseas register holds only the overseas elector, unchanged by the roll
    with db.unit_of_work(town) as uow:
        listed = overseas.list_overseas(uow, CTX, overseas.ListOverseas())
        again = overseas.get_overseas(uow, CTX, overseas.OverseasQuery(mine.id))
        uow.commit()
    assert [e.id for e in listed] == [mine.id] and again.version == 1


# ---------------------------------------------------------------- API and CLI

API = "/api/v1/electoral_roll/overseas"


def _body(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "name": "在外　太郎",
        "kana": "ザイガイ　タロウ",
        "birth_date": "昭和55年1月7日",
        "sex": "1",
        "route": "在外公館申請",
        "honseki": "東京都見本市本町一丁目1番地",
        "consular_district": "在フランス日本国大使館",
        "resident_since": "2024-01-10",
        "japanese_national": True,
        "applied_on": "2025-03-01",
        "registered_on": "2025-04-01",
    }
    return body | changes


def test_the_api_registers_corrects_strikes_and_extracts_for_staff_roles(
    client: TestClient, db: Database
) -> None:
    town = create_tenant(db, "見本市")
    create_staff(db, town, "er_clerk", ["counter"])
    create_staff(db, town, "er_audit", ["auditor"])
    clerk, auditor = bearer(client, town, "er_clerk"), bearer(client, town, "er_audit")

    assert client.post(API, json=_body(), headers=auditor).status_code == 403
    refused = client.post(API, json=_body(resident_since="2025-01-02"), headers=clerk)
    assert refused.status_code == 422 and refused.json()["code"] == "too-short"
    assert "3か月以上" in refused.json()["detail"]
    too_long = client.post(API, json=_body(consular_district="x" * 101), headers=clerk)
    assert too_long.status_code == 422

    made = client.post(API, json=_body(), headers=clerk)
    assert made.status_code == 201, made.text
    entry = made.json()
    assert (entry["state"], entry["version"], entry["birth_date"]) == ("登録", 1, "S55-01-07")
    put = client.put(f"{API}/{entry['id']}", json=_body(kana="ザイガイ　タロー", version=1),
                     headers=clerk)  # fmt: skip
    assert put.status_code == 200 and put.json()["version"] == 2, put.text
    stale = client.put(f"{API}/{entry['id']}", json=_body(version=1), headers=clerk)
    assert stale.status_code == 409 and stale.json()["type"].endswith("stale-version")

    listed = client.get(API, headers=auditor)
    assert listed.status_code == 200 and [e["id"] for e in listed.json()] == [entry["id"]]
    csv_text = client.get(f"{API}/extract.csv", headers=auditor)
    assert csv_text.status_code == 200 and "在外　太郎" in csv_text.content.decode("utf-8-sig")
    counts = client.get(f"{API}/counts", headers=auditor).json()
    assert counts == [{"consular_district": "在フランス日本国大使館", "male": 1, "female": 0,
                       "other": 0, "total": 1}]  # fmt: skip

    struck = client.post(f"{API}/{entry['id']}/strike",
                         json={"reason": "死亡", "effective": "2025-05-01"}, headers=clerk)  # fmt: skip
    assert struck.status_code == 200 and struck.json()["state"] == "抹消", struck.text
    one = client.get(f"{API}/{entry['id']}", headers=auditor).json()
    assert [h["event"] for h in one["history"]] == ["登録", "修正", "抹消"]
    assert client.get(f"{API}/999999", headers=auditor).status_code == 404
    assert client.get(f"{API}/counts", headers=auditor).json() == []


def test_the_cli_registers_strikes_and_extracts(
    backend: Backend, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kikan.cli import app

    town = create_tenant(db, "見本市")
    monkeypatch.setenv("KIKAN_DATABASE_URL", backend.app_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        common = ["electoral_roll", "overseas", "register", "--tenant", town, "--name", "在外　一郎",
                  "--birth-date", "1980-01-07", "--sex", "1", "--consular-district",
                  "在タイ日本国大使館", "--applied-on", "2025-03-01",
                  "--registered-on", "2025-03-02"]  # fmt: skip
        refused = runner.invoke(app, [*common, "--route", "出国時申請",
                                      "--last-address", "東京都見本市本町一丁目5番地"])  # fmt: skip
        assert refused.exit_code == 2 and "選挙人名簿に登録されている者" in refused.output
        done = runner.invoke(app, [*common, "--route", "出国時申請", "--on-city-roll",
                                   "--last-address", "東京都見本市本町一丁目5番地"])  # fmt: skip
        assert done.exit_code == 0, done.output
        out = tmp_path / "overseas.csv"
        written = runner.invoke(
            app, ["electoral_roll", "overseas", "extract", "--tenant", town, "--out", str(out)]
        )
        assert written.exit_code == 0 and "1 人" in written.output, written.output
        assert "在タイ日本国大使館" in out.read_text("utf-8-sig")
        with db.unit_of_work(town) as uow:
            entry = uow.session.scalars(select(OverseasEntryRow.id)).one()
        struck = runner.invoke(app, ["electoral_roll", "overseas", "strike", "--tenant", town,
                                     "--entry", str(entry), "--reason", "国内転入",
                                     "--effective", "2025-06-01"])  # fmt: skip
        assert struck.exit_code == 0, struck.output
        bad = runner.invoke(app, ["electoral_roll", "overseas", "strike", "--tenant", town,
                                  "--entry", str(entry), "--reason", "国内転入",
                                  "--effective", "2025-06-01"])  # fmt: skip
        assert bad.exit_code == 2 and "既に抹消" in bad.output
    finally:
        get_settings.cache_clear()
