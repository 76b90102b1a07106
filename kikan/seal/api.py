"""REST API of 印鑑登録 under /api/v1/seal (staff-facing, Japanese, problem+json errors).

Every endpoint opens one unit of work and commits it itself. Persons come from the module's own
宛名 replica; a person under 支援措置 is reached only through the card they present.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from kikan.linkage.consumer.api import add_link_routes
from kikan.platform import audit, auth
from kikan.platform.context import Context
from kikan.platform.deps import DbDep, StaffDep, context_for, uses
from kikan.platform.errors import InvalidInput
from kikan.platform.functions import Function
from kikan.platform.types import Base64Image, Chars, Id, ItemClass
from kikan.platform.uow import Database
from kikan.seal import domain, service
from kikan.seal.service.replica import CONSUMER
from kikan.seal.store import SealRegistrationRow

log = logging.getLogger("kikan.seal.api")


router = APIRouter(prefix="/api/v1/seal", tags=["印鑑登録"])


# ---------------------------------------------------------------- schemas


RegistrationNumberPath = Annotated[Id, Path(description="登録番号")]
ReviewIdPath = Annotated[Id, Path(description="確認事項の番号")]
CardNumberPath = Annotated[str, Chars(12), Path(description="印鑑登録証の番号")]
AtenaQuery = Annotated[str, Chars(15), Query(description="宛名番号")]


class RegistrationCreate(BaseModel):
    atena_number: Annotated[str, Chars(15, min_length=1)] = Field(description="宛名番号")
    method: Literal["即日登録", "照会回答"] = Field(
        description="即日登録（写真付き本人確認書類で確認）／照会回答（照会書を郵送し回答書で登録）"
    )
    identity_document: Annotated[str, Chars(50)] = Field(
        default="", description="本人確認書類（即日登録のとき必須）"
    )
    seal_text: Annotated[str, Chars(20, ItemClass.NAME, min_length=1)] = Field(
        description="印影の文字（例: 青木）"
    )
    image_base64: Base64Image = Field(
        min_length=1,
        max_length=800_000,
        description="印影の画像（PNG または JPEG を Base64 で。512KB 以下）",
    )


class AnswerRequest(BaseModel):
    inquiry_code: Annotated[str, Chars(20, min_length=1)] = Field(
        description="照会書に記載の照会番号"
    )


class AbolishRequest(BaseModel):
    card_number: Annotated[str, Chars(12)] | None = Field(
        default=None, description="返納された印鑑登録証の番号（ある場合）"
    )


class RegistrationOut(BaseModel):
    registration_number: int = Field(description="登録番号")
    atena_number: str
    status: str = Field(description="照会中・登録・亡失・廃止・職権抹消・照会期限切れ")
    method: str
    card_number: str | None = Field(description="印鑑登録証番号（登録済みのとき）")
    name: str = Field(description="氏名（登録事項）")
    name_kana: str
    birth_date: str
    sex: str
    address: str
    seal_text: str = Field(description="印影の文字")
    image_sha256: str = Field(description="登録印影画像の SHA-256")
    applied_on: date
    registered_on: date | None
    inquiry_deadline: date | None = Field(description="回答書の提出期限（照会中のとき）")
    ended_on: date | None
    end_reason: str
    version: int


class RegistrationCreated(RegistrationOut):
    inquiry_code: str | None = Field(
        description="照会番号（照会書に印字。回答書と照合する。この応答でのみ表示）"
    )


class HistoryOut(BaseModel):
    event: str
    detail: str
    actor: str
    at: datetime
    seq: int | None = Field(description="反映した庁内データ連携の事象番号")


class ReviewOut(BaseModel):
    id: int
    registration_number: int | None
    atena_number: str
    reason: str
    seq: int | None
    created_at: datetime


class CertificateRequest(BaseModel):
    card_number: Annotated[str, Chars(12, min_length=1)] = Field(
        description="提示された印鑑登録証の番号（8桁）"
    )
    requester_kind: Literal["本人", "代理人"] = Field(description="請求者（登録証を提示した者）")
    requester_name: Annotated[str, Chars(100)] = Field(default="", description="請求者の氏名")
    purpose: Annotated[str, Chars(200, ItemClass.TEXT)] = Field(
        default="", description="使用目的（任意）"
    )


# ---------------------------------------------------------------- helpers


def _ctx(request: Request, staff: auth.Principal) -> Context:
    return context_for(request, staff)


def _out(reg: SealRegistrationRow) -> dict[str, object]:
    p = reg.person
    return {
        "registration_number": reg.registration_number,
        "atena_number": reg.atena_number,
        "status": reg.status,
        "method": reg.method,
        "card_number": reg.card_number,
        "name": f"{p.get('family_name', '')}　{p.get('given_name', '')}".strip("　"),
        "name_kana": f"{p.get('family_name_kana', '')}　{p.get('given_name_kana', '')}".strip("　"),
        "birth_date": domain.birth_display(p.get("birth_date", "")),
        "sex": {"1": "男", "2": "女"}.get(p.get("sex", ""), p.get("sex", "")),
        "address": p.get("address", ""),
        "seal_text": reg.seal_text,
        "image_sha256": reg.image_sha256,
        "applied_on": reg.applied_on,
        "registered_on": reg.registered_on,
        "inquiry_deadline": reg.inquiry_deadline if reg.status == domain.Status.PENDING else None,
        "ended_on": reg.ended_on,
        "end_reason": reg.end_reason,
        "version": reg.version,
    }


@contextlib.contextmanager
def _denials(db: Database, staff: auth.Principal, actor: audit.Actor) -> Iterator[None]:
    """Audit a 支援措置 refusal after the request's transaction has rolled back."""
    try:
        yield
    except service.ProtectedPerson as exc:
        service.audit_denial(db, staff.scope, actor, exc)
        raise


def _image(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("印影の画像を Base64 で指定してください。", item="image_base64") from exc


# ---------------------------------------------------------------- endpoints


@router.post(
    "/registrations",
    response_model=RegistrationCreated,
    status_code=201,
    summary="印鑑登録の申請（即日登録・照会書発行）",
)
def create_registration(
    body: RegistrationCreate,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("seal.register")],
    db: DbDep,
) -> RegistrationCreated:
    image = _image(body.image_base64)
    command = service.commands.Register(
        atena_number=body.atena_number,
        seal_text=body.seal_text,
        image=image,
        method=domain.Method(body.method),
        identity_document=body.identity_document,
    )
    with db.unit_of_work(staff.scope) as uow:
        created = service.register(uow, _ctx(request, staff), command)
        uow.commit()
        return RegistrationCreated(**_out(created.row), inquiry_code=created.inquiry_code)


@router.post(
    "/registrations/{registration_number}/answer",
    response_model=RegistrationOut,
    summary="回答書の受理（照会回答による登録）",
)
def answer_inquiry(
    registration_number: RegistrationNumberPath,
    *,
    body: AnswerRequest,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("seal.answer_inquiry")],
    db: DbDep,
) -> RegistrationOut:
    with db.unit_of_work(staff.scope) as uow:
        command = service.commands.Answer(registration_number, body.inquiry_code)
        reg = service.answer(uow, _ctx(request, staff), command)
        uow.commit()
        return RegistrationOut(**_out(reg))


@router.get(
    "/registrations/{registration_number}",
    response_model=RegistrationOut,
    summary="印鑑登録の照会（登録番号）",
)
def get_registration(
    registration_number: RegistrationNumberPath,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("seal.inquiry")],
    db: DbDep,
) -> RegistrationOut:
    ctx = _ctx(request, staff)
    with _denials(db, staff, ctx.actor), db.unit_of_work(staff.scope) as uow:
        reg = service.read(uow, ctx, service.commands.RegistrationRef(registration_number))
        uow.commit()
        return RegistrationOut(**_out(reg))


@router.get(
    "/registrations/{registration_number}/history",
    response_model=list[HistoryOut],
    summary="印鑑登録の経過",
)
def get_history(
    registration_number: RegistrationNumberPath,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("seal.inquiry")],
    db: DbDep,
) -> list[HistoryOut]:
    ctx = _ctx(request, staff)
    with _denials(db, staff, ctx.actor), db.unit_of_work(staff.scope) as uow:
        reg = service.read(uow, ctx, service.commands.RegistrationRef(registration_number))
        rows = service.history(uow, reg)
        uow.commit()
        return [
            HistoryOut(event=h.event, detail=h.detail, actor=h.actor, at=h.at, seq=h.seq)
            for h in rows
        ]


@router.get(
    "/registrations/{registration_number}/image",
    summary="登録印影の画像",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/jpeg": {}}}},
)
def get_image(
    registration_number: RegistrationNumberPath,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("seal.inquiry")],
    db: DbDep,
) -> Response:
    ctx = _ctx(request, staff)
    with _denials(db, staff, ctx.actor), db.unit_of_work(staff.scope) as uow:
        reg = service.read(uow, ctx, service.commands.RegistrationRef(registration_number))
        uow.commit()
        return Response(
            reg.image, media_type=reg.image_type, headers={"ETag": f'"{reg.image_sha256}"'}
        )


@router.get(
    "/registrations",
    response_model=list[RegistrationOut],
    summary="印鑑登録の検索（宛名番号）",
)
def find_registrations(
    atena_number: AtenaQuery,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("seal.inquiry")],
    db: DbDep,
) -> list[RegistrationOut]:
    ctx = _ctx(request, staff)
    with _denials(db, staff, ctx.actor), db.unit_of_work(staff.scope) as uow:
        rows = service.find(uow, ctx, service.commands.PersonRef(atena_number))
        uow.commit()
        return [RegistrationOut(**_out(r)) for r in rows]


@router.get(
    "/cards/{card_number}",
    response_model=RegistrationOut,
    summary="印鑑登録証による照会（登録証の提示）",
)
def get_by_card(
    card_number: CardNumberPath,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("seal.inquiry")],
    db: DbDep,
) -> RegistrationOut:
    with db.unit_of_work(staff.scope) as uow:
        reg = service.read_by_card(uow, _ctx(request, staff), service.commands.CardRef(card_number))
        uow.commit()
        return RegistrationOut(**_out(reg))


@router.post(
    "/registrations/{registration_number}/lost",
    response_model=RegistrationOut,
    summary="印鑑登録証亡失届",
)
def report_lost(
    registration_number: RegistrationNumberPath,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("seal.report_lost")],
    db: DbDep,
) -> RegistrationOut:
    with db.unit_of_work(staff.scope) as uow:
        reg = service.report_lost(
            uow, _ctx(request, staff), service.commands.RegistrationRef(registration_number)
        )
        uow.commit()
        return RegistrationOut(**_out(reg))


@router.post(
    "/registrations/{registration_number}/abolish",
    response_model=RegistrationOut,
    summary="印鑑登録廃止届",
)
def abolish(
    registration_number: RegistrationNumberPath,
    *,
    body: AbolishRequest,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("seal.abolish")],
    db: DbDep,
) -> RegistrationOut:
    with db.unit_of_work(staff.scope) as uow:
        command = service.commands.Abolish(registration_number, body.card_number)
        reg = service.abolish(uow, _ctx(request, staff), command)
        uow.commit()
        return RegistrationOut(**_out(reg))


@router.post(
    "/registrations/{registration_number}/particulars",
    response_model=RegistrationOut,
    summary="登録事項変更（現在の宛名を反映）",
)
def change_particulars(
    registration_number: RegistrationNumberPath,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("seal.change_particulars")],
    db: DbDep,
) -> RegistrationOut:
    with db.unit_of_work(staff.scope) as uow:
        reg = service.change_particulars(
            uow, _ctx(request, staff), service.commands.RegistrationRef(registration_number)
        )
        uow.commit()
        return RegistrationOut(**_out(reg))


@router.get(
    "/reviews", response_model=list[ReviewOut], summary="要確認の一覧（連携で生じた確認事項）"
)
def list_reviews(
    request: Request, staff: StaffDep, op: Annotated[Function, uses("seal.reviews")], db: DbDep
) -> list[ReviewOut]:
    with db.unit_of_work(staff.scope) as uow:
        rows = service.reviews(uow, _ctx(request, staff), service.commands.OpenReviews())
        numbers = {
            r.id: r.registration_number
            for r in uow.session.query(SealRegistrationRow).filter(
                SealRegistrationRow.id.in_([x.registration_id for x in rows])
            )
        }
        uow.commit()
        return [
            ReviewOut(
                id=r.id,
                registration_number=numbers.get(r.registration_id),
                atena_number=r.atena_number,
                reason=r.reason,
                seq=r.seq,
                created_at=r.created_at,
            )
            for r in rows
        ]


@router.post("/reviews/{review_id}/close", status_code=204, summary="確認事項の完了")
def close_review(
    review_id: ReviewIdPath,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("seal.reviews")],
    db: DbDep,
) -> Response:
    with db.unit_of_work(staff.scope) as uow:
        service.close_review(uow, _ctx(request, staff), service.commands.ReviewRef(review_id))
        uow.commit()
    return Response(status_code=204)


@router.post(
    "/certificates",
    summary="印鑑登録証明書の交付（印鑑登録証の提示による）",
    response_class=Response,
    responses={
        200: {
            "content": {"application/pdf": {}},
            "description": "証明書の PDF。発行番号は X-Kikan-Issue-Number ヘッダー",
        }
    },
)
def issue_certificate(
    body: CertificateRequest,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("seal.certificate")],
    db: DbDep,
) -> Response:
    with db.unit_of_work(staff.scope) as uow:
        command = service.commands.IssueCertificate(
            card_number=body.card_number,
            requester_kind=body.requester_kind,
            requester_name=body.requester_name,
            purpose=body.purpose,
        )
        issued = service.issue_certificate(uow, _ctx(request, staff), command)
        uow.commit()
    return Response(
        issued.pdf,
        media_type="application/pdf",
        headers={
            "X-Kikan-Issue-Number": issued.issue_number,
            "X-Kikan-Pages": str(issued.pages),
            "X-Kikan-PDF-SHA256": issued.sha256,
            "Content-Disposition": f'inline; filename="{issued.issue_number}.pdf"',
        },
    )


# the link endpoints (PUT/GET /linkage) are the kit's, declared last to keep the route order
add_link_routes(router, CONSUMER)
