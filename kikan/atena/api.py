"""REST API of 宛名管理 under /api/v1/atena.

Two audiences:

* **staff** (sign-in, roles from functions.toml): the 住登外者 register, the 名寄せ worklist and
  history, the query interface and the 統合宛名 swap;
* **other business systems** (linkage clients with client_secret_jwt tokens from
  `/api/v1/linkage/token`, ADR 0012's provider kit): `POST /jutogaishaatenabangofuban` (付番,
  scope `atena.fuban.<業務ID>` per 業務) and the query interface under `/client/…` (scope
  `atena.query`; persons under 支援措置 only with `support_measure`).

The 付番 API answers item faults in the spec's shape, `400 {"errors": [{"code", "message"}]}`
(E0001 必須, E0002 文字種, E0003 桁数, E0004 相関); everything else is the platform's problem+json.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from kikan.atena import domain
from kikan.atena.linkage import CONSUMER
from kikan.atena.service import nayose, query, register, search, togo
from kikan.atena.store import NayoseEventRow, StateRow
from kikan.linkage.consumer.api import add_link_routes
from kikan.linkage.provider import ClientCallerDep, client_context, require_scope
from kikan.platform.deps import DbDep, StaffContextDep, StaffDep, client_uses, uses
from kikan.platform.errors import KikanError, problem_response
from kikan.platform.functions import Function
from kikan.platform.openapi import problem_responses
from kikan.platform.types import Chars, Count, Id, Version

router = APIRouter(prefix="/api/v1/atena", tags=["宛名管理"])

AtenaNumber = Annotated[str, Chars(15)]
PersonValues = Annotated[
    dict[Annotated[str, Chars(40)], Annotated[str | None, Chars(200)]], Field(max_length=40)
]


# ---------------------------------------------------------------- shapes


#: 400: a problem (RFC 9457) whose `errors` member is the spec's list
_INPUT_PROBLEM = {
    **problem_responses(400)[400],
    "description": "項目の誤り: 問題詳細の errors に標準の [{code, message}]"
    "（E0001 必須・E0002 文字種・E0003 桁数・E0004 相関）。すべての誤りを返します。",
}


class CandidateOut(BaseModel):
    atena_number: str
    kind: str = Field(description="宛名区分（1 住民、2 住登外者）")
    score: int
    verdict: str = Field(description="auto_link（個人番号と基本4情報が一致）または review")
    reason: str
    name: str
    kana: str
    birth_date: str
    sex: str
    address: str
    current: bool = Field(description="一致したのが現在の記録か（false: 過去の氏名・住所）")
    support_measure: bool = Field(description="支援措置の対象")
    evidence: list[dict[str, Any]]


class FubanIn(BaseModel):
    shori_kubun: Annotated[str, Chars(1)] = Field(
        description="処理区分（0 新規付番、1 既存番号で登録、2 候補から選択）"
    )
    atena_number: AtenaNumber = Field(default="", description="処理区分 1・2 の宛名番号")
    search_id: Annotated[str, Chars(40)] = Field(
        default="", description="候補を提示した検索ID（処理区分 2、候補提示後の 0）"
    )
    person: PersonValues = Field(
        default_factory=dict,
        description="住登外者宛名基本情報（項目コード → 値。kikan/standard/data/layouts/"
        "atena.toml の jutogai。gyomu_id 必須）",
    )


class FubanOut(BaseModel):
    result: str = Field(description="numbered / registered / chosen / candidates")
    atena_number: str = ""
    search_id: str = ""
    candidates: list[CandidateOut] = []


def _candidate(c: search.Candidate, *, see_address: bool = True) -> CandidateOut:
    return CandidateOut(
        atena_number=c.atena_number,
        kind=c.source,
        score=c.score,
        verdict=c.assessment.verdict.value,
        reason=c.assessment.reason,
        name=c.state.name,
        kana=c.state.kana,
        birth_date=c.state.birth,
        sex=c.state.sex,
        address=c.state.address if see_address or not c.protected else query.WITHHELD,
        current=c.current,
        support_measure=c.protected,
        evidence=[
            {"attribute": e.attribute, "label": e.label, "agreement": e.agreement.value}
            for e in c.assessment.evidence
        ],
    )


def _fuban_out(result: register.FubanResult, *, see_protected: bool = True) -> FubanOut:
    return FubanOut(
        result=result.result,
        atena_number=result.atena_number,
        search_id=result.search_id,
        candidates=[_candidate(c, see_address=see_protected) for c in result.candidates],
    )


def _errors(exc: domain.AtenaInputError, request: Request) -> JSONResponse:
    """The spec's `errors[{code, message}]`, carried as an RFC 9457 problem (400) like every
    other Kikan error: a client reading either shape finds what it expects."""
    err = KikanError(
        exc.errors[0].message,
        slug="atena-input",
        title="付番・照会の要求に誤りがあります。",
        errors=[{"code": e.code, "message": e.message} for e in exc.errors],
    )
    return problem_response(err, request)


# ---------------------------------------------------------------- 付番 API (clients)


@router.post(
    "/jutogaishaatenabangofuban",
    summary="住登外者宛名番号の付番（処理区分 0・1・2）",
    response_model=FubanOut,
    responses={
        400: _INPUT_PROBLEM,
        401: {"description": "アクセストークンが無効"},
        403: {"description": "業務IDの付番の連携範囲（atena.fuban.<業務ID>）がない"},
        503: {"description": "一時的に処理できません（再試行してください）"},
    },
    dependencies=[client_uses("atena.fuban")],
)
def fuban_api(
    body: FubanIn, request: Request, caller: ClientCallerDep, db: DbDep
) -> FubanOut | JSONResponse:
    gyomu = str(body.person.get("gyomu_id") or "")
    if body.shori_kubun != register.CHOOSE:
        if not gyomu:
            return _errors(
                domain.AtenaInputError(
                    [domain.FieldError("E0001", "gyomu_id", "業務ID: 必須項目です。")]
                ),
                request,
            )
        require_scope(caller, domain.fuban_scope(gyomu))
    ctx = client_context(request, caller)
    command = register.Fuban(
        shori_kubun=body.shori_kubun,
        values=body.person,
        requester=caller.client_id,
        atena_number=body.atena_number,
        search_id=body.search_id,
    )
    try:
        with db.unit_of_work(caller.tenant) as uow:
            result = register.fuban(uow, ctx, command)
            uow.commit()
    except domain.AtenaInputError as exc:
        return _errors(exc, request)
    return _fuban_out(result, see_protected=caller.has("support_measure"))


# ---------------------------------------------------------------- query interface (clients)


class PersonOut(BaseModel):
    atena_number: str
    kind: str = Field(description="宛名区分（1 住民、2 住登外者）")
    status: str = Field(description="住民: 住民状態コード。住登外者: active / closed")
    name: str
    kana: str
    birth_date: str = Field(description="生年月日（保存形式。不詳日を含む）")
    sex: str
    address: str
    valid_from: date | None
    support_measure: bool = Field(description="支援措置の対象（取扱いに注意）")
    representative: bool = Field(description="代表宛名フラグ")
    nayose_target: str = Field(description="名寄せ先宛名番号（名寄せされていなければ空）")
    togo_number: str = Field(description="団体内統合宛名番号（なければ空）")
    members: list[str] = Field(description="名寄せで同一人とされた他の宛名番号")


def _person_out(view: query.PersonView) -> PersonOut:
    return PersonOut(
        atena_number=view.atena_number,
        kind=view.kind,
        status=view.status,
        name=view.name,
        kana=view.kana,
        birth_date=view.birth,
        sex=view.sex,
        address=view.address,
        valid_from=view.valid_from,
        support_measure=view.support_measure,
        representative=view.representative,
        nayose_target=view.nayose_target,
        togo_number=view.togo_number,
        members=list(view.members),
    )


AsOf = Annotated[date | None, Query(description="この日現在（省略時は現在）")]


@router.get(
    "/client/persons/{atena_number}",
    summary="宛名の照会（他業務システム向け）",
    response_model=PersonOut,
    dependencies=[client_uses("atena.client_query")],
)
def client_person(
    atena_number: AtenaNumber,
    *,
    request: Request,
    caller: ClientCallerDep,
    db: DbDep,
    as_of: AsOf = None,
) -> PersonOut:
    require_scope(caller, domain.QUERY_SCOPE)
    ctx = client_context(request, caller)
    with db.unit_of_work(caller.tenant) as uow:
        view = query.who(
            uow,
            ctx,
            query.Who(atena_number, as_of, see_protected=caller.has("support_measure")),
        )
        uow.commit()
    return _person_out(view)


class SearchIn(BaseModel):
    person: PersonValues = Field(
        description="氏名・氏名カナ・生年月日・性別・住所の各項目（項目コード → 値）"
    )


@router.post(
    "/client/search",
    summary="基本4情報による宛名の検索（他業務システム向け）",
    response_model=list[CandidateOut],
    responses={400: _INPUT_PROBLEM},
    dependencies=[client_uses("atena.client_query")],
)
def client_search(
    body: SearchIn, request: Request, caller: ClientCallerDep, db: DbDep
) -> list[CandidateOut] | JSONResponse:
    require_scope(caller, domain.QUERY_SCOPE)
    ctx = client_context(request, caller)
    see = caller.has("support_measure")
    try:
        with db.unit_of_work(caller.tenant) as uow:
            found = query.search_persons(uow, ctx, query.Search(body.person, see_protected=see))
            uow.commit()
    except domain.AtenaInputError as exc:
        return _errors(exc, request)
    return [_candidate(c) for c in found]


# ---------------------------------------------------------------- staff: 住登外者


class JutogaiIn(BaseModel):
    person: PersonValues
    search_id: Annotated[str, Chars(40)] = Field(
        default="", description="候補を確認したうえで新規付番するときの検索ID"
    )


class StateOut(BaseModel):
    version: int
    valid_from: date | None
    recorded_at: datetime
    operator: str
    reason: str
    kind: str
    name: str
    kana: str
    birth_date: str
    sex: str
    address: str


class JutogaiOut(BaseModel):
    atena_number: str
    version: int
    origin: str
    active: bool
    gyomu_id: str
    items: dict[str, str]
    valid_from: date | None
    updated_at: datetime
    updated_by: str
    history: list[StateOut] = []


class JutogaiPageOut(BaseModel):
    total: int
    rows: list[JutogaiOut]


def _state_out(s: StateRow) -> StateOut:
    return StateOut(
        version=s.version, valid_from=s.valid_from, recorded_at=s.recorded_at,
        operator=s.operator, reason=s.reason, kind=s.source, name=s.name, kana=s.kana,
        birth_date=s.birth, sex=s.sex, address=s.address,
    )  # fmt: skip


def _jutogai_out(row: Any, states: list[StateRow] | None = None) -> JutogaiOut:
    return JutogaiOut(
        atena_number=row.atena_number, version=row.version, origin=row.origin, active=row.active,
        gyomu_id=row.gyomu_id, items=dict(row.items), valid_from=row.valid_from,
        updated_at=row.updated_at, updated_by=row.updated_by,
        history=[_state_out(s) for s in states or []],
    )  # fmt: skip


@router.post(
    "/jutogai",
    summary="住登外者の登録（候補があれば候補を返します）",
    response_model=FubanOut,
)
def add_jutogai(
    body: JutogaiIn,
    *,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("atena.jutogai_add")],
    db: DbDep,
) -> FubanOut:
    command = register.Fuban(
        shori_kubun=register.NEW,
        values=body.person,
        requester=f"staff:{ctx.actor.id}",
        search_id=body.search_id,
    )
    with db.unit_of_work(staff.scope) as uow:
        result = register.fuban(uow, ctx, command)
        uow.commit()
    return _fuban_out(result)


@router.get("/jutogai", summary="住登外者の一覧", response_model=JutogaiPageOut)
def list_jutogai(
    *,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("atena.jutogai_read")],
    db: DbDep,
    q: Annotated[str, Chars(100), Query(description="宛名番号・氏名・カナ")] = "",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[Count, Query()] = 0,
) -> JutogaiPageOut:
    with db.unit_of_work(staff.scope) as uow:
        page = register.list_jutogai(uow, ctx, register.ListJutogai(q, limit, offset))
        out = JutogaiPageOut(total=page.total, rows=[_jutogai_out(r) for r in page.rows])
        uow.commit()
    return out


@router.get("/jutogai/{atena_number}", summary="住登外者（履歴つき）", response_model=JutogaiOut)
def get_jutogai(
    atena_number: AtenaNumber,
    *,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("atena.jutogai_read")],
    db: DbDep,
) -> JutogaiOut:
    with db.unit_of_work(staff.scope) as uow:
        detail = register.jutogai_detail(uow, ctx, register.JutogaiQuery(atena_number))
        out = _jutogai_out(detail.row, detail.states)
        uow.commit()
    return out


class JutogaiUpdateIn(BaseModel):
    version: Version = Field(description="読み込んだときの版（楽観ロック）")
    person: PersonValues


@router.put("/jutogai/{atena_number}", summary="住登外者の修正", response_model=JutogaiOut)
def update_jutogai(
    atena_number: AtenaNumber,
    *,
    body: JutogaiUpdateIn,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("atena.jutogai_update")],
    db: DbDep,
) -> JutogaiOut:
    with db.unit_of_work(staff.scope) as uow:
        row = register.update_jutogai(
            uow, ctx, register.UpdateJutogai(atena_number, body.version, body.person)
        )
        out = _jutogai_out(row)
        uow.commit()
    return out


# ---------------------------------------------------------------- staff: query


@router.get("/persons/{atena_number}", summary="宛名の照会", response_model=PersonOut)
def get_person(
    atena_number: AtenaNumber,
    *,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("atena.query")],
    db: DbDep,
    as_of: AsOf = None,
) -> PersonOut:
    with db.unit_of_work(staff.scope) as uow:
        view = query.who(uow, ctx, query.Who(atena_number, as_of))
        uow.commit()
    return _person_out(view)


@router.post("/search", summary="基本4情報による宛名の検索", response_model=list[CandidateOut])
def search_persons(
    body: SearchIn,
    *,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("atena.query")],
    db: DbDep,
) -> list[CandidateOut]:
    with db.unit_of_work(staff.scope) as uow:
        found = query.search_persons(uow, ctx, query.Search(body.person))
        uow.commit()
    return [_candidate(c) for c in found]


# ---------------------------------------------------------------- staff: 名寄せ


class SideOut(BaseModel):
    atena_number: str
    kind: str | None
    name: str
    kana: str
    birth_date: str
    sex: str
    address: str
    support_measure: bool


class WorkItemOut(BaseModel):
    id: int
    version: int
    score: int
    verdict: str
    reason: str
    status: str
    note: str
    evidence: list[dict[str, Any]]
    a: SideOut
    b: SideOut


def _side_out(side: nayose.Side) -> SideOut:
    f = side.facts
    return SideOut(
        atena_number=side.atena_number, kind=side.source, name=f.name if f else "",
        kana=f.kana if f else "", birth_date=f.birth if f else "", sex=f.sex if f else "",
        address=f.address if f else "", support_measure=side.protected,
    )  # fmt: skip


def _work_out(item: nayose.WorkItem) -> WorkItemOut:
    return WorkItemOut(
        id=item.id, version=item.version, score=item.score, verdict=item.verdict,
        reason=item.reason, status=item.status, note=item.note, evidence=item.evidence,
        a=_side_out(item.a), b=_side_out(item.b),
    )  # fmt: skip


@router.get("/nayose/candidates", summary="名寄せ候補の一覧", response_model=list[WorkItemOut])
def worklist(
    *,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("atena.nayose_read")],
    db: DbDep,
    status: Annotated[str, Chars(12), Query(description="open / linked / dismissed")] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[Count, Query()] = 0,
) -> list[WorkItemOut]:
    with db.unit_of_work(staff.scope) as uow:
        items = nayose.worklist(uow, ctx, nayose.Worklist(status, limit, offset))
        uow.commit()
    return [_work_out(i) for i in items]


class DecideIn(BaseModel):
    version: Version
    representative: AtenaNumber = Field(default="", description="代表宛名（名寄せするとき必須）")
    note: Annotated[str, Chars(400)] = ""


class DecidedOut(BaseModel):
    candidate_id: int
    status: str
    event_id: int | None
    representative: str | None


@router.post(
    "/nayose/candidates/{candidate_id}/link", summary="名寄せする", response_model=DecidedOut
)
def link_pair(
    candidate_id: Id,
    *,
    body: DecideIn,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("atena.nayose_decide")],
    db: DbDep,
) -> DecidedOut:
    with db.unit_of_work(staff.scope) as uow:
        done = nayose.link_pair(
            uow, ctx, nayose.LinkPair(candidate_id, body.version, body.representative, body.note)
        )
        uow.commit()
    return DecidedOut(**done.__dict__)


@router.post(
    "/nayose/candidates/{candidate_id}/dismiss",
    summary="別人として処理する",
    response_model=DecidedOut,
)
def dismiss_pair(
    candidate_id: Id,
    *,
    body: DecideIn,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("atena.nayose_decide")],
    db: DbDep,
) -> DecidedOut:
    with db.unit_of_work(staff.scope) as uow:
        done = nayose.dismiss_pair(
            uow, ctx, nayose.DismissPair(candidate_id, body.version, body.note)
        )
        uow.commit()
    return DecidedOut(**done.__dict__)


class UndoIn(BaseModel):
    reason: Annotated[str, Chars(400)]


class EventOut(BaseModel):
    id: int
    action: str
    atena_a: str
    atena_b: str
    representative: str
    before: dict[str, list[Any]]
    after: dict[str, list[Any]]
    undoes: int | None
    undone_by: int | None
    reason: str
    operator: str
    at: datetime


def _event_out(e: NayoseEventRow) -> EventOut:
    return EventOut(
        id=e.id, action=e.action, atena_a=e.atena_a, atena_b=e.atena_b,
        representative=e.representative, before=e.before, after=e.after, undoes=e.undoes,
        undone_by=e.undone_by, reason=e.reason, operator=e.operator, at=e.at,
    )  # fmt: skip


@router.post("/nayose/events/{event_id}/undo", summary="名寄せ解除", response_model=EventOut)
def undo_link(
    event_id: Id,
    *,
    body: UndoIn,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("atena.nayose_decide")],
    db: DbDep,
) -> EventOut:
    with db.unit_of_work(staff.scope) as uow:
        undo_id = nayose.undo_link(uow, ctx, nayose.UndoLink(event_id, body.reason))
        out = _event_out(uow.session.get_one(NayoseEventRow, undo_id))
        uow.commit()
    return out


class RepresentativeIn(BaseModel):
    atena_number: AtenaNumber
    reason: Annotated[str, Chars(400)] = ""


@router.put("/nayose/representative", summary="代表宛名の変更", response_model=EventOut)
def choose_representative(
    body: RepresentativeIn,
    *,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("atena.nayose_decide")],
    db: DbDep,
) -> EventOut:
    with db.unit_of_work(staff.scope) as uow:
        event_id = nayose.choose_representative(
            uow, ctx, nayose.ChooseRepresentative(body.atena_number, body.reason)
        )
        out = _event_out(uow.session.get_one(NayoseEventRow, event_id))
        uow.commit()
    return out


@router.get("/nayose/history", summary="名寄せ履歴", response_model=list[EventOut])
def nayose_history(
    staff: StaffDep,
    *,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("atena.nayose_read")],
    db: DbDep,
    atena_number: Annotated[str, Chars(15), Query()],
) -> list[EventOut]:
    with db.unit_of_work(staff.scope) as uow:
        events = nayose.history(uow, ctx, nayose.History(atena_number))
        out = [_event_out(e) for e in events]
        uow.commit()
    return out


# ---------------------------------------------------------------- staff: 団体内統合宛名


class TogoOut(BaseModel):
    togo_number: str
    atena_numbers: list[str]


@router.get(
    "/togo/by-atena/{atena_number}",
    summary="宛名番号から団体内統合宛名番号",
    response_model=TogoOut,
    responses={
        **problem_responses(409),
        409: {
            **problem_responses(409)[409],
            "description": "個人番号が登録されていないため団体内統合宛名番号がない（no-togo）",
        },
    },
)
def togo_by_atena(
    atena_number: AtenaNumber,
    *,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("atena.togo_read")],
    db: DbDep,
) -> TogoOut:
    with db.unit_of_work(staff.scope) as uow:
        number = togo.togo_of(uow, ctx, togo.TogoOf(atena_number))
        numbers = togo.atenas_of(uow, ctx, togo.AtenasOf(number))
        uow.commit()
    return TogoOut(togo_number=number, atena_numbers=numbers)


@router.get("/togo/{togo_number}", summary="団体内統合宛名番号から宛名番号", response_model=TogoOut)
def togo_by_number(
    togo_number: AtenaNumber,
    *,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("atena.togo_read")],
    db: DbDep,
) -> TogoOut:
    with db.unit_of_work(staff.scope) as uow:
        numbers = togo.atenas_of(uow, ctx, togo.AtenasOf(togo_number))
        uow.commit()
    return TogoOut(togo_number=togo_number, atena_numbers=numbers)


# the link endpoints (PUT/GET /api/v1/atena/linkage) are the consumer kit's, declared last
add_link_routes(router, CONSUMER)
