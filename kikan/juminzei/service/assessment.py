"""個人住民税: 賦課 (the engine on each taxpayer's records), 更正, the 期割 and their hand-over to
収納, and the taxpayer view staff explain a tax from.

A run goes through the year's taxpayers in 宛名番号 order, a bounded chunk per call (the caller
commits each call: a run that stops resumes where it was, and a taxpayer already assessed on the
same records is skipped). A taxpayer whose records changed after the 当初 賦課 gets a 更正: a new
version (both kept) and the difference as new 期割 entries, never an edit of what 収納 has read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import insert, select

from kikan.errors import DomainError, NotFoundError
from kikan.juminzei import calc, casebuild, domain, rules
from kikan.juminzei.service import records
from kikan.juminzei.service.commands import (
    AssessmentQuery,
    AssessPerson,
    AssessYear,
    Calculate,
    InstallmentsAfter,
    TaxpayerQuery,
)
from kikan.juminzei.service.common import log
from kikan.juminzei.store import AssessmentRow, IncomeRow, InstallmentRow, KijitsuRow
from kikan.platform.context import Context
from kikan.platform.db import utcnow
from kikan.platform.uow import UnitOfWork

TAX_ITEM = "個人住民税"
#: the 税目 code 収納 receives (Kikan's own until the standard's 税目コード list is obtained)
TAX_ITEM_CODE = "010"


@dataclass(frozen=True)
class RunReport:
    fiscal_year: int
    assessed: int
    corrected: int
    unchanged: int
    errors: tuple[tuple[str, str], ...]
    last: str
    done: bool


@dataclass
class _Year:
    """What a chunk needs once: the rules, the tenant's profile and 納期, the split rules."""

    fiscal_year: int
    rules: Any
    profile: calc.MunicipalityProfile
    due_dates: tuple[date, ...]
    collection: domain.CollectionRules
    on: date
    errors: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def load(cls, uow: UnitOfWork, fiscal_year: int, on: date) -> _Year:
        year = domain.check_fiscal_year(fiscal_year)
        book = rules.load_rules(year)
        profile, due_texts = records.municipality(uow)
        col = domain.collection_rules(year)
        due = domain.fucho_due_dates(year, due_texts or col.default_due_dates)
        return cls(year, book, profile, due, col, on)


def _taxpayers_after(uow: UnitOfWork, year: int, after: str, limit: int) -> list[str]:
    return list(
        uow.session.scalars(
            select(IncomeRow.atena_number)
            .where(
                IncomeRow.fiscal_year == year,
                IncomeRow.active.is_(True),
                IncomeRow.match_state.in_((domain.MATCHED, domain.JUTOGAI)),
                IncomeRow.atena_number > after,
            )
            .group_by(IncomeRow.atena_number)
            .order_by(IncomeRow.atena_number)
            .limit(limit)
        )
    )


def _method(rows: Sequence[IncomeRow], annual_tax: int) -> tuple[str, str, str]:
    """(徴収方法, 特別徴収義務者番号, 名称): 特別徴収 by the employer paying the most among the
    給与支払報告書 marked 特別徴収 of persons still employed; otherwise 普通徴収
    (地方税法 第321条の3:
    給与所得者は特別徴収が原則, 普通徴収 only where the report says why)."""
    if annual_tax <= 0:
        return domain.NONE, "", ""
    employers = [
        r
        for r in rows
        if r.kind == domain.KYUYO
        and r.figures.get("collection") == "1"
        and not r.figures.get("left_on")
        and int(r.figures.get("salary", 0)) > 0
    ]
    if not employers:
        return domain.FUCHO, "", ""
    main = max(employers, key=lambda r: (int(r.figures.get("salary", 0)), -r.id))
    return domain.TOKUCHO, main.payer_key, main.payer_name


def _plan(y: _Year, method: str, total: int) -> list[domain.Period]:
    return domain.plan(method, total, y.collection, y.due_dates)


def _charged(uow: UnitOfWork, notice_no: str) -> dict[tuple[str, int], domain.Period]:
    rows = uow.session.scalars(
        select(InstallmentRow)
        .where(InstallmentRow.notice_no == notice_no)
        .order_by(InstallmentRow.id)
    )
    return domain.sum_by_period(
        (r.method, domain.Period(r.period, r.label, r.due_date, int(r.amount))) for r in rows
    )


@dataclass(frozen=True)
class _Computed:
    """One taxpayer's new assessment, computed before anything is written (a refused case
    leaves nothing behind, without a savepoint per person)."""

    values: dict[str, Any]
    plan: tuple[domain.Period, ...]


def _compute(
    ctx: Context,
    y: _Year,
    atena_number: str,
    *,
    rows: Sequence[IncomeRow],
    person: KijitsuRow | None,
    current: AssessmentRow | None,
) -> _Computed | None:
    """None when the taxpayer's records are those of the current version (nothing to do)."""
    sources = [r.id for r in rows]
    if current is not None and list(current.sources) == sources:
        return None
    case = casebuild.build_case(rows, person, y.fiscal_year)
    result = calc.assess(case, y.rules, y.profile)
    method, employer_key, employer_name = _method(rows, result.annual_tax)
    values = {
        "fiscal_year": y.fiscal_year,
        "atena_number": atena_number,
        "version": (current.version + 1) if current is not None else 1,
        "reason": domain.CORRECTION if current is not None else domain.INITIAL,
        "notice_no": domain.notice_number(y.fiscal_year, atena_number),
        "case": case.model_dump(mode="json"),
        "result": result.to_json(),
        "sources": sources,
        "annual_tax": result.annual_tax,
        "city_total": result.city_total,
        "pref_total": result.pref_total,
        "forest_tax": result.forest_tax,
        "method": method,
        "employer_key": employer_key,
        "employer_name": employer_name,
        "assessed_on": y.on,
        "current": True,
        "created_by": ctx.actor.id,
    }
    return _Computed(values, tuple(_plan(y, method, result.annual_tax)))


def _write_initial(uow: UnitOfWork, done: Sequence[_Computed]) -> None:
    """当初 assessments and their 期割 as two bulk INSERTs (the ids come back in order)."""
    if not done:
        return
    ids = uow.session.scalars(
        insert(AssessmentRow).returning(AssessmentRow.id, sort_by_parameter_order=True),
        [{"tenant_code": uow.tenant, **c.values} for c in done],
    ).all()
    installments = [
        _installment_values(uow, assessment_id, c.values, c.values["method"], p, domain.INITIAL)
        for assessment_id, c in zip(ids, done, strict=True)
        for p in c.plan
    ]
    if installments:
        uow.session.execute(insert(InstallmentRow), installments)


def _write_correction(
    uow: UnitOfWork, y: _Year, computed: _Computed, current: AssessmentRow
) -> None:
    """A 更正: the new version, the old one no longer current, the 期割 difference."""
    values = computed.values
    current.current = False
    uow.session.flush()  # the old version stops being current before the new one is written
    row = AssessmentRow(tenant_code=uow.tenant, **values)
    uow.session.add(row)
    uow.session.flush()  # the id goes on the 期割
    method = values["method"]
    unit = y.collection.tokucho_unit if method == domain.TOKUCHO else y.collection.fucho_unit
    diffs = domain.correction(
        _charged(uow, values["notice_no"]),
        [(method, p) for p in computed.plan],
        values["annual_tax"],
        on=y.on,
        unit=unit,
        extra_due=domain.extra_due_date(y.on),
    )
    for d in diffs:
        period = domain.Period(d.period, d.label, d.due_date, d.amount)
        uow.session.add(
            InstallmentRow(
                **_installment_values(uow, row.id, values, d.method, period, domain.CORRECTION)
            )
        )


def _assess_one(
    uow: UnitOfWork,
    ctx: Context,
    y: _Year,
    atena_number: str,
    *,
    rows: Sequence[IncomeRow],
    person: KijitsuRow | None,
    current: AssessmentRow | None,
) -> str:
    """One taxpayer: "unchanged", "assessed" (当初) or "corrected" (更正)."""
    computed = _compute(ctx, y, atena_number, rows=rows, person=person, current=current)
    if computed is None:
        return "unchanged"
    if current is None:
        _write_initial(uow, [computed])
        return "assessed"
    _write_correction(uow, y, computed, current)
    return "corrected"


def _installment_values(  # noqa: PLR0917 - one 期割 row's facts, in the columns' order
    uow: UnitOfWork,
    assessment_id: int,
    values: dict[str, Any],
    method: str,
    p: domain.Period,
    kind: str,
) -> dict[str, Any]:
    return {
        "tenant_code": uow.tenant,
        "assessment_id": assessment_id,
        "fiscal_year": values["fiscal_year"],
        "atena_number": values["atena_number"],
        "notice_no": values["notice_no"],
        "method": method,
        "period": p.period,
        "label": p.label,
        "due_date": p.due_date,
        "amount": p.amount,
        "kind": kind,
        "employer_key": values["employer_key"] if method == domain.TOKUCHO else "",
        "created_at": utcnow(),
    }


def _chunk(uow: UnitOfWork, ctx: Context, y: _Year, numbers: Sequence[str]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    if not numbers:
        return counts
    by_person: dict[str, list[IncomeRow]] = defaultdict(list)
    for r in uow.session.scalars(
        select(IncomeRow)
        .where(
            IncomeRow.fiscal_year == y.fiscal_year,
            IncomeRow.atena_number.in_(numbers),
            IncomeRow.active.is_(True),
            IncomeRow.match_state.in_((domain.MATCHED, domain.JUTOGAI)),
        )
        .order_by(IncomeRow.id)
    ):
        by_person[r.atena_number].append(r)
    persons = {
        p.atena_number: p
        for p in uow.session.scalars(
            select(KijitsuRow).where(
                KijitsuRow.fiscal_year == y.fiscal_year, KijitsuRow.atena_number.in_(numbers)
            )
        )
    }
    currents = {
        a.atena_number: a
        for a in uow.session.scalars(
            select(AssessmentRow).where(
                AssessmentRow.fiscal_year == y.fiscal_year,
                AssessmentRow.atena_number.in_(numbers),
                AssessmentRow.current.is_(True),
            )
        )
    }
    initial: list[_Computed] = []
    for number in numbers:
        current = currents.get(number)
        try:
            computed = _compute(
                ctx, y, number, rows=by_person[number], person=persons.get(number), current=current
            )
        except DomainError as exc:
            y.errors.append((number, exc.message))
            continue
        if computed is None:
            counts["unchanged"] += 1
        elif current is None:
            initial.append(computed)
            counts["assessed"] += 1
        else:
            _write_correction(uow, y, computed, current)
            counts["corrected"] += 1
    _write_initial(uow, initial)
    return counts


def assess_year(uow: UnitOfWork, ctx: Context, command: AssessYear) -> RunReport:
    """One chunk of the 年度's 賦課 after the cursor `command.after` (see AssessYear)."""
    y = _Year.load(uow, command.fiscal_year, command.on)
    numbers = _taxpayers_after(uow, y.fiscal_year, command.after, command.limit)
    counts = _chunk(uow, ctx, y, numbers)
    changed = [n for n in numbers if n not in dict(y.errors)]
    log(
        uow,
        ctx,
        "juminzei.audit.assess",
        "batch.update",
        subjects=changed if counts["assessed"] + counts["corrected"] else [],
        fiscal_year=y.fiscal_year,
        assessed=counts["assessed"],
        corrected=counts["corrected"],
        unchanged=counts["unchanged"],
        errors=len(y.errors),
    )
    return RunReport(
        y.fiscal_year,
        counts["assessed"],
        counts["corrected"],
        counts["unchanged"],
        tuple(y.errors),
        numbers[-1] if numbers else command.after,
        len(numbers) < command.limit,
    )


def assess_person(uow: UnitOfWork, ctx: Context, command: AssessPerson) -> TaxpayerView:
    """賦課 (or 更正) of one taxpayer now: a refused case is the Japanese problem itself."""
    y = _Year.load(uow, command.fiscal_year, command.on)
    rows = records.income_of(uow, y.fiscal_year, command.atena_number)
    if not rows:
        raise NotFoundError(
            "juminzei.no_records",
            f"宛名番号 {command.atena_number} の{y.fiscal_year}年度の課税資料"
            "（照合済み）がありません。",
        )
    current = _current(uow, y.fiscal_year, command.atena_number)
    person = records.on_kijitsu(uow, y.fiscal_year, command.atena_number)
    outcome = _assess_one(
        uow, ctx, y, command.atena_number, rows=rows, person=person, current=current
    )
    log(
        uow,
        ctx,
        "juminzei.audit.assess",
        "change.add",
        subjects=[command.atena_number],
        fiscal_year=y.fiscal_year,
        outcome=outcome,
    )
    return _taxpayer_view(uow, y.fiscal_year, command.atena_number)


def _current(uow: UnitOfWork, year: int, atena_number: str) -> AssessmentRow | None:
    return uow.session.scalars(
        select(AssessmentRow).where(
            AssessmentRow.fiscal_year == year,
            AssessmentRow.atena_number == atena_number,
            AssessmentRow.current.is_(True),
        )
    ).first()


# ---------------------------------------------------------------- views


@dataclass(frozen=True)
class InstallmentView:
    id: int
    assessment_id: int
    fiscal_year: int
    atena_number: str
    notice_no: str
    method: str
    period: int
    label: str
    due_date: date
    amount: int
    kind: str
    employer_key: str


@dataclass(frozen=True)
class AssessmentView:
    id: int
    fiscal_year: int
    atena_number: str
    version: int
    reason: str
    notice_no: str
    annual_tax: int
    city_total: int
    pref_total: int
    forest_tax: int
    method: str
    employer_key: str
    employer_name: str
    assessed_on: date
    current: bool
    result: dict[str, Any]
    installments: tuple[InstallmentView, ...]


@dataclass(frozen=True)
class TaxpayerView:
    fiscal_year: int
    atena_number: str
    name: str
    address: str
    versions: tuple[AssessmentView, ...]
    income: tuple[records.IncomeView, ...]


def _installment_view(r: InstallmentRow) -> InstallmentView:
    return InstallmentView(
        r.id,
        r.assessment_id,
        r.fiscal_year,
        r.atena_number,
        r.notice_no,
        r.method,
        r.period,
        r.label,
        r.due_date,
        int(r.amount),
        r.kind,
        r.employer_key,
    )


def assessment_view(uow: UnitOfWork, row: AssessmentRow) -> AssessmentView:
    inst = uow.session.scalars(
        select(InstallmentRow)
        .where(InstallmentRow.assessment_id == row.id)
        .order_by(InstallmentRow.id)
    )
    return AssessmentView(
        row.id,
        row.fiscal_year,
        row.atena_number,
        row.version,
        row.reason,
        row.notice_no,
        int(row.annual_tax),
        int(row.city_total),
        int(row.pref_total),
        int(row.forest_tax),
        row.method,
        row.employer_key,
        row.employer_name,
        row.assessed_on,
        row.current,
        dict(row.result),
        tuple(_installment_view(i) for i in inst),
    )


def _taxpayer_view(uow: UnitOfWork, year: int, atena_number: str) -> TaxpayerView:
    versions = uow.session.scalars(
        select(AssessmentRow)
        .where(AssessmentRow.fiscal_year == year, AssessmentRow.atena_number == atena_number)
        .order_by(AssessmentRow.version)
    )
    income = uow.session.scalars(
        select(IncomeRow)
        .where(IncomeRow.fiscal_year == year, IncomeRow.atena_number == atena_number)
        .order_by(IncomeRow.id)
    )
    person = records.on_kijitsu(uow, year, atena_number)
    return TaxpayerView(
        year,
        atena_number,
        person.name if person else "",
        person.address if person else "",
        tuple(assessment_view(uow, v) for v in versions),
        tuple(records.income_view(r) for r in income),
    )


def taxpayer(uow: UnitOfWork, ctx: Context, query: TaxpayerQuery) -> TaxpayerView:
    view = _taxpayer_view(uow, query.fiscal_year, query.atena_number)
    if not view.versions and not view.income:
        raise NotFoundError(
            "juminzei.taxpayer",
            f"宛名番号 {query.atena_number} の{query.fiscal_year}年度の課税はありません。",
        )
    log(
        uow,
        ctx,
        "juminzei.audit.read",
        "inquiry",
        subjects=[query.atena_number],
        fiscal_year=query.fiscal_year,
    )
    return view


def get_assessment(uow: UnitOfWork, ctx: Context, query: AssessmentQuery) -> AssessmentView:
    row = uow.session.get(AssessmentRow, query.assessment_id)
    if row is None or row.tenant_code != uow.tenant:
        raise NotFoundError("juminzei.assessment", "指定された賦課はありません。")
    log(uow, ctx, "juminzei.audit.read", "inquiry", subjects=[row.atena_number], assessment=row.id)
    return assessment_view(uow, row)


def installments_after(
    uow: UnitOfWork, ctx: Context, query: InstallmentsAfter
) -> list[InstallmentView]:
    """期割 for 収納 (a linkage client with scope juminzei.kiwari), oldest first after the
    cursor: 当初 and each 更正's differences, never changed once read."""
    rows = list(
        uow.session.scalars(
            select(InstallmentRow)
            .where(InstallmentRow.id > query.after)
            .order_by(InstallmentRow.id)
            .limit(query.limit)
        )
    )
    if rows:
        log(
            uow,
            ctx,
            "juminzei.audit.installments",
            "euc",
            subjects=sorted({r.atena_number for r in rows}),
            after=query.after,
            count=len(rows),
        )
    return [_installment_view(r) for r in rows]


def calculate(uow: UnitOfWork, ctx: Context, command: Calculate) -> calc.Assessment:
    """試算 with the tenant's profile (or the one given): nothing stored, nothing personal read."""
    book = rules.load_rules(domain.check_fiscal_year(command.fiscal_year))
    if command.profile is not None:
        profile = calc.parse_municipality(dict(command.profile))
    else:
        profile = records.municipality(uow)[0]
    case = calc.parse_case(dict(command.case))
    return calc.assess(case, book, profile)
