"""Endpoints of the certificates: issue one as PDF, 交付履歴照会, 本人通知制度.

Why a module of its own: the issue endpoint answers with a PDF, not JSON, and runs the
certificate service's own two units of work (read snapshot, then number + record); the refusals
it produces (支援措置, 発行抑止) are audited by that service. The 発行番号 travels in the
`Kikan-Issue-Number` header, the SHA-256 of the PDF in `Kikan-Sha256`, warnings for the clerk
(支援措置の対象者を含む, 文字溢れ) in `Kikan-Warning` headers (percent-encoded UTF-8).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from kikan.platform import tenancy
from kikan.platform.context import Context
from kikan.platform.deps import DbDep, StaffDep, uses
from kikan.platform.functions import Function
from kikan.platform.types import Base64Image, Chars, ItemClass, LegalDate, Version
from kikan.platform.uow import UnitOfWork
from kikan.residents.api._common import (
    AtenaNumber,
    AtenaPath,
    _ctx,
    _run,
    _warning_headers,
)
from kikan.residents.certificates import (
    CertificateRequest,
    PersonRef,
    RegisterHonninTsuuchi,
    Requester,
    SetCertifier,
    end_honnin_tsuuchi,
    honnin_notices,
    issuance_history,
    issue_certificate,
    register_honnin_tsuuchi,
    set_certifier,
)
from kikan.residents.certificates.service import check_seal_png
from kikan.residents.store import CertifierSettingsRow

router = APIRouter()

ISSUE_NUMBER_HEADER = "Kikan-Issue-Number"


class RequesterIn(BaseModel):
    kind: Literal["self", "agent", "official", "third_party"] = Field(
        description="請求者の種別: self（本人・同一世帯員）、agent（代理人）、official（公用）、"
        "third_party（第三者）"
    )
    name: Annotated[str, Chars(200)] = Field(
        default="", description="代理人・請求機関・第三者の氏名・名称"
    )
    atena_number: AtenaNumber = Field(
        default="",
        description="本人確認した請求者（本人・世帯員）または委任者の宛名番号",
    )
    purpose: Annotated[str, Chars(400, ItemClass.TEXT)] = Field(
        default="", description="利用目的（第三者・公用の請求では必須）"
    )
    power_of_attorney: bool = Field(default=False, description="委任状を確認した（代理人）")
    address: Annotated[str, Chars(400)] = Field(default="", description="請求者の住所（第三者）")


class CertificateIn(BaseModel):
    kind: Annotated[str, Chars(40)] = Field(
        description="juminhyo（住民票の写し 世帯連記式）、juminhyo_kojin（個人票）、"
        "kisai_jikou（記載事項証明書）、joshou（除票の写し）、tenshutsu（転出証明書）、"
        "juri_tsuchi（住民異動届受理通知）"
    )
    requester: RequesterIn
    members: list[AtenaNumber] = Field(
        default_factory=list,
        max_length=100,
        description="記載する世帯員の宛名番号（省略時: 世帯連記式は世帯全員、他は本人）",
    )
    include: list[Annotated[str, Chars(40)]] = Field(
        default_factory=list,
        max_length=20,
        description="記載する事項（householder, honseki, resident_code, my_number, kyuuji, "
        "tsuushou, history, furigana, nationality, foreign_kind, status_of_residence, "
        "card_number）",
    )
    omit: list[Annotated[str, Chars(40)]] = Field(
        default_factory=list, max_length=20, description="省略する事項"
    )
    history_no: Version | None = Field(default=None, description="受理通知の対象の履歴番号")
    reissue: bool = Field(default=False, description="転出証明書の再交付")


class IssuanceOut(BaseModel):
    issue_number: str = Field(description="発行番号")
    form_id: str = Field(description="帳票ID")
    form_name: str = Field(description="証明書の種別")
    requester_kind: str = Field(description="請求者の種別")
    requester_name: str = Field(description="請求者")
    purpose: str = Field(description="利用目的")
    items: list[str] = Field(description="記載事項")
    pages: int = Field(description="枚数")
    issued_at: datetime = Field(description="交付年月日時")
    issued_by: str = Field(description="交付した職員（ユーザID）")
    status: str = Field(description="issued（交付）/ voided（処分・無効）")
    pdf_sha256: str


class HonninTsuuchiIn(BaseModel):
    send_to: Annotated[str, Chars(400)] = Field(
        default="", description="通知先（省略時は住民票の住所）"
    )
    note: Annotated[str, Chars(400, ItemClass.TEXT)] = Field(default="", description="備考")


class HonninTsuuchiOut(BaseModel):
    id: int
    atena_number: str
    registered_on: date = Field(description="登録日")
    send_to: str
    ended_on: date | None = None


class HonninNoticeOut(BaseModel):
    issue_number: str = Field(description="交付した証明書の発行番号")
    form_name: str
    requester_kind: str = Field(description="third_party（第三者）/ agent（代理人）")
    issued_on: date
    sent_on: date | None = None


@router.post(
    "/residents/{atena_number}/certificates",
    response_class=Response,
    summary="証明書の発行（PDF）",
    responses={
        200: {
            "content": {"application/pdf": {}},
            "description": "証明書の PDF。発行番号は Kikan-Issue-Number ヘッダー",
        },
        403: {"description": "支援措置・発行抑止により交付できない（アクセスログに記録）"},
        404: {"description": "宛名番号の住民が登録されていない"},
        422: {"description": "請求の誤り（利用目的なし、委任状なし、記載できない事項 等）"},
    },
)
def issue(
    atena_number: AtenaPath,
    *,
    body: CertificateIn,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.certificate_issue")],
    db: DbDep,
    request: Request,
) -> Response:
    """住民票の写し等を PDF で発行します。請求者の種別ごとの要件（本人・同一世帯員、代理人の委任状、
    第三者・公用の利用目的）と支援措置を確認し、発行番号を採番して交付履歴に記録します。"""
    ctx = _ctx(request, staff)
    r = body.requester
    issued = issue_certificate(
        db,
        staff.scope,
        ctx,
        CertificateRequest(
            kind=body.kind,
            atena_number=atena_number,
            requester=Requester(
                kind=r.kind,
                name=r.name,
                atena_number=r.atena_number,
                purpose=r.purpose,
                power_of_attorney=r.power_of_attorney,
                address=r.address,
            ),
            members=body.members,
            include=body.include,
            omit=body.omit,
            history_no=body.history_no,
            reissue=body.reissue,
        ),
    )
    response = Response(content=issued.pdf, media_type="application/pdf")
    response.headers[ISSUE_NUMBER_HEADER] = issued.issue_number
    response.headers["Kikan-Form-Id"] = issued.form_id
    response.headers["Kikan-Pages"] = str(issued.pages)
    response.headers["Kikan-Sha256"] = issued.sha256
    response.headers["Content-Disposition"] = f'attachment; filename="{issued.issue_number}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    _warning_headers(response, list(issued.warnings))
    return response


@router.get(
    "/residents/{atena_number}/certificates",
    response_model=list[IssuanceOut],
    summary="交付履歴照会",
)
def history(
    atena_number: AtenaPath,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.issuance_history")],
    db: DbDep,
    request: Request,
) -> list[IssuanceOut]:
    """この方について交付した証明書（発行番号・種別・請求者・記載事項・枚数・交付日時・職員）。"""
    found = _run(
        db,
        staff,
        request,
        function=op,
        fn=lambda uow, ctx: issuance_history(uow, ctx, PersonRef(atena_number=atena_number)),
    )
    return [
        IssuanceOut(
            issue_number=i.issue_number,
            form_id=i.form_id,
            form_name=i.form_name,
            requester_kind=i.requester_kind,
            requester_name=i.requester_name,
            purpose=i.purpose,
            items=list(i.items),
            pages=i.pages,
            issued_at=i.issued_at,
            issued_by=i.issued_by,
            status=i.status,
            pdf_sha256=i.pdf_sha256,
        )
        for i in found
    ]


@router.post(
    "/residents/{atena_number}/honnin-tsuuchi",
    response_model=HonninTsuuchiOut,
    status_code=201,
    summary="本人通知制度の登録",
)
def register_notice(
    atena_number: AtenaPath,
    *,
    body: HonninTsuuchiIn,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.notice_register")],
    db: DbDep,
    request: Request,
) -> HonninTsuuchiOut:
    """第三者・代理人に証明書を交付したとき、本人に通知する登録をします。"""
    row = _run(
        db,
        staff,
        request,
        function=op,
        fn=lambda uow, ctx: register_honnin_tsuuchi(
            uow,
            ctx,
            RegisterHonninTsuuchi(atena_number=atena_number, send_to=body.send_to, note=body.note),
        ),
    )
    return HonninTsuuchiOut(
        id=row.id,
        atena_number=row.atena_number,
        registered_on=row.registered_on,
        send_to=row.send_to,
        ended_on=row.ended_on,
    )


@router.post(
    "/residents/{atena_number}/honnin-tsuuchi/end",
    response_model=HonninTsuuchiOut,
    summary="本人通知制度の登録廃止",
)
def end_notice(
    atena_number: AtenaPath,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.notice_end")],
    db: DbDep,
    request: Request,
) -> HonninTsuuchiOut:
    row = _run(
        db,
        staff,
        request,
        function=op,
        fn=lambda uow, ctx: end_honnin_tsuuchi(uow, ctx, PersonRef(atena_number=atena_number)),
    )
    return HonninTsuuchiOut(
        id=row.id,
        atena_number=row.atena_number,
        registered_on=row.registered_on,
        send_to=row.send_to,
        ended_on=row.ended_on,
    )


@router.get(
    "/residents/{atena_number}/honnin-tsuuchi/notices",
    response_model=list[HonninNoticeOut],
    summary="本人通知の一覧",
)
def notices(
    atena_number: AtenaPath,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.notice_inquiry")],
    db: DbDep,
    request: Request,
) -> list[HonninNoticeOut]:
    """登録者に通知すべき（通知した）交付の一覧。"""
    rows = _run(
        db,
        staff,
        request,
        function=op,
        fn=lambda uow, ctx: honnin_notices(uow, ctx, PersonRef(atena_number=atena_number)),
    )
    return [
        HonninNoticeOut(
            issue_number=n.issue_number,
            form_name=n.form_name,
            requester_kind=n.requester_kind,
            issued_on=n.issued_on,
            sent_on=n.sent_on,
        )
        for n in rows
    ]


class CertifierIn(BaseModel):
    deputy_title: Annotated[str, Chars(40, ItemClass.NAME)] = Field(
        default="", description="職務代理者の職名（例: 副市長）"
    )
    deputy_name: Annotated[str, Chars(100, ItemClass.NAME)] = Field(
        default="", description="職務代理者の氏名"
    )
    deputy_from: LegalDate | None = Field(default=None, description="職務代理の開始日")
    deputy_until: LegalDate | None = Field(default=None, description="職務代理の終了日")
    deputy_seal_png: Base64Image | None = Field(
        default=None, description="職務代理者の公印（PNG、黒色、Base64）"
    )
    mayor_seal_png: Base64Image | None = Field(
        default=None, description="市区町村長の公印（PNG、黒色、Base64）"
    )
    notice: Annotated[str, Chars(100)] | None = Field(
        default=None, description="公印の文言（例: この印は黒色です）"
    )


class CertifierOut(BaseModel):
    deputy_title: str
    deputy_name: str
    deputy_from: date | None
    deputy_until: date | None
    has_deputy_seal: bool
    notice: str


def _png(value: str | None, item: str) -> bytes | None:
    import base64  # noqa: PLC0415
    import binascii  # noqa: PLC0415

    from kikan.platform.errors import InvalidInput  # noqa: PLC0415

    if value is None:
        return None
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"{item}は Base64 で指定してください。", item=item) from exc
    return check_seal_png(data, item)


@router.put(
    "/residents/certifier",
    response_model=CertifierOut,
    summary="認証者・公印の設定（市区町村長の公印、職務代理者と期間）",
)
def configure_certifier(
    body: CertifierIn,
    staff: StaffDep,
    op: Annotated[Function, uses("residents.certifier")],
    db: DbDep,
    request: Request,
) -> CertifierOut:
    """証明書の認証者の設定（spec 1.3.7 公印管理、1.3.9 認証者、5.6）。職務代理の期間中に発行する
    証明書は職務代理者の職名・氏名・公印で認証されます。システム管理の権限が必要です。"""
    mayor_seal = _png(body.mayor_seal_png, "市区町村長の公印")
    deputy_seal = _png(body.deputy_seal_png, "職務代理者の公印")

    def run(uow: UnitOfWork, ctx: Context) -> CertifierSettingsRow:
        if mayor_seal is not None:
            tenancy.update_tenant_profile(uow, ctx.actor, code=uow.tenant, seal_png=mayor_seal)
        return set_certifier(
            uow,
            ctx,
            SetCertifier(
                deputy_title=body.deputy_title,
                deputy_name=body.deputy_name,
                deputy_from=body.deputy_from,
                deputy_until=body.deputy_until,
                deputy_seal_png=deputy_seal,
                notice=body.notice,
            ),
        )

    row = _run(db, staff, request, function=op, fn=run)
    return CertifierOut(
        deputy_title=row.deputy_title,
        deputy_name=row.deputy_name,
        deputy_from=row.deputy_from,
        deputy_until=row.deputy_until,
        has_deputy_seal=row.deputy_seal_png is not None,
        notice=row.notice,
    )
