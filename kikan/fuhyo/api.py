"""REST API of 戸籍の附票 under /api/v1/fuhyo.

Two audiences:

* **staff** (sign-in, roles from functions.toml): 附票 (照会, 職権記載・修正・消除, 改製), the
  worklist of notices that matched no entry (照合・却下) and the 写し as PDF;
* **other municipalities' systems** (linkage clients with client_secret_jwt tokens from
  `/api/v1/linkage/token`, the provider kit): `POST /notices`, the 附票記載事項通知 as JSON
  (scope `fuhyo.notice`).

Every endpoint declares its operation once and opens one unit of work, committing it itself;
refusals are `DomainError`s the platform maps to problems (ADR 0013).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from kikan.fuhyo import domain
from kikan.fuhyo.linkage import CONSUMER
from kikan.fuhyo.service import copies, notices, records
from kikan.linkage.consumer.api import add_link_routes
from kikan.linkage.provider import ClientCallerDep, client_context, require_scope
from kikan.platform.deps import DbDep, StaffContextDep, StaffDep, client_uses, uses
from kikan.platform.functions import Function
from kikan.platform.types import Chars, Id, PageSize

router = APIRouter(prefix="/api/v1/fuhyo", tags=["戸籍の附票"])

Text = Annotated[str, Chars(100)]
LongText = Annotated[str, Chars(200)]
DateText = Annotated[str, Chars(20)]


# ---------------------------------------------------------------- shapes


class HonsekiIn(BaseModel):
    prefecture: Text = ""
    city: Text
    town: Text = ""
    chiban: Text
    head_family_name: Text = Field(description="筆頭者の氏")
    head_given_name: Text = Field("", description="筆頭者の名")

    def value(self) -> domain.Honseki:
        return domain.Honseki(
            self.prefecture,
            self.city,
            self.town,
            self.chiban,
            self.head_family_name,
            self.head_given_name,
        )


class AddressIn(BaseModel):
    prefecture: Text = ""
    city: Text = ""
    town: Text = ""
    banchi: Text = ""
    katagaki: LongText = ""


class PersonIn(BaseModel):
    family_name: Text
    given_name: Text = ""
    family_name_kana: Text = ""
    given_name_kana: Text = ""
    birth_date: DateText = Field("", description="生年月日（YYYY-MM-DD、和暦、保存形式。不詳可）")
    sex: Annotated[str, Chars(1)] = Field("", description="男女の別（1 男、2 女）")
    juminhyo_code: Annotated[str, Chars(11)] = ""
    address: AddressIn = AddressIn()
    address_set_date: DateText = Field("", description="住所を定めた年月日")
    zaigai_note: LongText = Field("", description="在外選挙人に関する記載")

    def facts(self) -> domain.EntryFacts:
        a = self.address
        return domain.EntryFacts(
            family_name=self.family_name,
            given_name=self.given_name,
            family_name_kana=self.family_name_kana,
            given_name_kana=self.given_name_kana,
            birth_date=self.birth_date,
            sex=self.sex,
            juminhyo_code=self.juminhyo_code,
            address=domain.Address(a.prefecture, a.city, a.town, a.banchi, a.katagaki),
            address_set_date=self.address_set_date,
            zaigai_note=self.zaigai_note,
        )


class EntryOut(BaseModel):
    entry_no: int
    rev: int
    atena_number: str
    name: str
    address: str
    address_set_date: str
    birth_date: str
    sex: str
    juminhyo_code: str
    zaigai_note: str
    removed: bool
    removed_on: date | None
    source: str = Field(description="linkage（住民記録）・notice（通知）・staff（職権）")
    reason: str
    notice_id: int | None


class EventOut(BaseModel):
    action: str
    record_type: str
    on: date | None
    reason: str


class RecordOut(BaseModel):
    id: int
    record_type: str = Field(description="附票・除附票・改製原附票")
    honseki: str
    hittousha: str
    closed_on: date | None
    replaced_by: int | None
    entries: list[EntryOut]
    history: list[EntryOut] = Field(default_factory=list, description="すべての版（古い順）")
    events: list[EventOut] = Field(default_factory=list)


def _entry_out(e: records.EntryVersion) -> EntryOut:
    f = e.facts
    return EntryOut(
        entry_no=e.entry_no,
        rev=e.rev,
        atena_number=e.atena_number,
        name=f.name,
        address=f.address.text,
        address_set_date=f.address_set_date,
        birth_date=f.birth_date,
        sex=f.sex,
        juminhyo_code=f.juminhyo_code,
        zaigai_note=f.zaigai_note,
        removed=e.removed,
        removed_on=e.removed_on,
        source=e.source,
        reason=e.reason,
        notice_id=e.notice_id,
    )


def _record_out(v: records.RecordView) -> RecordOut:
    return RecordOut(
        id=v.id,
        record_type=v.record_type,
        honseki=v.honseki.place,
        hittousha=v.honseki.head,
        closed_on=v.closed_on,
        replaced_by=v.replaced_by,
        entries=[_entry_out(e) for e in v.entries],
        history=[_entry_out(e) for e in v.history],
        events=[
            EventOut(action=e.action, record_type=e.record_type, on=e.on, reason=e.reason)
            for e in v.events
        ],
    )


# ---------------------------------------------------------------- 附票 (staff)


@router.get("/records", summary="附票の検索", response_model=list[RecordOut])
def find_records(
    *,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("fuhyo.records_read")],
    db: DbDep,
    honseki: Annotated[str, Chars(200), Query(description="本籍（部分一致）")] = "",
    head: Annotated[str, Chars(100), Query(description="筆頭者の氏名（氏　名）")] = "",
    record_type: Annotated[str, Chars(10), Query()] = "",
    limit: Annotated[PageSize, Query()] = 100,
) -> list[RecordOut]:
    with db.unit_of_work(staff.scope) as uow:
        found = records.find_records(
            uow, ctx, records.FindRecords(honseki, head, record_type, limit)
        )
        uow.commit()
    return [_record_out(v) for v in found]


class CreateRecordIn(BaseModel):
    honseki: HonsekiIn
    reason: LongText


@router.post("/records", summary="附票の作成（職権）", status_code=201, response_model=RecordOut)
def create_record(
    *,
    body: CreateRecordIn,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("fuhyo.records_write")],
    db: DbDep,
) -> RecordOut:
    with db.unit_of_work(staff.scope) as uow:
        made = records.create_record(
            uow, ctx, records.CreateRecord(body.honseki.value(), body.reason)
        )
        uow.commit()
    return _record_out(made)


@router.get("/records/{record_id}", summary="附票の照会（履歴つき）", response_model=RecordOut)
def get_record(
    *,
    record_id: Id,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("fuhyo.records_read")],
    db: DbDep,
) -> RecordOut:
    with db.unit_of_work(staff.scope) as uow:
        found = records.get_record(uow, ctx, records.RecordQuery(record_id))
        uow.commit()
    return _record_out(found)


class EntryIn(BaseModel):
    person: PersonIn
    reason: LongText
    atena_number: Annotated[str, Chars(15)] = ""


@router.post(
    "/records/{record_id}/entries",
    summary="職権記載",
    status_code=201,
    response_model=EntryOut,
)
def add_entry(
    *,
    record_id: Id,
    body: EntryIn,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("fuhyo.records_write")],
    db: DbDep,
) -> EntryOut:
    with db.unit_of_work(staff.scope) as uow:
        made = records.add_entry(
            uow,
            ctx,
            records.AddEntry(record_id, body.person.facts(), body.reason, body.atena_number),
        )
        uow.commit()
    return _entry_out(made)


class CorrectionIn(BaseModel):
    person: PersonIn
    reason: LongText
    rev: Annotated[int | None, Field(ge=1, le=1_000_000)] = Field(
        None, description="修正の元にした版（他の職員の更新との衝突を防ぐ）"
    )


@router.post(
    "/records/{record_id}/entries/{entry_no}/corrections",
    summary="職権修正",
    response_model=EntryOut,
)
def correct_entry(
    *,
    record_id: Id,
    entry_no: Id,
    body: CorrectionIn,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("fuhyo.records_write")],
    db: DbDep,
) -> EntryOut:
    with db.unit_of_work(staff.scope) as uow:
        made = records.correct_entry(
            uow,
            ctx,
            records.CorrectEntry(record_id, entry_no, body.person.facts(), body.reason, body.rev),
        )
        uow.commit()
    return _entry_out(made)


class RemovalIn(BaseModel):
    removed_on: date
    reason: LongText


@router.post(
    "/records/{record_id}/entries/{entry_no}/removal",
    summary="記載の消除",
    response_model=EntryOut,
)
def remove_entry(
    *,
    record_id: Id,
    entry_no: Id,
    body: RemovalIn,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("fuhyo.records_write")],
    db: DbDep,
) -> EntryOut:
    with db.unit_of_work(staff.scope) as uow:
        made = records.remove_entry(
            uow, ctx, records.RemoveEntry(record_id, entry_no, body.removed_on, body.reason)
        )
        uow.commit()
    return _entry_out(made)


class RemakeIn(BaseModel):
    on: date
    reason: LongText


@router.post(
    "/records/{record_id}/remake",
    summary="改製（新しい附票へ移記し、元の附票を改製原附票とする）",
    status_code=201,
    response_model=RecordOut,
)
def remake(
    *,
    record_id: Id,
    body: RemakeIn,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("fuhyo.records_write")],
    db: DbDep,
) -> RecordOut:
    with db.unit_of_work(staff.scope) as uow:
        made = records.remake(uow, ctx, records.Remake(record_id, body.on, body.reason))
        uow.commit()
    return _record_out(made)


class CopyIn(BaseModel):
    include_honseki: bool = Field(False, description="本籍・筆頭者を記載する")
    include_zaigai: bool = Field(False, description="在外選挙人に関する記載を含める")
    entries: list[Id] = Field(default_factory=list, max_length=200, description="空なら全員")
    requester_kind: Annotated[str, Chars(20)] = Field(
        description="self（本人）・agent（代理人）・official（公用）・third_party（第三者）"
    )
    requester_name: Text = ""
    purpose: Annotated[str, Chars(400)] = ""


@router.post(
    "/records/{record_id}/copy",
    summary="戸籍の附票の写し（PDF）",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "PDF"}},
)
def issue_copy(
    *,
    record_id: Id,
    body: CopyIn,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("fuhyo.copy")],
    db: DbDep,
) -> Response:
    options = domain.CopyOptions(body.include_honseki, body.include_zaigai, tuple(body.entries))
    command = copies.IssueCopy(
        record_id, options, body.requester_kind, body.requester_name, body.purpose
    )
    with db.unit_of_work(staff.scope) as uow:
        issued = copies.issue_copy(uow, ctx, command)
        uow.commit()
    return Response(
        issued.pdf,
        media_type="application/pdf",
        headers={"X-Issue-Number": issued.issue_number},
    )


# ---------------------------------------------------------------- 附票記載事項通知 (clients)


class NoticeIn(BaseModel):
    """附票記載事項通知: the 住所地 tells the 本籍地 a person's new 附票 items."""

    sender_code: Annotated[
        str, Chars(6), Field(pattern=r"^\d{6}$", description="通知元の団体コード")
    ]
    sender_name: Text = Field(description="通知元の市区町村名")
    notice_date: date
    reason: Annotated[str, Chars(40)] = Field(description="異動の事由（転入・転居 など）")
    honseki: HonsekiIn
    person: PersonIn


class NoticeOut(BaseModel):
    notice_id: int
    status: str = Field(description="applied（反映）・pending（職員の確認待ち）")
    record_id: int | None
    entry_no: int | None
    message: str


@router.post(
    "/notices",
    summary="附票記載事項通知の受付",
    status_code=201,
    response_model=NoticeOut,
    responses={
        401: {"description": "アクセストークンが無効"},
        403: {"description": "連携範囲 fuhyo.notice がない"},
        409: {"description": "通知が附票の記載より前の日付（何も書かれない）"},
    },
    dependencies=[client_uses("fuhyo.notice")],
)
def receive_notice(
    body: NoticeIn, request: Request, caller: ClientCallerDep, db: DbDep
) -> NoticeOut:
    require_scope(caller, domain.NOTICE_SCOPE)
    ctx = client_context(request, caller)
    command = notices.Notice(
        sender_code=body.sender_code,
        sender_name=body.sender_name,
        notice_date=body.notice_date,
        reason=body.reason,
        honseki=body.honseki.value(),
        facts=body.person.facts(),
        client_id=caller.client_id,
    )
    with db.unit_of_work(caller.tenant) as uow:
        result = notices.receive(uow, ctx, command)
        uow.commit()
    return NoticeOut(
        notice_id=result.notice_id,
        status=result.status,
        record_id=result.record_id,
        entry_no=result.entry_no,
        message=result.message,
    )


class NoticeViewOut(BaseModel):
    id: int
    status: str
    sender_code: str
    sender_name: str
    notice_date: date
    reason: str
    payload: dict[str, object]
    record_id: int | None
    entry_no: int | None
    resolution: str


def _notice_out(v: notices.NoticeView) -> NoticeViewOut:
    return NoticeViewOut(**v.__dict__)


@router.get("/notices", summary="通知の確認待ち一覧", response_model=list[NoticeViewOut])
def worklist(
    *,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("fuhyo.notices_read")],
    db: DbDep,
    status: Annotated[str, Chars(10), Query()] = notices.PENDING,
    limit: Annotated[PageSize, Query()] = 100,
) -> list[NoticeViewOut]:
    with db.unit_of_work(staff.scope) as uow:
        found = notices.worklist(uow, ctx, notices.OpenNotices(status, limit))
        uow.commit()
    return [_notice_out(v) for v in found]


class AttachIn(BaseModel):
    record_id: Id
    entry_no: Id | None = Field(None, description="空なら附票に新しく記載する")
    reason: LongText


@router.post(
    "/notices/{notice_id}/attach", summary="通知を記載に照合して反映", response_model=NoticeViewOut
)
def attach(
    *,
    notice_id: Id,
    body: AttachIn,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("fuhyo.notices_resolve")],
    db: DbDep,
) -> NoticeViewOut:
    with db.unit_of_work(staff.scope) as uow:
        done = notices.attach(
            uow, ctx, notices.Attach(notice_id, body.record_id, body.entry_no, body.reason)
        )
        uow.commit()
    return _notice_out(done)


class RejectIn(BaseModel):
    reason: LongText


@router.post("/notices/{notice_id}/reject", summary="通知の却下", response_model=NoticeViewOut)
def reject(
    *,
    notice_id: Id,
    body: RejectIn,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("fuhyo.notices_resolve")],
    db: DbDep,
) -> NoticeViewOut:
    with db.unit_of_work(staff.scope) as uow:
        done = notices.reject(uow, ctx, notices.Reject(notice_id, body.reason))
        uow.commit()
    return _notice_out(done)


# the link endpoints (PUT/GET /api/v1/fuhyo/linkage) are the consumer kit's, declared last
add_link_routes(router, CONSUMER)
