"""個人住民税's use cases on both backends: the 賦課期日 list, intake with every row accounted for,
matching and the worklist, 申告, 賦課 in resumable chunks, 更正 with both versions and the 期割
difference, the 期割 for 収納, notices, and tenant isolation."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from kikan.errors import ConflictError, InvalidError, NotFoundError
from kikan.juminzei import calc, domain, rules
from kikan.juminzei.service import assessment, notices, records
from kikan.juminzei.service import commands as cmd
from kikan.juminzei.store import AssessmentRow, IncomeRow, InstallmentRow
from kikan.platform.context import Context
from kikan.platform.store import AuditRecordRow
from kikan.platform.uow import Database
from tests.conftest import TEST_ACTOR, create_tenant

CTX = Context(actor=TEST_ACTOR, now=datetime(2026, 5, 10, 3, tzinfo=UTC))
YEAR = 2026  # 令和8年度: 賦課期日 2026-01-01, income of 2025
ASSESSED_ON = date(2026, 5, 10)


def person(atena: str, family: str, given: str, birth: str, **items: str) -> dict[str, str]:
    """A register record as the linkage feed sends it (storage-form dates)."""
    return {
        "atena_number": atena,
        "resident_kind": "1",
        "status": "10",
        "birth_date": birth,
        "family_name": family,
        "given_name": given,
        "family_name_kana": "カゼイ",
        "given_name_kana": given[-2:],
        "sex": "1",
        "household_number": "H" + atena[-3:],
        "prefecture": "東京都",
        "city": "見本市",
        "town": "本町一丁目",
        "banchi": "5番地",
        **items,
    }


REGISTER = (
    person("000000000000201", "課税", "一郎", "S55-04-01"),
    person("000000000000202", "課税", "花子", "S57-08-15", sex="2"),
    person("000000000000203", "年金", "太郎", "S30-01-20"),
    person("000000000000204", "同名", "次郎", "S60-02-02"),
    person("000000000000205", "同名", "次郎", "S60-02-02"),  # same name and birth: ambiguous
    person("000000000000206", "転出", "済子", "S50-05-05", status="20"),  # gone on 1月1日
)
HEADER = (
    "提出義務者番号,提出義務者名称,訂正区分,徴収区分,受給者氏名,受給者氏名カナ,生年月日,"
    "住所（1月1日現在）,支払金額,社会保険料等の金額,控除対象配偶者の有無,配偶者の合計所得,"
    "控除対象扶養親族の数（その他）\n"
)


def kyuyo_csv(*rows: str) -> bytes:
    return (HEADER + "".join(r + "\n" for r in rows)).encode("utf-8")


ICHIRO = "1234567890123,見本商事株式会社,0,1,課税　一郎,カゼイ イチロウ,1980-04-01,見本市本町一丁目5番地,5000000,700000,0,0,0"
HANAKO = "1234567890123,見本商事株式会社,0,2,課税 花子,カゼイ ハナコ,昭和57年8月15日,見本市,2000000,280000,0,0,0"
STRANGER = (
    "9999999999999,他社,0,1,見知らぬ　人,ミシラヌ ヒト,1990-01-01,遠い市,3000000,400000,0,0,0"
)


def _setup(db: Database) -> str:
    tenant = create_tenant(db)
    with db.unit_of_work(tenant) as uow:
        records.take_kijitsu(uow, CTX, cmd.TakeKijitsu(YEAR, REGISTER))
        uow.commit()
    return tenant


def _load(db: Database, tenant: str, content: bytes, kind: str = "kyuyo") -> records.BatchView:
    with db.unit_of_work(tenant) as uow:
        view = records.load_income(uow, CTX, cmd.LoadIncome(YEAR, kind, "f.csv", content))
        uow.commit()
    return view


def _assess_all(
    db: Database, tenant: str, on: date = ASSESSED_ON, limit: int = 500
) -> dict[str, int]:
    totals = {"assessed": 0, "corrected": 0, "unchanged": 0, "errors": 0}
    after = ""
    while True:
        with db.unit_of_work(tenant) as uow:
            report = assessment.assess_year(uow, CTX, cmd.AssessYear(YEAR, on, after, limit))
            uow.commit()
        totals["assessed"] += report.assessed
        totals["corrected"] += report.corrected
        totals["unchanged"] += report.unchanged
        totals["errors"] += len(report.errors)
        after = report.last
        if report.done:
            return totals


def test_the_kijitsu_list_keeps_residents_on_january_first_only(db: Database) -> None:
    tenant = create_tenant(db)
    with db.unit_of_work(tenant) as uow:
        view = records.take_kijitsu(uow, CTX, cmd.TakeKijitsu(YEAR, REGISTER))
        uow.commit()
    assert (view.persons, view.kijitsu) == (5, "2026-01-01")
    with db.unit_of_work(tenant) as uow:
        assert records.on_kijitsu(uow, YEAR, "000000000000206") is None
        ichiro = records.on_kijitsu(uow, YEAR, "000000000000201")
        assert ichiro is not None and ichiro.birth_date == "1980-04-01"
    other = create_tenant(db)
    with db.unit_of_work(other) as uow:  # another tenant sees none of it
        assert records.on_kijitsu(uow, YEAR, "000000000000201") is None


def test_every_row_is_accounted_for_and_bad_rows_get_japanese_reasons(db: Database) -> None:
    tenant = _setup(db)
    bad_amount = ICHIRO.replace(",5000000,", ",五百万,").replace("1980-04-01", "1980-13-01")
    negative = HANAKO.replace(",2000000,", ",-5,")
    no_name = ICHIRO.replace("課税　一郎", "")
    view = _load(db, tenant, kyuyo_csv(ICHIRO, HANAKO, STRANGER, bad_amount, negative, no_name, ""))
    assert (view.rows, view.accepted, view.rejected) == (6, 3, 3)
    assert view.accepted + view.rejected == view.rows
    assert (view.matched, view.unmatched) == (2, 1)
    reasons = {r.row_no: r.reasons for r in view.rejects}
    assert set(reasons) == {5, 6, 7}
    assert any("支払金額が数字ではありません" in r for r in reasons[5])
    assert any(
        "生年月日が日付として読めません" in r for r in reasons[5]
    )  # every fault, not the first
    assert reasons[6] == ("支払金額が負の値です",)
    assert reasons[7] == ("受給者氏名がありません",)
    # the same file again: refused whole, nothing written
    with db.unit_of_work(tenant) as uow:
        before = uow.session.scalar(select(func.count(IncomeRow.id)))
        with pytest.raises(ConflictError) as again:
            records.load_income(
                uow,
                CTX,
                cmd.LoadIncome(
                    YEAR,
                    "kyuyo",
                    "f.csv",
                    kyuyo_csv(ICHIRO, HANAKO, STRANGER, bad_amount, negative, no_name, ""),
                ),
            )
        assert "取込済み" in again.value.message
        assert uow.session.scalar(select(func.count(IncomeRow.id))) == before


def test_duplicates_from_one_employer_are_refused_and_a_correction_supersedes(db: Database) -> None:
    tenant = _setup(db)
    _load(db, tenant, kyuyo_csv(ICHIRO))
    twice = _load(
        db,
        tenant,
        kyuyo_csv(
            ICHIRO.replace("5000000", "5100000"), HANAKO, HANAKO.replace("2000000", "2100000")
        ),
    )
    assert (twice.accepted, twice.rejected) == (1, 2)
    reasons = {r.row_no: " ".join(r.reasons) for r in twice.rejects}
    assert "既に取り込まれています" in reasons[2] and "3 行目にもあります" in reasons[4]
    corrected = _load(
        db, tenant, kyuyo_csv(ICHIRO.replace(",0,1,", ",1,1,").replace("5000000", "5200000"))
    )
    assert (corrected.accepted, corrected.rejected) == (1, 0)
    with db.unit_of_work(tenant) as uow:
        rows = list(
            uow.session.scalars(
                select(IncomeRow)
                .where(IncomeRow.atena_number == "000000000000201")
                .order_by(IncomeRow.id)
            )
        )
        assert [(r.active, r.figures["salary"]) for r in rows] == [
            (False, 5000000),
            (True, 5200000),
        ]
        assert rows[1].supersedes == rows[0].id


def test_files_that_cannot_be_read_are_refused_whole(db: Database) -> None:
    tenant = _setup(db)
    with db.unit_of_work(tenant) as uow:
        with pytest.raises(InvalidError) as missing:
            records.load_income(uow, CTX, cmd.LoadIncome(YEAR, "kyuyo", "x.csv", b"a,b\n1,2\n"))
        assert (
            "必須の列がありません" in missing.value.message and "支払金額" in missing.value.message
        )
        with pytest.raises(InvalidError) as mynumber:
            records.load_income(
                uow,
                CTX,
                cmd.LoadIncome(
                    YEAR,
                    "kyuyo",
                    "x.csv",
                    ("個人番号," + HEADER + "123456789018," + ICHIRO).encode(),
                ),
            )
        assert "個人番号の列" in mynumber.value.message
        with pytest.raises(InvalidError) as kind:
            records.load_income(uow, CTX, cmd.LoadIncome(YEAR, "bonus", "x.csv", kyuyo_csv(ICHIRO)))
        assert "取り込めない種類" in kind.value.message
        assert uow.session.scalar(select(func.count(IncomeRow.id))) == 0
    sjis = kyuyo_csv(ICHIRO).decode("utf-8").encode("cp932")
    assert _load(db, tenant, sjis).matched == 1  # Shift_JIS from spreadsheet software


def test_the_worklist_assign_forward_and_refusals(db: Database) -> None:
    tenant = _setup(db)
    twin = "1234567890123,見本商事株式会社,0,1,同名　次郎,,1985-02-02,見本市,3000000,400000,0,0,0"
    _load(db, tenant, kyuyo_csv(STRANGER, twin))
    with db.unit_of_work(tenant) as uow:
        listed = records.worklist(uow, CTX, cmd.Worklist(YEAR))
        notes = {v.name: v.match_note for v in listed}
        assert notes["同名　次郎"] == "同じ氏名・生年月日の住民が複数います"
        assert "該当者がいません" in notes["見知らぬ　人"]
        stranger = next(v for v in listed if v.name == "見知らぬ　人")
        twin_row = next(v for v in listed if v.name == "同名　次郎")
        with pytest.raises(ConflictError) as not_here:
            records.assign(uow, CTX, cmd.Assign(stranger.id, "000000000000206"))
        assert "賦課期日" in not_here.value.message
        done = records.assign(uow, CTX, cmd.Assign(twin_row.id, "000000000000205"))
        assert (done.match_state, done.atena_number) == (domain.MATCHED, "000000000000205")
        gone = records.forward(uow, CTX, cmd.Forward(stranger.id, "遠い市"))
        assert gone.match_state == domain.FORWARDED
        with pytest.raises(ConflictError):
            records.assign(uow, CTX, cmd.Assign(stranger.id, "000000000000201"))
        with pytest.raises(NotFoundError):
            records.assign(uow, CTX, cmd.Assign(99999, "000000000000201"))
        assert records.worklist(uow, CTX, cmd.Worklist(YEAR)) == []
        uow.commit()


def test_intake_before_the_kijitsu_list_matches_once_it_is_taken(db: Database) -> None:
    tenant = create_tenant(db)
    first = _load(db, tenant, kyuyo_csv(ICHIRO))
    assert (first.matched, first.unmatched) == (0, 1)
    with db.unit_of_work(tenant) as uow:
        view = records.take_kijitsu(uow, CTX, cmd.TakeKijitsu(YEAR, REGISTER))
        uow.commit()
    assert view.rematched == 1


def _expected(
    case: dict[str, object], profile: calc.MunicipalityProfile | None = None
) -> calc.Assessment:
    return calc.assess(
        calc.parse_case(case), rules.load_rules(YEAR), profile or calc.MunicipalityProfile()
    )


def test_assessment_uses_the_engine_and_splits_into_installments(db: Database) -> None:
    tenant = _setup(db)
    _load(db, tenant, kyuyo_csv(ICHIRO, HANAKO))
    totals = _assess_all(db, tenant, limit=1)  # one person per chunk: the run resumes by cursor
    assert totals == {"assessed": 2, "corrected": 0, "unchanged": 0, "errors": 0}
    assert _assess_all(db, tenant) == {"assessed": 0, "corrected": 0, "unchanged": 2, "errors": 0}
    with db.unit_of_work(tenant) as uow:
        ichiro = assessment.taxpayer(uow, CTX, cmd.TaxpayerQuery(YEAR, "000000000000201"))
        hanako = assessment.taxpayer(uow, CTX, cmd.TaxpayerQuery(YEAR, "000000000000202"))
        uow.commit()
    # 一郎: born 1980-04-01 → 45 on 2025-12-31; the engine's own figures, stored as they came
    want = _expected(
        {
            "age": 45,
            "sex": "male",
            "salary_revenue": 5_000_000,
            "social_insurance": 700_000,
            "housing_loan_credit": 0,
            "dependants": [],
        }
    )
    (v1,) = ichiro.versions
    assert v1.annual_tax == want.annual_tax and v1.result == want.to_json()
    assert (v1.method, v1.employer_key, v1.reason) == (domain.TOKUCHO, "1234567890123", "当初")
    months = list(v1.installments)
    assert [i.label for i in months][:2] == ["6月分", "7月分"] and len(months) == 12
    assert sum(i.amount for i in months) == v1.annual_tax
    assert all(i.amount % 100 == 0 for i in months[1:])  # the remainder sits in June
    assert months[0].due_date == date(2026, 7, 10) and months[-1].due_date == date(2027, 6, 10)
    # 花子: 普通徴収 (徴収区分 2) in 4 期, the remainder below 1,000円 in 第1期
    (h1,) = hanako.versions
    assert h1.method == domain.FUCHO
    assert [i.due_date for i in h1.installments] == [
        date(2026, 6, 30),
        date(2026, 8, 31),
        date(2026, 10, 31),
        date(2027, 1, 31),
    ]
    amounts = [i.amount for i in h1.installments]
    assert sum(amounts) == h1.annual_tax and all(a % 1000 == 0 for a in amounts[1:])
    assert amounts[0] - amounts[1] < 4000


def test_a_correction_keeps_both_versions_and_adds_only_the_difference(db: Database) -> None:
    tenant = _setup(db)
    _load(db, tenant, kyuyo_csv(HANAKO))
    _assess_all(db, tenant)
    # a 訂正 after the notice: the 2nd 期 has passed on 2026-09-15
    _load(db, tenant, kyuyo_csv(HANAKO.replace(",0,2,", ",1,2,").replace("2000000", "2600000")))
    assert _assess_all(db, tenant, on=date(2026, 9, 15))["corrected"] == 1
    with db.unit_of_work(tenant) as uow:
        view = assessment.taxpayer(uow, CTX, cmd.TaxpayerQuery(YEAR, "000000000000202"))
        first, second = view.versions
        assert (first.current, second.current, second.reason) == (False, True, "更正")
        assert second.annual_tax > first.annual_tax
        diffs = second.installments
        assert {d.kind for d in diffs} == {"更正"}
        assert {d.due_date for d in diffs} == {date(2026, 10, 31), date(2027, 1, 31)}
        charged = uow.session.scalars(
            select(InstallmentRow).where(InstallmentRow.notice_no == second.notice_no)
        )
        per_period = domain.sum_by_period(
            (r.method, domain.Period(r.period, r.label, r.due_date, r.amount)) for r in charged
        )
        assert sum(p.amount for p in per_period.values()) == second.annual_tax
        # the passed 期 keep what they were
        assert per_period[(domain.FUCHO, 1)].amount == first.installments[0].amount
        assert per_period[(domain.FUCHO, 2)].amount == first.installments[1].amount


def test_a_reduction_after_every_due_date_is_one_overpayment(db: Database) -> None:
    tenant = _setup(db)
    _load(db, tenant, kyuyo_csv(HANAKO))
    _assess_all(db, tenant)
    _load(db, tenant, kyuyo_csv(HANAKO.replace(",0,2,", ",1,2,").replace("2000000", "1500000")))
    _assess_all(db, tenant, on=date(2027, 3, 1))
    with db.unit_of_work(tenant) as uow:
        first, second = assessment.taxpayer(
            uow, CTX, cmd.TaxpayerQuery(YEAR, "000000000000202")
        ).versions
    (diff,) = second.installments
    assert diff.amount == second.annual_tax - first.annual_tax < 0
    assert (diff.period, diff.label, diff.due_date) == (
        99,
        "過誤納（還付・充当）",
        date(2027, 4, 30),
    )


def test_returns_replace_what_they_state_and_bad_figures_are_refused(db: Database) -> None:
    tenant = _setup(db)
    _load(db, tenant, kyuyo_csv(ICHIRO))
    with db.unit_of_work(tenant) as uow:
        records.file_return(
            uow,
            CTX,
            cmd.FileReturn(
                YEAR, "000000000000201", {"medical_deduction": 150_000, "furusato_donation": 30_000}
            ),
        )
        with pytest.raises(InvalidError) as negative:
            records.file_return(
                uow, CTX, cmd.FileReturn(YEAR, "000000000000201", {"medical_deduction": -1})
            )
        assert "医療費控除額" in negative.value.message
        with pytest.raises(InvalidError) as age:
            records.file_return(uow, CTX, cmd.FileReturn(YEAR, "000000000000201", {"age": 30}))
        assert "申告では age" in age.value.message
        with pytest.raises(ConflictError):
            records.file_return(uow, CTX, cmd.FileReturn(YEAR, "000000000000206", {}))
        uow.commit()
    _assess_all(db, tenant)
    with db.unit_of_work(tenant) as uow:
        (v,) = assessment.taxpayer(uow, CTX, cmd.TaxpayerQuery(YEAR, "000000000000201")).versions
    want = _expected(
        {
            "age": 45,
            "sex": "male",
            "salary_revenue": 5_000_000,
            "social_insurance": 700_000,
            "housing_loan_credit": 0,
            "dependants": [],
            "medical_deduction": 150_000,
            "furusato_donation": 30_000,
        }
    )
    assert v.result == want.to_json()


def test_an_unknown_year_is_a_japanese_error_and_nothing_is_written(db: Database) -> None:
    tenant = create_tenant(db)
    with db.unit_of_work(tenant) as uow:
        with pytest.raises(InvalidError) as unknown:
            assessment.assess_year(uow, CTX, cmd.AssessYear(2031, ASSESSED_ON))
        assert "税制データがありません" in unknown.value.message or "年度" in unknown.value.message
        assert uow.session.scalar(select(func.count(AssessmentRow.id))) == 0


def test_installments_for_collection_and_the_notices(db: Database, tmp_path: Path) -> None:
    tenant = _setup(db)
    _load(db, tenant, kyuyo_csv(ICHIRO, HANAKO))
    _assess_all(db, tenant)
    with db.unit_of_work(tenant) as uow:
        first = assessment.installments_after(uow, CTX, cmd.InstallmentsAfter(0, 10))
        rest = assessment.installments_after(uow, CTX, cmd.InstallmentsAfter(first[-1].id, 100))
        uow.commit()
    assert len(first) == 10 and len(rest) == 12 + 4 - 10
    assert [i.id for i in first + rest] == sorted(i.id for i in first + rest)
    with db.unit_of_work(tenant) as uow:
        a = uow.session.scalars(
            select(AssessmentRow).where(AssessmentRow.atena_number == "000000000000202")
        ).one()
        notice = notices.notice_pdf(uow, CTX, cmd.AssessmentQuery(a.id))
        uow.commit()
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(notice.pdf)).pages)
    assert notice.form_id == "0100001" and "令和8年度" in text
    assert f"{a.annual_tax:,}円" in text and "課税標準" in text and "第1期" in text
    # the batch: resumable, every notice once, the employer list
    with db.unit_of_work(tenant) as uow:
        run = notices.start_notice_run(uow, CTX, cmd.StartNoticeRun(YEAR, str(tmp_path)))
        uow.commit()
    with db.unit_of_work(tenant) as uow:
        step = notices.notice_run_step(uow, CTX, cmd.NoticeRunStep(run.id, limit=1))
        uow.commit()
    assert (step.written, step.status) == (1, notices.RUNNING)
    while step.status != notices.FINISHED:
        with db.unit_of_work(tenant) as uow:
            step = notices.notice_run_step(uow, CTX, cmd.NoticeRunStep(run.id, limit=1))
            uow.commit()
    assert (step.written, step.total, step.employer_lists) == (2, 2, 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"{YEAR}000000000000201-1.pdf",
        f"{YEAR}000000000000202-1.pdf",
        "tokucho-1234567890123.pdf",
    ]
    with db.unit_of_work(tenant) as uow:
        printed = uow.session.scalar(
            select(func.count(AuditRecordRow.id)).where(AuditRecordRow.category == "print")
        )
    assert printed and printed >= 3


NENKIN_HEADER = (
    "支払者番号,支払者名称,訂正区分,受給者氏名,受給者氏名カナ,生年月日,住所（1月1日現在）,"
    "支払金額,社会保険料の金額\n"
)


def test_pension_reports_are_taken_and_assessed_as_pension_income(db: Database) -> None:
    tenant = _setup(db)
    content = (
        NENKIN_HEADER
        + "0000000001,日本年金機構,0,年金　太郎,ネンキン タロウ,1955-01-20,見本市,2400000,180000\n"
        + "0000000001,日本年金機構,0,年金　太郎,ネンキン タロウ,1955-01-20,見本市,-1,0\n"
    ).encode()
    view = _load(db, tenant, content, kind="nenkin")
    assert (view.rows, view.accepted, view.rejected, view.matched) == (2, 1, 1, 1)
    _assess_all(db, tenant)
    with db.unit_of_work(tenant) as uow:
        (v,) = assessment.taxpayer(uow, CTX, cmd.TaxpayerQuery(YEAR, "000000000000203")).versions
    # born 1955-01-20: 70 at 2025-12-31 — the engine's 65-and-over pension deduction applies
    want = _expected({"age": 70, "sex": "male", "pension_revenue": 2_400_000,
                      "social_insurance": 180_000})  # fmt: skip
    assert v.result == want.to_json() and v.method == domain.FUCHO
