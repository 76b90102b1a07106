"""個人住民税の通知書 through the forms engine: 税額決定通知書・納税通知書 (普通徴収,
帳票ID 0100001),
特別徴収税額の決定通知書 for the employee (0100002) and for the employer (a list per 特別徴収義務者,
the same form with one line per employee), 税額変更通知書 after a 更正 (0100003). Each shows the
calculation step by step, so the taxpayer can follow it and staff can explain it.

The batch for a whole city is a run (`juminzei_notice_runs`): each step writes the next notices not
yet written, records them in the same transaction, and can be repeated after a stop; every current
assessment is accounted for as a notice written or as 課税なし (no notice).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from kikan.calendar import format_wareki, to_wareki
from kikan.calendar.wareki import written
from kikan.errors import ConflictError, NotFoundError
from kikan.forms import render
from kikan.forms.document import Certification, FormDocument
from kikan.juminzei import domain
from kikan.juminzei.module import FUNCTIONS
from kikan.juminzei.service import assessment, records
from kikan.juminzei.service.commands import (
    AssessmentQuery,
    NoticeRunQuery,
    NoticeRunStep,
    StartNoticeRun,
)
from kikan.juminzei.store import AssessmentRow, NoticeItemRow, NoticeRunRow
from kikan.platform import audit, tenancy
from kikan.platform.context import Context
from kikan.platform.db import utcnow
from kikan.platform.uow import UnitOfWork

FORM_FUCHO, FORM_TOKUCHO, FORM_CHANGE = "0100001", "0100002", "0100003"
#: 教示 (行政不服審査法 第18条・第82条: 審査請求は処分を知った日の翌日から3か月以内)
KYOJI = (
    "この処分に不服がある場合は、この通知を受け取った日の翌日から起算して3か月以内に、"
    "市町村長に対して審査請求をすることができます。"
)
RUNNING, FINISHED = "running", "finished"


def _yen(value: int | None) -> str:
    return "" if value is None else f"{value:,}円"


def _nendo(fiscal_year: int) -> str:
    w = to_wareki(date(fiscal_year, 4, 1))
    return written(w.era.name, w.year, None, None) + "度"


@dataclass(frozen=True)
class Notice:
    pdf: bytes
    pages: int
    form_id: str
    filename: str


def _form_of(row: AssessmentRow) -> str:
    if row.version > 1:
        return FORM_CHANGE
    return FORM_TOKUCHO if row.method == domain.TOKUCHO else FORM_FUCHO


def _certification(uow: UnitOfWork, ctx: Context) -> Certification:
    """The 通知者 (the mayor, e.g. 日和市長), the 通知日 and the 教示; the 公印 where the tenant has
    one, 公印省略 otherwise."""
    tenant = tenancy.get_tenant(uow, uow.tenant)
    place, title = tenant.name, tenant.mayor_title or "市長"
    office = place + title[1:] if place and title.startswith(place[-1]) else place + title
    return Certification(
        text=KYOJI,
        issue_date=ctx.today,
        certifier_title=office,
        certifier_name=tenant.mayor_name,
        seal_png=tenancy.official_seal_image(uow, uow.tenant),
        notice="" if tenant.has_seal else "公印省略",
    )


def _render(uow: UnitOfWork, ctx: Context, row: AssessmentRow) -> Notice:
    view = assessment.assessment_view(uow, row)
    person = records.on_kijitsu(uow, row.fiscal_year, row.atena_number)
    previous = None
    if row.version > 1:
        previous = uow.session.scalars(
            select(AssessmentRow).where(
                AssessmentRow.fiscal_year == row.fiscal_year,
                AssessmentRow.atena_number == row.atena_number,
                AssessmentRow.version == row.version - 1,
            )
        ).first()
    entries: list[dict[str, str]] = []
    for step in view.result.get("steps", []):
        entries.append(
            {
                "item": str(step["label"]),
                "city": _yen(step.get("city")),
                "pref": _yen(step.get("pref")),
                "total": _yen(step.get("amount")),
            }
        )
    entries.append({"item": "―― 期割（納期限）――", "city": "", "pref": "", "total": ""})
    for inst in view.installments:
        entries.append(
            {
                "item": f"{inst.label}（{domain.METHOD_LABELS.get(inst.method, inst.method)}）"
                f"　納期限 {format_wareki(inst.due_date)}"
                + ("　差額" if inst.kind == domain.CORRECTION else ""),
                "city": "",
                "pref": "",
                "total": _yen(inst.amount),
            }
        )
    difference = "" if previous is None else _yen(int(row.annual_tax) - int(previous.annual_tax))
    doc = FormDocument(
        header={
            "address": person.address if person else "",
            "name": person.name if person else "",
            "atena_number": row.atena_number,
            "fiscal_year": _nendo(row.fiscal_year),
            "notice_no": row.notice_no,
            "version": f"{row.reason}（第{row.version}版）",
            "method": domain.METHOD_LABELS.get(row.method, row.method),
            "employer": row.employer_name,
            "annual_tax": _yen(int(row.annual_tax)),
            "difference": difference,
            "col_item": "区分",
            "col_city": "市町村民税",
            "col_pref": "道府県民税",
            "col_total": "合計・金額",
        },
        entries=tuple(entries),
        certification=_certification(uow, ctx),
        issue_number=row.notice_no,
    )
    form_id = _form_of(row)
    result = render(form_id, doc)
    return Notice(result.pdf, result.pages, form_id, f"{row.notice_no}-{row.version}.pdf")


def _print_audit(
    uow: UnitOfWork, ctx: Context, subjects: list[str], action: str, **detail: object
) -> None:
    audit.append(
        uow,
        ctx.actor,
        audit.AuditEvent(
            category="print",
            action=action,
            function=FUNCTIONS.entry("juminzei.audit.notice"),
            subjects=subjects,
            detail={"output_format": "pdf", **detail},
        ),
    )


def notice_pdf(uow: UnitOfWork, ctx: Context, query: AssessmentQuery) -> Notice:
    """The notice of one assessment version (reprint included: the same figures every time)."""
    row = uow.session.get(AssessmentRow, query.assessment_id)
    if row is None or row.tenant_code != uow.tenant:
        raise NotFoundError("juminzei.assessment", "指定された賦課はありません。")
    notice = _render(uow, ctx, row)
    _print_audit(
        uow,
        ctx,
        [row.atena_number],
        "print",
        form_id=notice.form_id,
        assessment=row.id,
        pages=notice.pages,
    )
    return notice


# ---------------------------------------------------------------- the batch


@dataclass(frozen=True)
class RunView:
    id: int
    fiscal_year: int
    out_dir: str
    total: int
    written: int
    no_notice: int
    status: str
    employer_lists: int


def _counts(uow: UnitOfWork, year: int) -> tuple[int, int]:
    """(assessments needing a notice, current assessments without tax and not changed)."""
    base = select(func.count(AssessmentRow.id)).where(
        AssessmentRow.fiscal_year == year, AssessmentRow.current.is_(True)
    )
    total = int(uow.session.scalar(base) or 0)
    silent = int(
        uow.session.scalar(base.where(AssessmentRow.annual_tax == 0, AssessmentRow.version == 1))
        or 0
    )
    return total - silent, silent


def _run(uow: UnitOfWork, run_id: int) -> NoticeRunRow:
    run = uow.session.get(NoticeRunRow, run_id)
    if run is None or run.tenant_code != uow.tenant:
        raise NotFoundError("juminzei.notice_run", "指定された通知書の作成はありません。")
    return run


def _run_view(uow: UnitOfWork, run: NoticeRunRow) -> RunView:
    _need, silent = _counts(uow, run.fiscal_year)
    lists = len(list(Path(run.out_dir).glob("tokucho-*.pdf"))) if Path(run.out_dir).is_dir() else 0
    return RunView(
        run.id, run.fiscal_year, run.out_dir, run.total, run.written, silent, run.status, lists
    )


def start_notice_run(uow: UnitOfWork, ctx: Context, command: StartNoticeRun) -> RunView:
    year = domain.check_fiscal_year(command.fiscal_year)
    need, _silent = _counts(uow, year)
    if need == 0:
        raise ConflictError(
            "juminzei.nothing_to_notify", f"{year}年度の賦課がありません（先に賦課してください）。"
        )
    out = Path(command.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    run = NoticeRunRow(
        tenant_code=uow.tenant,
        fiscal_year=year,
        out_dir=str(out.resolve()),
        total=need,
        written=0,
        status=RUNNING,
        started_by=ctx.actor.id,
    )
    uow.session.add(run)
    uow.session.flush()  # the run id is returned
    return _run_view(uow, run)


def notice_run_step(uow: UnitOfWork, ctx: Context, command: NoticeRunStep) -> RunView:
    """The next notices of a run (files first, then their record in this transaction: a stop
    between the two rewrites the same file, never skips one)."""
    run = _run(uow, command.run_id)
    if run.status == FINISHED:
        return _run_view(uow, run)
    done = select(NoticeItemRow.assessment_id).where(NoticeItemRow.run_id == run.id)
    pending = list(
        uow.session.scalars(
            select(AssessmentRow)
            .where(
                AssessmentRow.fiscal_year == run.fiscal_year,
                AssessmentRow.current.is_(True),
                ~((AssessmentRow.annual_tax == 0) & (AssessmentRow.version == 1)),
                AssessmentRow.id.not_in(done),
            )
            .order_by(AssessmentRow.atena_number)
            .limit(command.limit)
        )
    )
    out = Path(run.out_dir)
    for row in pending:
        notice = _render(uow, ctx, row)
        (out / notice.filename).write_bytes(notice.pdf)
        uow.session.add(
            NoticeItemRow(
                tenant_code=uow.tenant,
                run_id=run.id,
                assessment_id=row.id,
                filename=notice.filename,
            )
        )
        run.written += 1
    if pending:
        _print_audit(
            uow,
            ctx,
            [r.atena_number for r in pending],
            "batch.print",
            run=run.id,
            notices=len(pending),
        )
    if len(pending) < command.limit:
        lists = _employer_lists(uow, ctx, run)
        run.status, run.finished_at = FINISHED, utcnow()
        _print_audit(uow, ctx, [], "batch.print", run=run.id, employer_lists=lists)
    return _run_view(uow, run)


def _employer_lists(uow: UnitOfWork, ctx: Context, run: NoticeRunRow) -> int:
    """特別徴収税額の決定通知書（特別徴収義務者用）: one PDF per employer listing its employees'
    年税額 and monthly amounts."""
    by_employer: dict[str, list[AssessmentRow]] = defaultdict(list)
    for row in uow.session.scalars(
        select(AssessmentRow)
        .where(
            AssessmentRow.fiscal_year == run.fiscal_year,
            AssessmentRow.current.is_(True),
            AssessmentRow.method == domain.TOKUCHO,
        )
        .order_by(AssessmentRow.employer_key, AssessmentRow.atena_number)
    ):
        by_employer[row.employer_key].append(row)
    for key, rows in by_employer.items():
        entries = []
        for row in rows:
            view = assessment.assessment_view(uow, row)
            months = domain.sum_by_period(
                (i.method, domain.Period(i.period, i.label, i.due_date, i.amount))
                for i in view.installments
            )
            first = min(months.values(), key=lambda p: p.period, default=None)
            later = sorted(
                (p for p in months.values() if first and p.period != first.period),
                key=lambda p: p.period,
            )
            person = records.on_kijitsu(uow, row.fiscal_year, row.atena_number)
            entries.append(
                {
                    "item": f"{person.name if person else ''}（{row.atena_number}）",
                    "city": _yen(int(row.annual_tax)),
                    "pref": f"{first.label} {_yen(first.amount)}" if first else "",
                    "total": f"以降 {_yen(later[0].amount)}" if later else "",
                }
            )
        doc = FormDocument(
            header={
                "address": "",
                "name": rows[0].employer_name,
                "atena_number": key,
                "fiscal_year": _nendo(run.fiscal_year),
                "notice_no": f"{run.fiscal_year}-{key}",
                "version": "特別徴収義務者用",
                "method": "特別徴収",
                "employer": rows[0].employer_name,
                "annual_tax": _yen(sum(int(r.annual_tax) for r in rows)),
                "difference": "",
                "col_item": "納税義務者（宛名番号）",
                "col_city": "年税額",
                "col_pref": "最初の月",
                "col_total": "翌月以降",
            },
            entries=tuple(entries),
            certification=_certification(uow, ctx),
            issue_number=f"{run.fiscal_year}-{key}",
        )
        result = render(FORM_TOKUCHO, doc)
        (Path(run.out_dir) / f"tokucho-{key}.pdf").write_bytes(result.pdf)
        _print_audit(
            uow,
            ctx,
            [r.atena_number for r in rows],
            "batch.print",
            employer=key,
            form_id=FORM_TOKUCHO,
        )
    return len(by_employer)


def get_run(uow: UnitOfWork, ctx: Context, query: NoticeRunQuery) -> RunView:
    return _run_view(uow, _run(uow, query.run_id))
