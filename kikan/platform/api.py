"""The platform's own endpoints (health, auth, tenants, staff, audit, certificate verification).

The shared request dependencies (`DbDep`, `PrincipalDep`, `StaffDep`, `OperatorDep` …) live in
kikan.platform.deps. Endpoints open one unit of work per use case and
commit it themselves, so the transaction boundary is visible where the work is done.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select, text

from kikan.platform import audit, auth, issuance, tenancy, throttle
from kikan.platform.deps import (
    SESSION_COOKIE,
    AuthorizationHeader,
    DbDep,
    OperatorDep,
    PrincipalDep,
    SettingsDep,
    StaffDep,
    client_address,
    client_place,
    client_terminal,
    operator_uses,
    uses,
)
from kikan.platform.errors import TooManyRequests
from kikan.platform.functions import Function
from kikan.platform.openapi import problem_responses
from kikan.platform.store import AuditRecordRow, StaffAccountRow
from kikan.platform.types import Chars, Id, ItemClass, UtcDateTime
from kikan.platform.uow import Scope

# ---------------------------------------------------------------- schemas


class LoginRequest(BaseModel):
    tenant: Annotated[str, Chars(6)] | None = Field(
        default=None, description="団体コード（6桁）。ホスト運用者は省略", examples=["131016"]
    )
    login_id: Annotated[str, Chars(64)] = Field(description="ログインID")
    password: Annotated[str, Chars(256, ItemClass.SECRET)] = Field(description="パスワード")


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type name, not a secret
    expires_at: datetime


class MeResponse(BaseModel):
    kind: str = Field(description="staff（職員） / operator（ホスト運用者）")
    login_id: str
    display_name: str
    tenant: str | None = Field(description="団体コード")
    roles: list[str]
    role_labels: list[str]


class SessionResponse(BaseModel):
    csrf_token: str = Field(description="更新系の要求で X-CSRF-Token ヘッダーに付ける値")
    expires_at: datetime
    me: MeResponse


class TenantCreate(BaseModel):
    code: Annotated[str, Chars(6)] = Field(
        description="地方公共団体コード（6桁、検査数字付き）", examples=["131016"]
    )
    name: Annotated[str, Chars(100, ItemClass.ADDRESS)] = Field(
        description="団体名", examples=["千代田区"]
    )
    prefecture: Annotated[str, Chars(20, ItemClass.ADDRESS)] = Field(
        default="", description="都道府県名"
    )
    mayor_title: Annotated[str, Chars(20, ItemClass.NAME)] = Field(
        default="", description="認証者の職名（市長・区長・町長・村長）"
    )
    mayor_name: Annotated[str, Chars(100, ItemClass.NAME)] = Field(
        default="", description="認証者の氏名"
    )


class TenantOut(BaseModel):
    code: str
    name: str
    prefecture: str
    mayor_title: str
    mayor_name: str
    has_seal: bool


class StaffCreate(BaseModel):
    login_id: Annotated[str, Chars(64, min_length=1)] = Field(description="ログインID")
    display_name: Annotated[str, Chars(100)] = Field(description="利用者名称")
    department: Annotated[str, Chars(100)] = Field(default="", description="所属部署名称")
    roles: list[Annotated[str, Chars(20)]] = Field(
        description="権限（counter, approver, sysadmin, auditor）", max_length=10
    )
    password: Annotated[str, Chars(256, ItemClass.SECRET)] = Field(
        description="初期パスワード（12文字以上）"
    )


class StaffOut(BaseModel):
    login_id: str
    display_name: str
    department: str
    roles: list[str]
    locked: bool = Field(description="ログイン失敗が続き、待機時間中（ロック解除で解除できます）")
    active: bool


Password = Annotated[str, Chars(256, ItemClass.SECRET)]
#: ログインID in a path: the column's length (kikan.platform.store.StaffAccountRow).
LoginIdPath = Annotated[str, Chars(64), Path(description="ログインID")]
IssueNumberPath = Annotated[str, Chars(64), Path(description="発行番号")]


class PasswordChange(BaseModel):
    current_password: Password
    new_password: Password


class PasswordReset(BaseModel):
    new_password: Password


class AuditRecordOut(BaseModel):
    seq: int
    recorded_at: datetime
    category: str
    action: str
    action_label: str
    outcome: str
    actor: str
    actor_kind: str
    terminal: str
    place: str
    function: str
    screen: str
    purpose: str
    subjects: list[str]
    mynumber_accessed: bool
    detail: dict[str, Any]


class VerifyOut(BaseModel):
    chain: str
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None
    kind: str | None
    problem: str | None


def _me(p: auth.Principal) -> MeResponse:
    labels = [auth.role_label(r) for r in sorted(p.roles)]
    return MeResponse(
        kind=p.kind,
        login_id=p.login_id,
        display_name=p.display_name,
        tenant=p.tenant,
        roles=sorted(p.roles),
        role_labels=labels,
    )


# ---------------------------------------------------------------- routers

router = APIRouter(prefix="/api/v1")


@router.post(
    "/auth/token",
    response_model=TokenResponse,
    tags=["認証"],
    summary="APIトークンの発行",
    responses=problem_responses(401, 429),
)
def issue_token(
    body: LoginRequest, request: Request, db: DbDep, settings: SettingsDep
) -> TokenResponse:
    issued = auth.login(
        db,
        settings,
        tenant=body.tenant,
        login_id=body.login_id,
        password=body.password,
        kind="bearer",
        terminal=client_terminal(request),
        place=client_place(request),
        address=client_address(request),
    )
    return TokenResponse(access_token=issued.token, expires_at=issued.expires_at)


@router.post(
    "/auth/login",
    response_model=SessionResponse,
    tags=["認証"],
    summary="画面用ログイン（Cookie セッション）",
    responses=problem_responses(401, 429),
)
def login_session(
    body: LoginRequest, request: Request, response: Response, db: DbDep, settings: SettingsDep
) -> SessionResponse:
    issued = auth.login(
        db,
        settings,
        tenant=body.tenant,
        login_id=body.login_id,
        password=body.password,
        kind="cookie",
        terminal=client_terminal(request),
        place=client_place(request),
        address=client_address(request),
    )
    response.set_cookie(
        SESSION_COOKIE,
        issued.token,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="strict",
        max_age=settings.session_absolute_minutes * 60,
        path="/",
    )
    assert issued.csrf_token is not None
    return SessionResponse(
        csrf_token=issued.csrf_token, expires_at=issued.expires_at, me=_me(issued.principal)
    )


@router.post("/auth/logout", status_code=204, tags=["認証"], summary="ログアウト")
def logout(
    request: Request,
    response: Response,
    principal: PrincipalDep,
    db: DbDep,
    authorization: AuthorizationHeader = None,
) -> Response:
    token = (
        authorization.partition(" ")[2].strip()
        if authorization
        else request.cookies.get(SESSION_COOKIE, "")
    )
    auth.logout(db, principal, token)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.status_code = 204
    return response


@router.get("/auth/me", response_model=MeResponse, tags=["認証"], summary="ログイン中の利用者")
def me(principal: PrincipalDep) -> MeResponse:
    return _me(principal)


@router.post(
    "/auth/password",
    status_code=204,
    tags=["認証"],
    summary="自分のパスワード変更",
    responses=problem_responses(429),
)
def change_password(
    body: PasswordChange,
    *,
    request: Request,
    staff: StaffDep,
    op: Annotated[Function, uses("platform.password_change")],
    db: DbDep,
    settings: SettingsDep,
) -> Response:
    """現在のパスワードの誤りはログイン失敗と同じく数え、続くと 429 で待たせます。変更すると、
    この要求のもの以外のセッション・API トークンは無効になります。"""
    auth.change_own_password(
        db,
        settings,
        staff,
        body.current_password,
        body.new_password,
        address=client_address(request),
    )
    return Response(status_code=204)


@router.post(
    "/host/tenants",
    response_model=TenantOut,
    status_code=201,
    tags=["ホスト運用"],
    summary="団体の登録",
)
def create_tenant(
    body: TenantCreate,
    operator: OperatorDep,
    op: Annotated[Function, operator_uses("platform.tenant_create")],
    db: DbDep,
) -> TenantOut:
    with db.unit_of_work(Scope.host()) as uow:
        t = tenancy.create_tenant(
            uow,
            operator.actor(),
            code=body.code,
            name=body.name,
            prefecture=body.prefecture,
            mayor_title=body.mayor_title,
            mayor_name=body.mayor_name,
        )
        uow.commit()
    return TenantOut(**_tenant_dict(t))


@router.get(
    "/host/tenants", response_model=list[TenantOut], tags=["ホスト運用"], summary="団体の一覧"
)
def list_tenants(
    operator: OperatorDep, op: Annotated[Function, operator_uses("platform.host")], db: DbDep
) -> list[TenantOut]:
    with db.unit_of_work(Scope.host()) as uow:
        return [TenantOut(**_tenant_dict(t)) for t in tenancy.list_tenants(uow)]


def _tenant_dict(t: tenancy.Tenant) -> dict[str, Any]:
    return {
        "code": t.code,
        "name": t.name,
        "prefecture": t.prefecture,
        "mayor_title": t.mayor_title,
        "mayor_name": t.mayor_name,
        "has_seal": t.has_seal,
    }


@router.get("/tenant", response_model=TenantOut, tags=["団体"], summary="ログイン中の団体")
def current_tenant(
    staff: StaffDep, op: Annotated[Function, uses("platform.current_tenant")], db: DbDep
) -> TenantOut:
    with db.unit_of_work(staff.scope) as uow:
        return TenantOut(**_tenant_dict(tenancy.get_tenant(uow, staff.scope)))


@router.get("/staff", response_model=list[StaffOut], tags=["職員管理"], summary="職員の一覧")
def list_staff(
    staff: StaffDep, op: Annotated[Function, uses("platform.staff_list")], db: DbDep
) -> list[StaffOut]:
    with db.unit_of_work(staff.scope) as uow:
        rows = uow.session.scalars(select(StaffAccountRow).order_by(StaffAccountRow.login_id)).all()
        waiting = throttle.waiting(
            uow, [throttle.account_key(staff.scope, r.login_id) for r in rows]
        )
        return [
            StaffOut(
                login_id=r.login_id,
                display_name=r.display_name,
                department=r.department,
                roles=r.roles.split(","),
                locked=throttle.account_key(staff.scope, r.login_id).digest in waiting,
                active=r.active,
            )
            for r in rows
        ]


@router.post(
    "/staff", response_model=StaffOut, status_code=201, tags=["職員管理"], summary="職員の登録"
)
def create_staff(
    body: StaffCreate,
    staff: StaffDep,
    op: Annotated[Function, uses("platform.staff_create")],
    db: DbDep,
) -> StaffOut:
    with db.unit_of_work(staff.scope) as uow:
        row = auth.create_staff(
            uow,
            staff.actor(),
            login_id=body.login_id,
            display_name=body.display_name,
            roles=body.roles,
            password=body.password,
            department=body.department,
        )
        uow.commit()
        return StaffOut(
            login_id=row.login_id,
            display_name=row.display_name,
            department=row.department,
            roles=row.roles.split(","),
            locked=False,
            active=row.active,
        )


@router.post("/staff/{login_id}/unlock", status_code=204, tags=["職員管理"], summary="ロック解除")
def unlock_staff(
    login_id: LoginIdPath,
    staff: StaffDep,
    op: Annotated[Function, uses("platform.unlock")],
    db: DbDep,
) -> Response:
    with db.unit_of_work(staff.scope) as uow:
        auth.unlock_staff(uow, staff.actor(), login_id)
        uow.commit()
    return Response(status_code=204)


@router.post(
    "/staff/{login_id}/password", status_code=204, tags=["職員管理"], summary="パスワード初期化"
)
def reset_password(
    login_id: LoginIdPath,
    body: PasswordReset,
    staff: StaffDep,
    op: Annotated[Function, uses("platform.password_reset")],
    db: DbDep,
) -> Response:
    with db.unit_of_work(staff.scope) as uow:
        auth.reset_password(uow, staff.actor(), login_id, body.new_password)
        uow.commit()
    return Response(status_code=204)


@router.get(
    "/audit/records",
    response_model=list[AuditRecordOut],
    tags=["アクセスログ"],
    summary="アクセスログの照会",
)
def audit_records(
    *,
    staff: StaffDep,
    op: Annotated[Function, uses("platform.audit_records")],
    db: DbDep,
    since: Annotated[
        UtcDateTime | None, Query(description="開始日時（時差なしは日本時間）")
    ] = None,
    until: Annotated[
        UtcDateTime | None, Query(description="終了日時（時差なしは日本時間）")
    ] = None,
    actor: Annotated[str | None, Chars(100), Query(description="操作者")] = None,
    action: Annotated[str | None, Chars(40), Query(description="操作")] = None,
    outcome: Annotated[str | None, Chars(10), Query(description="結果")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="最大件数")] = 100,
    before_seq: Annotated[Id | None, Query(description="この番号より前")] = None,
) -> list[AuditRecordOut]:
    with db.unit_of_work(staff.scope) as uow:
        stmt = select(AuditRecordRow).order_by(AuditRecordRow.seq.desc()).limit(limit)
        if since:
            stmt = stmt.where(AuditRecordRow.recorded_at >= since)
        if until:
            stmt = stmt.where(AuditRecordRow.recorded_at < until)
        if actor:
            stmt = stmt.where(AuditRecordRow.actor == actor)
        if action:
            stmt = stmt.where(AuditRecordRow.action == action)
        if outcome:
            stmt = stmt.where(AuditRecordRow.outcome == outcome)
        if before_seq:
            stmt = stmt.where(AuditRecordRow.seq < before_seq)
        rows = uow.session.scalars(stmt).all()
        out = [
            AuditRecordOut(
                seq=r.seq,
                recorded_at=r.recorded_at,
                category=r.category,
                action=r.action,
                action_label=audit.ACTIONS.get(r.action, r.action),
                outcome=r.outcome,
                actor=r.actor,
                actor_kind=r.actor_kind,
                terminal=r.terminal,
                place=r.place,
                function=r.function,
                screen=r.screen,
                purpose=r.purpose,
                subjects=list(r.subjects),
                mynumber_accessed=r.mynumber_accessed,
                detail=dict(r.detail),
            )
            for r in rows
        ]
        audit.append(
            uow,
            staff.actor(),
            audit.AuditEvent(
                category="operation",
                action="inquiry",
                function=op,
                detail={"returned": len(out)},
            ),
        )
        uow.commit()
        return out


@router.get(
    "/audit/verify",
    response_model=VerifyOut,
    tags=["アクセスログ"],
    summary="アクセスログの改ざん検証",
)
def audit_verify(
    staff: StaffDep, op: Annotated[Function, uses("platform.audit_verify")], db: DbDep
) -> VerifyOut:
    with db.unit_of_work(staff.scope) as uow:
        result = audit.verify_chain(uow)
    audit.append_now(
        db,
        staff.scope,
        staff.actor(),
        audit.AuditEvent(
            category="operation",
            action="audit.verify",
            function=op,
            outcome="ok" if result.ok else "error",
            detail={"checked": result.checked, "ok": result.ok},
        ),
    )
    return VerifyOut(**result.__dict__)


class CertificateVerifyOut(BaseModel):
    """The answer to a certificate check: never who the certificate is about."""

    issue_number: str = Field(description="照合した発行番号")
    status: str = Field(
        description="genuine（交付済み）/ voided（無効）/ altered（電子ファイル不一致）"
        " / unknown（該当なし）/ malformed（形式誤り）"
    )
    genuine: bool = Field(description="真正な証明書であれば true")
    message: str = Field(description="照合結果の説明")
    tenant_code: str | None = Field(default=None, description="発行した団体の団体コード")
    tenant_name: str | None = Field(default=None, description="発行した団体名")
    form_id: str | None = Field(default=None, description="帳票ID")
    form_name: str | None = Field(default=None, description="証明書の種類")
    issue_date: date | None = Field(default=None, description="発行日")
    pages: int | None = Field(default=None, description="枚数")
    sha256_checked: bool = Field(description="電子ファイルの SHA-256 を照合したか")
    sha256_matches: bool | None = Field(default=None, description="SHA-256 が一致したか")


VERIFY_THROTTLED = "照合の要求が多すぎます。しばらく待ってから再度お試しください。"


@router.get(
    "/certificates/{issue_number}/verify",
    response_model=CertificateVerifyOut,
    tags=["証明書"],
    summary="証明書の真正性確認（ログイン不要）",
    responses=problem_responses(429),
)
def verify_certificate(
    issue_number: IssueNumberPath,
    *,
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    check_code: Annotated[
        str | None,
        Chars(32),
        Query(description="証明書の発行番号の横に印字された照合番号（10文字）"),
    ] = None,
    sha256: Annotated[
        str | None,
        Chars(128),
        Query(description="提示された電子ファイル（PDF）の SHA-256（16進数）"),
    ] = None,
) -> CertificateVerifyOut:
    """A bank or office holding a presented certificate checks its 発行番号 together with the
    照合番号 printed on it (or, for an electronic copy, the file's SHA-256): the number alone is
    sequential and proves nothing. No login: the tenant is the number's 団体コード. The answer
    names the form, the date and the municipality, never the person; a wrong code gets the same
    answer as a number never issued. Calls are rate-limited per client address (429) and counted
    per day rather than appended to the access log."""
    address = client_address(request)
    if address:
        key = throttle.address_key("verify-address", address)
        with db.unit_of_work(key.scope) as uow:
            wait = throttle.count_call(
                uow, key, limit=settings.verify_per_minute, window_seconds=60
            )
            uow.commit()
        if wait:
            raise TooManyRequests(VERIFY_THROTTLED, slug="verify-throttled", retry_after=wait)
    number = issue_number[:64]
    result = issuance.verify(db, number, sha256, check_code)
    issuance.count_verification(db, number, result)
    return CertificateVerifyOut(**result.__dict__)


class CertificateVoid(BaseModel):
    reason: Annotated[str, Chars(200, ItemClass.TEXT, min_length=1)] = Field(
        description="処分の理由（誤交付、汚損 等）"
    )


class CertificateVoidOut(BaseModel):
    issue_number: str
    status: str = Field(description="voided（処分済み）")
    form_name: str
    void_reason: str


@router.post(
    "/certificates/{issue_number}/void",
    response_model=CertificateVoidOut,
    tags=["証明書"],
    summary="交付した証明書の処分（無効化）",
)
def void_certificate(
    issue_number: IssueNumberPath,
    body: CertificateVoid,
    staff: StaffDep,
    op: Annotated[Function, uses("platform.certificate_void")],
    db: DbDep,
) -> CertificateVoidOut:
    """誤って交付した証明書を処分した旨を交付履歴に記録します（spec 1.3.8 処分情報）。以後の
    真正性確認では「無効」と答えます。審査・決裁の権限が必要です。"""
    with db.unit_of_work(staff.scope) as uow:
        done = issuance.void(uow, staff.actor(), issue_number, body.reason)
        uow.commit()
    return CertificateVoidOut(
        issue_number=done.issue_number,
        status=done.status,
        form_name=done.form_name,
        void_reason=done.void_reason,
    )


health_router = APIRouter()


@health_router.get("/healthz", tags=["運用"], summary="死活監視")
def healthz(db: DbDep) -> dict[str, str]:
    """Liveness and database reachability, for load balancers and monitoring."""
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return {"status": "ok", "database": db.engine.dialect.name}
