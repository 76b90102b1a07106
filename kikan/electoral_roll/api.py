"""REST API of 選挙人名簿管理 under /api/v1/electoral_roll (staff-facing, Japanese, problem+json).

Every endpoint declares its operation once (`uses("electoral_roll.…")`) and opens one unit of
work for the caller's tenant, committing it itself. Registering a roll reads the register as of
the base date over 庁内データ連携 (the module's linkage client) inside that unit of work: a
failure half-way writes nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from kikan.electoral_roll import domain, overseas, report, service
from kikan.electoral_roll.linkage import CONSUMER, as_of_records
from kikan.electoral_roll.settings import ElectoralRollSettings
from kikan.linkage.consumer import LinkageError
from kikan.linkage.consumer.api import add_link_routes
from kikan.platform.deps import DbDep, StaffContextDep, StaffDep, uses
from kikan.platform.errors import ServiceUnavailable
from kikan.platform.functions import Function
from kikan.platform.modules import settings_for
from kikan.platform.types import Chars, Id, ItemClass, Version

router = APIRouter(prefix="/api/v1/electoral_roll", tags=["選挙人名簿管理"])

AtenaNumber = Annotated[str, Chars(15)]
DistrictCode = Annotated[str, Chars(20)]


class ElectionIn(BaseModel):
    name: Annotated[str, Chars(100, min_length=1)] = Field(description="選挙の名称")
    base_date: date = Field(description="登録の基準日（住所要件を判断する日）")
    election_day: date = Field(description="選挙期日（年齢要件を判断する日）")


class ElectionOut(BaseModel):
    id: int


class RollIn(BaseModel):
    base_date: date | None = Field(
        default=None, description="定時登録の基準日（3・6・9・12月の1日）。選挙時登録では省略"
    )
    election_id: Id | None = Field(default=None, description="選挙時登録の選挙の番号")


class RollOut(BaseModel):
    id: int
    kind: str
    base_date: date
    election_day: date
    election_id: int | None
    registered: int = Field(description="登録者数（表示者を除く）")
    marked: int = Field(description="表示者数（転出後4か月以内）")
    digest: str = Field(description="名簿の内容のハッシュ（同じ住民記録・基準日なら同じ値）")
    rules_version: str
    newly_registered: int = 0
    not_on_roll: dict[str, int] = Field(
        default_factory=dict, description="登録しない理由ごとの人数"
    )
    without_district: int = 0


class HistoryOut(BaseModel):
    version: int
    event: str
    effective: date
    reason: str


class EntryOut(BaseModel):
    atena_number: str
    state: str = Field(description="登録 / 表示 / 抹消")
    name: str
    kana: str
    sex: str
    birth_date: str
    address: str
    household_number: str
    district: str
    registered_on: date
    moved_out: date | None
    strike_on: date | None
    struck_on: date | None
    strike_reason: str
    history: list[HistoryOut]


class StrikeIn(BaseModel):
    reason: Annotated[str, Chars(20, min_length=1)] = Field(
        description="登録の誤り / 死亡 / 国籍喪失 / 職権消除"
    )
    effective: date = Field(description="抹消の日")


class StrikeDueIn(BaseModel):
    as_of: date = Field(description="この日までに4か月を経過した表示者を抹消する")


class StruckOut(BaseModel):
    struck: list[str]


class DistrictIn(BaseModel):
    district: DistrictCode = Field(description="投票区コード")
    name: Annotated[str, Chars(100)] = Field(default="", description="投票区の名称")
    town: Annotated[str, Chars(100, min_length=1)] = Field(description="町字")
    banchi_from: Id | None = Field(default=None, description="番地の始め（省略: 町字の全域）")
    banchi_to: Id | None = Field(default=None, description="番地の終わり（省略: 以降すべて）")


class DistrictsIn(BaseModel):
    rows: list[DistrictIn] = Field(max_length=10000)


class DistrictMoveOut(BaseModel):
    atena_number: str
    before: str
    after: str


class DistrictsOut(BaseModel):
    version: int
    rows: int
    moved: list[DistrictMoveOut] = Field(description="投票区が変わった選挙人")
    without_district: list[str] = Field(description="区域表に住所がない選挙人（宛名番号）")


class CountOut(BaseModel):
    district: str
    name: str
    male: int
    female: int
    other: int
    total: int


def _roll_out(view: service.RollView) -> RollOut:
    return RollOut(
        id=view.id, kind=view.kind, base_date=view.base_date, election_day=view.election_day,
        election_id=view.election_id, registered=view.registered, marked=view.marked,
        digest=view.digest, rules_version=view.rules_version,
        newly_registered=view.newly_registered, not_on_roll=dict(view.not_on_roll),
        without_district=view.without_district,
    )  # fmt: skip


def _entry_out(view: service.RegisterView) -> EntryOut:
    e = view.entry
    return EntryOut(
        atena_number=e.atena_number, state=view.state, name=e.name, kana=e.kana, sex=e.sex,
        birth_date=e.birth_date, address=e.address, household_number=e.household_number,
        district=e.district, registered_on=view.registered_on, moved_out=e.moved_out,
        strike_on=e.strike_on, struck_on=view.struck_on, strike_reason=view.strike_reason,
        history=[HistoryOut(version=h.version, event=h.event, effective=h.effective,
                            reason=h.reason) for h in view.history],
    )  # fmt: skip


@router.post("/elections", summary="選挙の登録", status_code=201, response_model=ElectionOut)
def add_election(
    body: ElectionIn,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("electoral_roll.elections_add")],
    db: DbDep,
) -> ElectionOut:
    with db.unit_of_work(staff.scope) as uow:
        command = service.CreateElection(body.name, body.base_date, body.election_day)
        election = service.create_election(uow, ctx, command)
        uow.commit()
    return ElectionOut(id=election)


@router.post(
    "/rolls",
    summary="名簿の登録（定時登録・選挙時登録）: 基準日の住民記録から作成して確定する",
    status_code=201,
    response_model=RollOut,
)
def register_roll(
    body: RollIn,
    *,
    request: Request,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("electoral_roll.roll_register")],
    db: DbDep,
) -> RollOut:
    settings = settings_for(request.app.state, ElectoralRollSettings)
    with db.unit_of_work(staff.scope) as uow:  # fail fast: nothing is read for a refused roll
        _kind, base, day, _election = service.check_roll(
            uow, ctx, service.CheckRoll(body.base_date, body.election_id)
        )
    # the register as of the base date, read over HTTP and judged before the roll's transaction
    try:
        records = as_of_records(
            db, staff.scope, base, base_url=settings.linkage_url or None,
            page_size=settings.page_size,
        )  # fmt: skip
        judged = domain.judge_all(records, base_date=base, election_day=day)
    except LinkageError as exc:
        raise ServiceUnavailable(  # noqa: B904 - the kit's message is the detail
            f"基準日の住民記録を読めませんでした（名簿は作成していません）: {exc}"
        )
    with db.unit_of_work(staff.scope) as uow:
        command = service.RegisterRoll(body.base_date, body.election_id, judged)
        view = service.register_roll(uow, ctx, command)
        uow.commit()
    return _roll_out(view)


@router.get("/rolls", summary="確定した名簿の一覧", response_model=list[RollOut])
def list_rolls(
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("electoral_roll.rolls_read")],
    db: DbDep,
) -> list[RollOut]:
    with db.unit_of_work(staff.scope) as uow:
        return [_roll_out(v) for v in service.list_rolls(uow, ctx, service.ListRolls())]


@router.get("/rolls/{roll_id}", summary="確定した名簿", response_model=RollOut)
def get_roll(
    roll_id: Id,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("electoral_roll.rolls_read")],
    db: DbDep,
) -> RollOut:
    with db.unit_of_work(staff.scope) as uow:
        return _roll_out(service.get_roll(uow, ctx, service.RollQuery(roll_id)))


@router.get(
    "/rolls/{roll_id}/extract.csv",
    summary="選挙人名簿抄本（CSV、住所・世帯の順）",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "UTF-8（BOM 付き）の CSV"}},
)
def extract(
    roll_id: Id,
    *,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("electoral_roll.extract")],
    db: DbDep,
    district: Annotated[DistrictCode | None, Query(description="投票区（省略: 全投票区）")] = None,
) -> Response:
    with db.unit_of_work(staff.scope) as uow:
        entries = service.roll_entries(uow, ctx, service.RollQuery(roll_id, district))
        uow.commit()  # the access log record of the output
    name = f"roll-{roll_id}" + (f"-{district}" if district else "") + ".csv"
    return Response(
        report.extract_csv(entries),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/rolls/{roll_id}/extract.pdf",
    summary="選挙人名簿抄本（PDF、投票区ごと、住所・世帯の順）",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "帳票ID 0060001（仮）"}},
)
def extract_pdf(
    roll_id: Id,
    *,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("electoral_roll.extract")],
    db: DbDep,
    district: Annotated[DistrictCode, Query(description="投票区")],
) -> Response:
    query = service.RollQuery(roll_id, district, output="pdf")
    with db.unit_of_work(staff.scope) as uow:
        heading = service.extract_heading(uow, ctx, query)
        entries = service.roll_entries(uow, ctx, query)
        uow.commit()  # the access log record of the output
    result = report.extract_pdf(entries, heading)
    return Response(
        result.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="roll-{roll_id}-{district}.pdf"'},
    )


@router.get(
    "/rolls/{roll_id}/counts",
    summary="登録者数（投票区・男女別）。format=html / xlsx で帳票",
    response_model=list[CountOut],
    responses={
        200: {
            "content": {
                "text/html": {},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
            }
        }
    },
)
def counts(
    roll_id: Id,
    *,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("electoral_roll.counts")],
    db: DbDep,
    format: Annotated[str, Chars(4), Query(description="json / html / xlsx")] = "json",
) -> Response | list[CountOut]:
    with db.unit_of_work(staff.scope) as uow:
        roll = service.get_roll(uow, ctx, service.RollQuery(roll_id))
        rows = service.roll_counts(uow, ctx, service.RollQuery(roll_id))
    if format == "html":
        return Response(report.counts_html(rows, roll.base_date), media_type="text/html")
    if format == "xlsx":
        return Response(
            report.counts_xlsx(rows, roll.base_date),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="counts-{roll_id}.xlsx"'},
        )
    return [CountOut(district=r.district, name=r.name, male=r.male, female=r.female,
                     other=r.other, total=r.total) for r in rows]  # fmt: skip


@router.get("/register/{atena_number}", summary="選挙人（履歴つき）", response_model=EntryOut)
def get_entry(
    atena_number: AtenaNumber,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("electoral_roll.entry_read")],
    db: DbDep,
) -> EntryOut:
    with db.unit_of_work(staff.scope) as uow:
        view = service.register_entry(uow, ctx, service.EntryQuery(atena_number))
        uow.commit()  # the access log record of the read
    return _entry_out(view)


@router.post("/register/{atena_number}/strike", summary="職権抹消", response_model=EntryOut)
def strike(
    atena_number: AtenaNumber,
    body: StrikeIn,
    *,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("electoral_roll.strike")],
    db: DbDep,
) -> EntryOut:
    with db.unit_of_work(staff.scope) as uow:
        command = service.Strike(atena_number, body.reason, body.effective)
        view = service.strike(uow, ctx, command)
        uow.commit()
    return _entry_out(view)


@router.post(
    "/register/strike-due", summary="抹消処理（転出後4か月を経過した表示者）",
    response_model=StruckOut,
)  # fmt: skip
def strike_due(
    body: StrikeDueIn,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("electoral_roll.strike_due")],
    db: DbDep,
) -> StruckOut:
    with db.unit_of_work(staff.scope) as uow:
        struck = service.strike_due(uow, ctx, service.StrikeDue(body.as_of))
        uow.commit()
    return StruckOut(struck=struck)


@router.put("/districts", summary="投票区の区域表の登録", response_model=DistrictsOut)
def load_districts(
    body: DistrictsIn,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("electoral_roll.districts_load")],
    db: DbDep,
) -> DistrictsOut:
    rows = tuple(
        domain.DistrictRange(r.district, r.name, r.town, r.banchi_from, r.banchi_to)
        for r in body.rows
    )
    with db.unit_of_work(staff.scope) as uow:
        loaded = service.load_districts(uow, ctx, service.LoadDistricts(rows))
        uow.commit()
    return DistrictsOut(
        version=loaded.version,
        rows=loaded.rows,
        moved=[
            DistrictMoveOut(atena_number=m.atena_number, before=m.before, after=m.after)
            for m in loaded.moved
        ],
        without_district=list(loaded.without_district),
    )


@router.get("/districts", summary="投票区の区域表（現行）", response_model=list[DistrictIn])
def get_districts(
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("electoral_roll.districts_read")],
    db: DbDep,
) -> list[DistrictIn]:
    with db.unit_of_work(staff.scope) as uow:
        _version, table = service.current_districts(uow, ctx, service.CurrentDistricts())
    return [DistrictIn(district=r.district, name=r.name, town=r.town, banchi_from=r.banchi_from,
                       banchi_to=r.banchi_to) for r in table]  # fmt: skip


# the link endpoints (PUT/GET /api/v1/electoral_roll/linkage) are the consumer kit's
add_link_routes(router, CONSUMER)


# ---------------------------------------------------------------- 在外選挙人名簿 (kept separately)
# Its own routes, models and outputs: nothing here reads a roll, and no roll route reads these.


class OverseasIn(BaseModel):
    """An application as staff enter it (出国時申請 or 在外公館申請)."""

    name: Annotated[str, Chars(200, ItemClass.NAME, min_length=1)] = Field(description="氏名")
    kana: Annotated[str, Chars(200, ItemClass.KANA)] = Field(default="", description="氏名カナ")
    birth_date: Annotated[str, Chars(40, min_length=1)] = Field(
        description="生年月日（和暦・西暦・保存形式。不詳も可: 年月日不詳、H20-??-?? など）"
    )
    sex: Annotated[str, Chars(1, min_length=1)] = Field(description="性別 1 男 / 2 女 / 9 / 0")
    route: Annotated[str, Chars(10, min_length=1)] = Field(
        description="申請の経路: 出国時申請 / 在外公館申請"
    )
    last_address: Annotated[str, Chars(400, ItemClass.ADDRESS)] = Field(
        default="", description="最終住所（この市区町村の住所）"
    )
    honseki: Annotated[str, Chars(400, ItemClass.ADDRESS)] = Field(
        default="", description="本籍（最終住所がない在外公館申請）"
    )
    consular_district: Annotated[str, Chars(100, min_length=1)] = Field(
        description="領事官の管轄区域（在外公館）"
    )
    resident_since: date | None = Field(
        default=None, description="管轄区域に住み始めた年月日（在外公館申請では必須）"
    )
    on_city_roll: bool = Field(
        default=False,
        description="この市区町村の選挙人名簿に登録されている（出国時申請、職員が確認）",
    )
    japanese_national: bool = Field(description="日本国民である（申請者の申告）")
    applied_on: date = Field(description="申請日")
    registered_on: date = Field(description="登録日（年齢・期間の要件を判断する日）")

    def facts(self) -> overseas.OverseasFacts:
        return overseas.OverseasFacts(
            name=self.name, kana=self.kana, birth_date=self.birth_date, sex=self.sex,
            route=self.route, last_address=self.last_address, honseki=self.honseki,
            consular_district=self.consular_district, resident_since=self.resident_since,
            on_city_roll=self.on_city_roll, japanese_national=self.japanese_national,
            applied_on=self.applied_on, registered_on=self.registered_on,
        )  # fmt: skip


class OverseasCorrectIn(OverseasIn):
    version: Version = Field(description="読み込んだときの版（楽観ロック）")
    reason: Annotated[str, Chars(100)] = Field(default="修正", description="修正の理由")


class OverseasStrikeIn(BaseModel):
    reason: Annotated[str, Chars(20, min_length=1)] = Field(
        description="死亡 / 国籍喪失 / 国内転入 / 登録の誤り"
    )
    effective: date = Field(description="抹消の日")


class OverseasHistoryOut(BaseModel):
    version: int
    event: str
    effective: date
    reason: str
    recorded_by: str


class OverseasOut(BaseModel):
    id: int
    version: int
    state: str = Field(description="登録 / 抹消")
    name: str
    kana: str
    birth_date: str = Field(description="生年月日（保存形式）")
    sex: str
    route: str
    last_address: str
    honseki: str
    consular_district: str
    resident_since: date | None
    on_city_roll: bool
    applied_on: date
    registered_on: date
    struck_on: date | None
    strike_reason: str
    history: list[OverseasHistoryOut] = Field(default_factory=list)


class OverseasCountOut(BaseModel):
    consular_district: str
    male: int
    female: int
    other: int
    total: int


OverseasState = Annotated[str, Chars(4)]


def _overseas_out(v: overseas.OverseasView) -> OverseasOut:
    return OverseasOut(
        id=v.id, version=v.version, state=v.state, name=v.name, kana=v.kana,
        birth_date=v.birth_date, sex=v.sex, route=v.route, last_address=v.last_address,
        honseki=v.honseki, consular_district=v.consular_district,
        resident_since=v.resident_since, on_city_roll=v.on_city_roll, applied_on=v.applied_on,
        registered_on=v.registered_on, struck_on=v.struck_on, strike_reason=v.strike_reason,
        history=[OverseasHistoryOut(version=h.version, event=h.event, effective=h.effective,
                                    reason=h.reason, recorded_by=h.recorded_by)
                 for h in v.history],
    )  # fmt: skip


@router.post(
    "/overseas", summary="在外選挙人名簿の登録", status_code=201, response_model=OverseasOut
)
def register_overseas(
    body: OverseasIn,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("electoral_roll.overseas_register")],
    db: DbDep,
) -> OverseasOut:
    with db.unit_of_work(staff.scope) as uow:
        view = overseas.register_overseas(uow, ctx, overseas.RegisterOverseas(body.facts()))
        uow.commit()
    return _overseas_out(view)


@router.get(
    "/overseas", summary="在外選挙人名簿の一覧（フリガナ順）", response_model=list[OverseasOut]
)
def list_overseas(
    *,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("electoral_roll.overseas_read")],
    db: DbDep,
    state: Annotated[OverseasState | None, Query(description="登録 / 抹消（省略: 登録）")] = None,
) -> list[OverseasOut]:
    with db.unit_of_work(staff.scope) as uow:
        views = overseas.list_overseas(
            uow, ctx, overseas.ListOverseas(state or overseas.REGISTERED)
        )
        uow.commit()  # the access log record of the read
    return [_overseas_out(v) for v in views]


@router.get(
    "/overseas/extract.csv",
    summary="在外選挙人名簿抄本（CSV、選挙人名簿抄本とは別）",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "UTF-8（BOM 付き）の CSV"}},
)
def extract_overseas(
    *,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("electoral_roll.overseas_extract")],
    db: DbDep,
    state: Annotated[OverseasState | None, Query(description="登録 / 抹消（省略: 登録）")] = None,
) -> Response:
    query = overseas.ListOverseas(state or overseas.REGISTERED, output="csv")
    with db.unit_of_work(staff.scope) as uow:
        views = overseas.list_overseas(uow, ctx, query)
        uow.commit()  # the access log record of the output
    return Response(
        overseas.extract_csv(views),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="overseas.csv"'},
    )


@router.get(
    "/overseas/counts",
    summary="在外選挙人名簿登録者数（領事官の管轄区域・男女別）",
    response_model=list[OverseasCountOut],
)
def count_overseas(
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("electoral_roll.overseas_counts")],
    db: DbDep,
) -> list[OverseasCountOut]:
    with db.unit_of_work(staff.scope) as uow:
        rows = overseas.count_overseas(uow, ctx, overseas.CountOverseas())
    return [OverseasCountOut(consular_district=r.consular_district, male=r.male,
                             female=r.female, other=r.other, total=r.total)
            for r in rows]  # fmt: skip


@router.get("/overseas/{entry_id}", summary="在外選挙人（履歴つき）", response_model=OverseasOut)
def get_overseas(
    entry_id: Id,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("electoral_roll.overseas_read")],
    db: DbDep,
) -> OverseasOut:
    with db.unit_of_work(staff.scope) as uow:
        view = overseas.get_overseas(uow, ctx, overseas.OverseasQuery(entry_id))
        uow.commit()  # the access log record of the read
    return _overseas_out(view)


@router.put(
    "/overseas/{entry_id}", summary="在外選挙人名簿の修正（版の確認つき）",
    response_model=OverseasOut,
)  # fmt: skip
def correct_overseas(
    entry_id: Id,
    body: OverseasCorrectIn,
    *,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("electoral_roll.overseas_correct")],
    db: DbDep,
) -> OverseasOut:
    command = overseas.CorrectOverseas(entry_id, body.version, body.facts(), body.reason)
    with db.unit_of_work(staff.scope) as uow:
        view = overseas.correct_overseas(uow, ctx, command)
        uow.commit()
    return _overseas_out(view)


@router.post(
    "/overseas/{entry_id}/strike", summary="在外選挙人名簿の抹消", response_model=OverseasOut
)
def strike_overseas(
    entry_id: Id,
    body: OverseasStrikeIn,
    *,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("electoral_roll.overseas_strike")],
    db: DbDep,
) -> OverseasOut:
    command = overseas.StrikeOverseas(entry_id, body.reason, body.effective)
    with db.unit_of_work(staff.scope) as uow:
        view = overseas.strike_overseas(uow, ctx, command)
        uow.commit()
    return _overseas_out(view)
