"""個人住民税 over HTTP (`/api/v1/juminzei`): staff (課税) routes, the 期割 for 収納 (a linkage
client with scope `juminzei.kiwari`), and the consumer kit's link routes.

Persons are learnt only over 庁内データ連携: the 賦課期日 list from the register *as of* 1月1日
(`/linkage/full/residents?as_of=`), 住登外者 from 宛名管理's published interface (AtenaQuery),
both through this tenant's linkage client (`kikan juminzei connect`).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from kikan.juminzei import calc, casebuild, domain
from kikan.juminzei.linkage import CONSUMER, as_of_records, atena_query
from kikan.juminzei.service import assessment, notices, records
from kikan.juminzei.service import commands as cmd
from kikan.juminzei.settings import JuminzeiSettings
from kikan.linkage.consumer import LinkageError
from kikan.linkage.consumer.api import add_link_routes
from kikan.linkage.consumer.atena import AtenaInputRejected
from kikan.linkage.provider import ClientCallerDep, client_context, require_scope
from kikan.platform.deps import DbDep, StaffContextDep, StaffDep, client_uses, uses
from kikan.platform.errors import InvalidInput, ServiceUnavailable
from kikan.platform.functions import Function
from kikan.platform.modules import settings_for
from kikan.platform.types import Chars, Cursor, Id, PageSize

router = APIRouter(prefix="/api/v1/juminzei", tags=["個人住民税"])

AtenaNumber = Annotated[str, Chars(15, min_length=1)]
FiscalYear = Annotated[int, Field(ge=2000, le=2100, description="年度（西暦。令和8年度 = 2026）")]
#: the largest CSV accepted over HTTP (larger files: `kikan juminzei intake`)
CSV_LIMIT = 64 * 1024 * 1024

_LINK_PROBLEMS: dict[int | str, dict[str, Any]] = {
    404: {"description": "庁内データ連携に接続されていない"},
    503: {"description": "庁内データ連携が応答しない"},
}


def _unavailable(exc: LinkageError) -> ServiceUnavailable:
    return ServiceUnavailable(f"庁内データ連携を利用できません: {exc}")


# ---------------------------------------------------------------- profile


class ProfileBody(BaseModel):
    profile: calc.MunicipalityProfile = Field(
        default_factory=calc.MunicipalityProfile,
        description="指定都市・級地・超過課税（docs/juminzei-calc.md の municipality）",
    )
    due_dates: list[Annotated[str, Chars(5)]] = Field(
        default_factory=list,
        max_length=12,
        description="普通徴収の納期限（MM-DD、年度の順。空: 既定の 6/30・8/31・10/31・1/31）",
    )


class ProfileOut(ProfileBody):
    configured: bool


def _profile_out(view: records.ProfileView) -> ProfileOut:
    return ProfileOut(
        profile=calc.parse_municipality(view.profile),
        due_dates=list(view.due_dates),
        configured=view.configured,
    )


@router.get("/profile", summary="団体の課税設定", response_model=ProfileOut)
def get_profile(
    staff: StaffDep,
    *,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("juminzei.profile_read")],
    db: DbDep,
) -> ProfileOut:
    with db.unit_of_work(staff.scope) as uow:
        return _profile_out(records.get_profile(uow, ctx, cmd.GetProfile()))


@router.put(
    "/profile",
    summary="団体の課税設定の変更（指定都市・級地・超過課税・納期）",
    response_model=ProfileOut,
)
def put_profile(
    body: ProfileBody,
    *,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("juminzei.profile")],
    db: DbDep,
) -> ProfileOut:
    command = cmd.SetProfile(body.profile.model_dump(mode="json"), tuple(body.due_dates))
    with db.unit_of_work(staff.scope) as uow:
        out = _profile_out(records.set_profile(uow, ctx, command))
        uow.commit()
    return out


# ---------------------------------------------------------------- 賦課期日


class KijitsuIn(BaseModel):
    fiscal_year: FiscalYear


class KijitsuOut(BaseModel):
    fiscal_year: int
    kijitsu: str = Field(description="賦課期日")
    persons: int = Field(description="賦課期日現在の住民の数")
    rematched: int = Field(description="この取得で照合できた未照合の課税資料の数")


@router.post(
    "/kijitsu",
    summary="賦課期日（1月1日）現在の住民を住民記録から取得（庁内データ連携・基準日指定の全件）",
    response_model=KijitsuOut,
    responses=_LINK_PROBLEMS,
)
def take_kijitsu(
    body: KijitsuIn,
    *,
    request: Request,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("juminzei.kijitsu")],
    db: DbDep,
) -> KijitsuOut:
    settings = settings_for(request.app.state, JuminzeiSettings)
    try:
        rows = tuple(
            as_of_records(
                db,
                staff.scope,
                domain.kijitsu(body.fiscal_year),
                base_url=settings.linkage_url or None,
                page_size=settings.page_size,
            )
        )
    except LinkageError as exc:
        raise _unavailable(exc) from None
    with db.unit_of_work(staff.scope) as uow:
        view = records.take_kijitsu(uow, ctx, cmd.TakeKijitsu(body.fiscal_year, rows))
        uow.commit()
    return KijitsuOut(**view.__dict__)


# ---------------------------------------------------------------- intake


class RejectOut(BaseModel):
    row_no: int = Field(description="ファイルの行番号（見出しが1行目）")
    reasons: list[str]


class BatchOut(BaseModel):
    id: int
    fiscal_year: int
    kind: str
    filename: str
    rows: int = Field(description="明細の行数（= accepted + rejected）")
    accepted: int
    rejected: int
    matched: int
    unmatched: int = Field(description="作業一覧に載った行")
    rejects: list[RejectOut]


def _batch_out(v: records.BatchView) -> BatchOut:
    return BatchOut(
        **{k: getattr(v, k) for k in BatchOut.model_fields if k != "rejects"},
        rejects=[RejectOut(row_no=r.row_no, reasons=list(r.reasons)) for r in v.rejects],
    )


async def _csv_body(request: Request) -> bytes:
    raw = await request.body()
    if len(raw) > CSV_LIMIT:
        raise InvalidInput("CSV は 64 MB までです（大きなファイルは kikan juminzei intake で）。")
    return raw


_CSV_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"text/csv": {"schema": {"type": "string", "maxLength": CSV_LIMIT}}},
    }
}


@router.post(
    "/intake/{kind}",
    summary="給与支払報告書（kyuyo）・公的年金等支払報告書（nenkin）の CSV の取込",
    status_code=201,
    response_model=BatchOut,
    openapi_extra=_CSV_BODY,
    responses={409: {"description": "同じファイルが取込済み"}},
)
def intake(
    kind: Annotated[str, Chars(10)],
    *,
    fiscal_year: Annotated[int, Query(ge=2000, le=2100)],
    content: Annotated[bytes, Depends(_csv_body)],
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("juminzei.intake")],
    db: DbDep,
    filename: Annotated[str, Chars(200), Query()] = "upload.csv",
) -> BatchOut:
    command = cmd.LoadIncome(fiscal_year, kind, filename, content)
    with db.unit_of_work(staff.scope) as uow:
        out = _batch_out(records.load_income(uow, ctx, command))
        uow.commit()
    return out


@router.get("/batches", summary="取込の一覧（行ごとの結果）", response_model=list[BatchOut])
def list_batches(
    fiscal_year: Annotated[int, Query(ge=2000, le=2100)],
    *,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("juminzei.batches_read")],
    db: DbDep,
) -> list[BatchOut]:
    with db.unit_of_work(staff.scope) as uow:
        return [_batch_out(v) for v in records.list_batches(uow, ctx, cmd.ListBatches(fiscal_year))]


# ---------------------------------------------------------------- worklist and matching


class IncomeOut(BaseModel):
    id: int
    fiscal_year: int
    kind: str
    payer_key: str
    payer_name: str
    name: str
    kana: str
    birth_date: str
    address: str
    atena_number: str
    match_state: str
    match_note: str
    active: bool
    figures: dict[str, Any]


def _income_out(v: records.IncomeView) -> IncomeOut:
    return IncomeOut(**v.__dict__)


@router.get("/worklist", summary="未照合の課税資料（作業一覧）", response_model=list[IncomeOut])
def worklist(
    fiscal_year: Annotated[int, Query(ge=2000, le=2100)],
    *,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("juminzei.worklist")],
    db: DbDep,
    limit: Annotated[PageSize, Query()] = 100,
) -> list[IncomeOut]:
    with db.unit_of_work(staff.scope) as uow:
        found = records.worklist(uow, ctx, cmd.Worklist(fiscal_year, limit))
        uow.commit()
    return [_income_out(v) for v in found]


class AssignIn(BaseModel):
    atena_number: AtenaNumber


@router.post(
    "/income/{income_id}/assign",
    summary="課税資料を宛名番号に照合（賦課期日の住民、または宛名管理の住登外者）",
    response_model=IncomeOut,
    responses={**_LINK_PROBLEMS, 409: {"description": "賦課期日の住民でも住登外者でもない"}},
)
def assign(
    income_id: Id,
    *,
    body: AssignIn,
    request: Request,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("juminzei.match")],
    db: DbDep,
) -> IncomeOut:
    with db.unit_of_work(staff.scope) as uow:
        row = records.get_income(uow, ctx, cmd.IncomeQuery(income_id))
        resident = records.on_kijitsu(uow, row.fiscal_year, body.atena_number) is not None
    jutogai = False
    if not resident:  # ask 宛名管理 who the number is, as of the 賦課期日
        settings = settings_for(request.app.state, JuminzeiSettings)
        try:
            with atena_query(db, staff.scope, settings.linkage_url or None) as atena:
                person = atena.who(body.atena_number, as_of=domain.kijitsu(row.fiscal_year))
        except LinkageError as exc:
            if exc.status == 404:
                raise InvalidInput(
                    f"宛名番号 {body.atena_number} は宛名管理にありません。"
                ) from None
            raise _unavailable(exc) from None
        jutogai = person.kind == "2"
    with db.unit_of_work(staff.scope) as uow:
        out = records.assign(uow, ctx, cmd.Assign(income_id, body.atena_number, jutogai))
        uow.commit()
    return _income_out(out)


class NumberIn(BaseModel):
    person: Annotated[
        dict[Annotated[str, Chars(40)], Annotated[str | None, Chars(200)]], Field(max_length=40)
    ] = Field(
        default_factory=dict,
        description="住登外者宛名基本情報（項目コード → 値。gyomu_id は 010 が入る）",
    )
    shori_kubun: Annotated[str, Chars(1)] = Field(default="0", description="処理区分 0・1・2")
    atena_number: Annotated[str, Chars(15)] = ""
    search_id: Annotated[str, Chars(40)] = ""


class NumberOut(BaseModel):
    result: str = Field(description="numbered / registered / chosen / candidates")
    atena_number: str
    search_id: str
    candidates: list[dict[str, Any]]
    income: IncomeOut | None


@router.post(
    "/income/{income_id}/number",
    summary="住登外課税: 宛名管理の付番 API で住登外者宛名番号を付け、課税資料を照合",
    response_model=NumberOut,
    responses={
        **_LINK_PROBLEMS,
        422: {"description": "宛名管理が入力を受け付けない（E0001〜E0004）"},
    },
)
def number(
    income_id: Id,
    *,
    body: NumberIn,
    request: Request,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("juminzei.match")],
    db: DbDep,
) -> NumberOut:
    with db.unit_of_work(staff.scope) as uow:
        records.get_income(uow, ctx, cmd.IncomeQuery(income_id))
    settings = settings_for(request.app.state, JuminzeiSettings)
    person = {k: v or "" for k, v in body.person.items()}
    if body.shori_kubun != "2":
        person["gyomu_id"] = "010"
    try:
        with atena_query(db, staff.scope, settings.linkage_url or None) as atena:
            done = atena.number(
                person,
                shori_kubun=body.shori_kubun,
                atena_number=body.atena_number,
                search_id=body.search_id,
            )
    except AtenaInputRejected as exc:
        text = " ".join(f"{e.get('code', '')} {e.get('message', '')}" for e in exc.errors)
        raise InvalidInput(f"宛名管理が入力を受け付けませんでした: {text}") from None
    except LinkageError as exc:
        raise _unavailable(exc) from None
    income = None
    if done.result != "candidates" and done.atena_number:
        with db.unit_of_work(staff.scope) as uow:
            income = _income_out(
                records.assign(uow, ctx, cmd.Assign(income_id, done.atena_number, jutogai=True))
            )
            uow.commit()
    return NumberOut(
        result=done.result,
        atena_number=done.atena_number,
        search_id=done.search_id,
        candidates=[c.__dict__ for c in done.candidates],
        income=income,
    )


class ForwardIn(BaseModel):
    note: Annotated[str, Chars(200, min_length=1)] = Field(description="回送先（市区町村名など）")


@router.post(
    "/income/{income_id}/forward",
    summary="課税資料の回送（賦課期日の住所地が他団体）",
    response_model=IncomeOut,
    responses={409: {"description": "訂正済み・回送済みの資料"}},
)
def forward(
    income_id: Id,
    *,
    body: ForwardIn,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("juminzei.match")],
    db: DbDep,
) -> IncomeOut:
    with db.unit_of_work(staff.scope) as uow:
        out = records.forward(uow, ctx, cmd.Forward(income_id, body.note))
        uow.commit()
    return _income_out(out)


# ---------------------------------------------------------------- 申告


class ReturnIn(BaseModel):
    fiscal_year: FiscalYear
    atena_number: AtenaNumber
    figures: casebuild.DeclaredFigures = Field(
        description="申告の内容（docs/juminzei-calc.md の項目。age・sex を除く）。書いた項目だけが"
        "給与支払報告書などの値に代わる"
    )
    jutogai: bool = Field(default=False, description="住登外者の申告（宛名管理で確認済み）")


@router.post(
    "/returns",
    summary="申告の入力（修正申告は前の申告に代わる）",
    status_code=201,
    response_model=IncomeOut,
    responses={409: {"description": "賦課期日の住民ではない"}},
)
def file_return(
    body: ReturnIn,
    *,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("juminzei.return")],
    db: DbDep,
) -> IncomeOut:
    figures = body.figures.model_dump(mode="json", exclude_unset=True)
    command = cmd.FileReturn(body.fiscal_year, body.atena_number, figures, body.jutogai)
    with db.unit_of_work(staff.scope) as uow:
        out = records.file_return(uow, ctx, command)
        uow.commit()
    return _income_out(out)


# ---------------------------------------------------------------- 賦課


class RunIn(BaseModel):
    fiscal_year: FiscalYear
    on: date | None = Field(default=None, description="賦課（更正）の日。省略時は処理日")
    chunk: Annotated[int, Field(ge=1, le=5000)] = 500


class RunOut(BaseModel):
    fiscal_year: int
    assessed: int = Field(description="当初賦課した人数")
    corrected: int = Field(description="更正した人数")
    unchanged: int = Field(description="課税資料に変わりがなく、そのままの人数")
    errors: list[dict[str, str]] = Field(description="賦課できなかった人（宛名番号と理由）")


@router.post(
    "/assessments/run",
    summary="賦課の一括処理（当初・更正。区切りごとに確定し、中断しても続きから）",
    response_model=RunOut,
)
def run_assessment(
    body: RunIn,
    *,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("juminzei.assess")],
    db: DbDep,
) -> RunOut:
    on = body.on or ctx.today
    after, totals = "", {"assessed": 0, "corrected": 0, "unchanged": 0}
    errors: list[dict[str, str]] = []
    while True:
        with db.unit_of_work(staff.scope) as uow:
            report = assessment.assess_year(
                uow, ctx, cmd.AssessYear(body.fiscal_year, on, after, body.chunk)
            )
            uow.commit()
        for key in totals:
            totals[key] += getattr(report, key)
        errors += [{"atena_number": n, "reason": r} for n, r in report.errors]
        after = report.last
        if report.done:
            break
    return RunOut(fiscal_year=body.fiscal_year, errors=errors, **totals)


class InstallmentOut(BaseModel):
    id: int
    assessment_id: int
    fiscal_year: int
    atena_number: str
    notice_no: str
    method: str = Field(description="tokucho 特別徴収 / fucho 普通徴収")
    period: int = Field(description="期（特別徴収は月の順。99 は随時・過誤納）")
    label: str
    due_date: date = Field(description="納期限")
    amount: int = Field(description="金額（更正の差額は負もある）")
    kind: str = Field(description="当初 / 更正（差額）")
    employer_key: str = Field(description="特別徴収義務者番号")


class AssessmentOut(BaseModel):
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
    result: dict[str, Any] = Field(description="計算の結果と各段階の数値（steps）")
    installments: list[InstallmentOut]


class TaxpayerOut(BaseModel):
    fiscal_year: int
    atena_number: str
    name: str
    address: str
    versions: list[AssessmentOut]
    income: list[IncomeOut]


def _inst_out(v: assessment.InstallmentView) -> InstallmentOut:
    return InstallmentOut(**v.__dict__)


def _assessment_out(v: assessment.AssessmentView) -> AssessmentOut:
    data = {k: getattr(v, k) for k in AssessmentOut.model_fields if k != "installments"}
    return AssessmentOut(**data, installments=[_inst_out(i) for i in v.installments])


def _taxpayer_out(v: assessment.TaxpayerView) -> TaxpayerOut:
    return TaxpayerOut(
        fiscal_year=v.fiscal_year,
        atena_number=v.atena_number,
        name=v.name,
        address=v.address,
        versions=[_assessment_out(a) for a in v.versions],
        income=[_income_out(i) for i in v.income],
    )


class AssessIn(BaseModel):
    fiscal_year: FiscalYear
    on: date | None = Field(default=None, description="賦課（更正）の日。省略時は処理日")


@router.post(
    "/taxpayers/{atena_number}/assess",
    summary="一人の賦課・更正（課税資料が変わっていれば新しい版と差額の期割）",
    response_model=TaxpayerOut,
)
def assess_person(
    atena_number: AtenaNumber,
    *,
    body: AssessIn,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("juminzei.assess")],
    db: DbDep,
) -> TaxpayerOut:
    command = cmd.AssessPerson(body.fiscal_year, atena_number, body.on or ctx.today)
    with db.unit_of_work(staff.scope) as uow:
        out = _taxpayer_out(assessment.assess_person(uow, ctx, command))
        uow.commit()
    return out


@router.get(
    "/taxpayers/{atena_number}",
    summary="課税の照会（賦課の各版・計算の内訳・期割・課税資料）",
    response_model=TaxpayerOut,
)
def get_taxpayer(
    atena_number: AtenaNumber,
    *,
    fiscal_year: Annotated[int, Query(ge=2000, le=2100)],
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("juminzei.taxpayer_read")],
    db: DbDep,
) -> TaxpayerOut:
    with db.unit_of_work(staff.scope) as uow:
        out = _taxpayer_out(
            assessment.taxpayer(uow, ctx, cmd.TaxpayerQuery(fiscal_year, atena_number))
        )
        uow.commit()
    return out


@router.get(
    "/assessments/{assessment_id}/notice.pdf",
    summary="通知書（税額決定・納税通知書／特別徴収税額の決定通知書／税額変更通知書）の PDF",
    responses={200: {"content": {"application/pdf": {}}, "description": "PDF"}},
)
def notice_pdf(
    assessment_id: Id,
    *,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("juminzei.notice")],
    db: DbDep,
) -> Response:
    with db.unit_of_work(staff.scope) as uow:
        notice = notices.notice_pdf(uow, ctx, cmd.AssessmentQuery(assessment_id))
        uow.commit()
    return Response(
        notice.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{notice.filename}"'},
    )


class CalcIn(BaseModel):
    fiscal_year: FiscalYear
    case: calc.TaxCase
    municipality: calc.MunicipalityProfile | None = Field(
        default=None, description="省略時はこの団体の課税設定"
    )


@router.post(
    "/calc",
    summary="税額の試算（保存しない。kikan juminzei calc と同じ計算）",
    response_model=dict[str, Any],
)
def calculate(
    body: CalcIn,
    *,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("juminzei.calc")],
    db: DbDep,
) -> dict[str, Any]:
    profile = body.municipality.model_dump(mode="json") if body.municipality else None
    command = cmd.Calculate(body.fiscal_year, body.case.model_dump(mode="json"), profile)
    with db.unit_of_work(staff.scope) as uow:
        return assessment.calculate(uow, ctx, command).to_json()


# ---------------------------------------------------------------- 収納 (linkage clients)


@router.get(
    "/client/installments",
    summary="期割の提供（収納システム向け。カーソル after より後を古い順に）",
    response_model=list[InstallmentOut],
    responses={
        401: {"description": "アクセストークンが無効"},
        403: {"description": "連携範囲 juminzei.kiwari がない"},
    },
    dependencies=[client_uses("juminzei.client_installments")],
)
def client_installments(
    request: Request,
    *,
    caller: ClientCallerDep,
    db: DbDep,
    after: Annotated[Cursor, Query()] = 0,
    limit: Annotated[Annotated[int, Field(ge=1, le=1000)], Query()] = 500,
) -> list[InstallmentOut]:
    require_scope(caller, domain.KIWARI_SCOPE)
    ctx = client_context(request, caller)
    with db.unit_of_work(caller.tenant) as uow:
        rows = assessment.installments_after(uow, ctx, cmd.InstallmentsAfter(after, limit))
        uow.commit()
    return [_inst_out(r) for r in rows]


add_link_routes(router, CONSUMER)
