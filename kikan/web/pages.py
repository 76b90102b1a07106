"""The shell's own pages: login/logout, home, 団体切替 (operators), アクセスログ and the BPR report.

Why these live in the shell: they need only the platform (auth, audit, tenancy). Pages of the
resident register live in `kikan.residents.web`.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import date, datetime, time, timedelta
from statistics import median
from typing import Annotated, Any

from annotated_types import Ge, Le
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from kikan.platform import audit, auth, tenancy
from kikan.platform.deps import SESSION_COOKIE, client_address, client_place, client_terminal
from kikan.platform.errors import KikanError, TooManyRequests
from kikan.platform.functions import platform_table
from kikan.platform.store import AuditRecordRow
from kikan.platform.types import Chars, Id
from kikan.platform.uow import Scope
from kikan.web import shell
from kikan.web.shell import JST, DbDep, FormDep, NavItem, UserDep
from kikan.web.store import CounterTimingRow

Days = Annotated[int, Ge(1), Le(3660)]

router = APIRouter(prefix="/ui", include_in_schema=False)

#: the platform's 機能ID catalogue: the screens' roles and audit labels are its data
FUNCTIONS = platform_table()
AUDIT_ROLES = FUNCTIONS.entry("platform.audit_records").roles
BPR_ROLES = FUNCTIONS.entry("platform.bpr").roles

#: the shell's own navigation; modules declare theirs in their descriptors (kikan.modules)
NAV = (
    NavItem("ホーム", "/ui/", accesskey="h", order=0),
    NavItem("アクセスログ", "/ui/audit", roles=AUDIT_ROLES, accesskey="l", order=80),
    NavItem("窓口処理時間", "/ui/bpr", roles=BPR_ROLES, accesskey="t", order=85),
    NavItem("団体一覧・切替", "/ui/operator", roles=("operator",), accesskey="o"),
    NavItem(
        "アクセスログ検証", "/ui/operator/audit", roles=("operator",), accesskey="l", order=101
    ),
)


def _safe_next(value: str) -> str:
    """Only local paths under /ui: the login form must not become an open redirect."""
    if value.startswith("/ui/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/ui/"


# ---------------------------------------------------------------- login / logout


LOGIN_CSRF_COOKIE = "kikan_login_csrf"
LOGIN_CSRF_MESSAGE = "画面の有効期限が切れたか、不正な要求です。もう一度ログインしてください。"


def _login_page(
    request: Request,
    *,
    status: int = 200,
    next_url: str = "/ui/",
    form: dict[str, str] | None = None,
    error: str = "",
) -> HTMLResponse:
    """The login form with a fresh pre-session CSRF token (double submit: the same random value
    in an HttpOnly, SameSite=Strict cookie and in the form). A cross-site page can make a
    browser post the form but cannot read or set the cookie, so it cannot log the victim into
    an account of its choosing (login CSRF)."""
    token = secrets.token_urlsafe(32)
    response = shell.render(
        request,
        None,
        "login.html",
        status=status,
        title="ログイン",
        next=next_url,
        form=form or {},
        error=error,
        csrf_token=token,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        secure=shell.get_settings(request).cookie_secure,
        samesite="strict",
        max_age=3600,
        path="/ui/login",
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: Annotated[str, Chars(2000)] = "/ui/") -> HTMLResponse:
    return _login_page(request, next_url=_safe_next(next))


@router.post("/login", response_class=HTMLResponse)
def login_submit(request: Request, form: FormDep) -> Response:
    db, settings = shell.get_db(request), shell.get_settings(request)
    tenant = str(form.get("tenant", "")).strip()
    login_id = str(form.get("login_id", "")).strip()
    password = str(form.get("password", ""))
    next_url = _safe_next(str(form.get("next", "/ui/")))
    kept = {"tenant": tenant, "login_id": login_id}
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    sent = str(form.get(shell.CSRF_FIELD) or "")
    if not expected or not hmac.compare_digest(expected.encode(), sent.encode()):
        return _login_page(
            request, status=403, next_url=next_url, form=kept, error=LOGIN_CSRF_MESSAGE
        )
    if not login_id or not password:
        return _login_page(
            request,
            status=422,
            next_url=next_url,
            form=kept,
            error="ログインIDとパスワードを入力してください。",
        )
    try:
        issued = auth.login(
            db,
            settings,
            tenant=tenant or None,
            login_id=login_id,
            password=password,
            kind="cookie",
            terminal=client_terminal(request),
            place=client_place(request),
            address=client_address(request),
        )
    except KikanError as exc:
        page = _login_page(
            request, status=exc.status, next_url=next_url, form=kept, error=exc.detail
        )
        if isinstance(exc, TooManyRequests):
            page.headers["Retry-After"] = str(exc.retry_after)
        return page
    response = shell.redirect(request, next_url)
    max_age = settings.session_absolute_minutes * 60
    for name, value in ((SESSION_COOKIE, issued.token), (shell.CSRF_COOKIE, issued.csrf_token)):
        response.set_cookie(
            name,
            value or "",
            httponly=True,
            secure=settings.cookie_secure,
            samesite="strict",
            max_age=max_age,
            path="/",
        )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/ui/login")
    return response


@router.post("/logout")
def logout(request: Request, user: UserDep, db: DbDep) -> Response:
    auth.logout(db, user.principal, request.cookies.get(SESSION_COOKIE, ""))
    response = shell.redirect(request, "/ui/login")
    for name in (SESSION_COOKIE, shell.CSRF_COOKIE, shell.TENANT_COOKIE):
        response.delete_cookie(name, path="/")
    return response


# ---------------------------------------------------------------- home


@router.get("/", response_class=HTMLResponse)
def home(request: Request, user: UserDep, db: DbDep) -> HTMLResponse:
    tenant_name = ""
    if user.tenant:
        with db.unit_of_work(Scope.host()) as uow:
            if tenancy.tenant_exists(uow, user.tenant):
                tenant_name = tenancy.get_tenant(uow, user.tenant).name
    return shell.render(request, user, "home.html", title="ホーム", tenant_name=tenant_name)


# ---------------------------------------------------------------- operators: 団体切替


@router.get("/operator", response_class=HTMLResponse)
def operator_tenants(request: Request, user: UserDep, db: DbDep) -> HTMLResponse:
    shell.require_operator(user)
    with db.unit_of_work(Scope.host()) as uow:
        tenants = tenancy.list_tenants(uow)
    return shell.render(
        request, user, "operator.html", title="団体一覧・切替", tenants=tenants, error=""
    )


@router.post("/operator/tenant")
def operator_switch(request: Request, user: UserDep, db: DbDep, form: FormDep) -> Response:
    """団体切替: the operator works on one tenant at a time; the choice is audited."""
    shell.require_operator(user)
    code = str(form.get("tenant", "")).strip()
    with db.unit_of_work(Scope.host()) as uow:
        known = tenancy.tenant_exists(uow, code)
        if known:
            audit.append(
                uow,
                user.actor(),
                audit.AuditEvent(
                    category="operation",
                    action="config",
                    function=FUNCTIONS.entry("platform.tenant_switch"),
                    subjects=[code],
                ),
            )
            uow.commit()
    if not known:
        raise shell.PageForbidden(f"団体コード {code} の団体は登録されていません。", status=404)
    response = shell.redirect(request, "/ui/operator")
    response.set_cookie(
        shell.TENANT_COOKIE,
        code,
        httponly=True,
        secure=shell.get_settings(request).cookie_secure,
        samesite="strict",
        path="/ui/",
    )
    return response


@router.get("/operator/audit", response_class=HTMLResponse)
def operator_audit(request: Request, user: UserDep) -> HTMLResponse:
    """The operator verifies the access-log chain of the tenant switched to (integrity only:
    no record content, which is the tenant's personal data)."""
    shell.require_operator(user)
    return shell.render(request, user, "operator_audit.html", title="アクセスログ検証", result=None)


@router.post("/operator/audit/verify", response_class=HTMLResponse)
def operator_audit_verify(request: Request, user: UserDep, db: DbDep) -> HTMLResponse:
    shell.require_operator(user)
    if not user.tenant:
        raise shell.PageForbidden("先に「団体一覧・切替」で団体を選んでください。", status=409)
    result = _verify(db, user, user.tenant)
    return shell.render(request, user, "verify_result.html", result=result)


# ---------------------------------------------------------------- アクセスログ


def _parse_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    *,
    user: UserDep,
    db: DbDep,
    since: Annotated[str, Chars(40)] = "",
    until: Annotated[str, Chars(40)] = "",
    actor: Annotated[str, Chars(100)] = "",
    action: Annotated[str, Chars(40)] = "",
    outcome: Annotated[str, Chars(10)] = "",
    function: Annotated[str, Chars(100)] = "",
    before_seq: Id | None = None,
) -> HTMLResponse:
    """アクセスログ照会 with filters; viewing the log is itself logged (spec 10.2)."""
    shell.uses(db, user, FUNCTIONS.entry("platform.audit_records"))
    errors = {}
    start, end = _parse_day(since), _parse_day(until)
    if since and start is None:
        errors["since"] = "開始日は YYYY-MM-DD の形で入力してください。"
    if until and end is None:
        errors["until"] = "終了日は YYYY-MM-DD の形で入力してください。"
    limit = 100
    with db.unit_of_work(user.scope) as uow:
        stmt = select(AuditRecordRow).order_by(AuditRecordRow.seq.desc()).limit(limit + 1)
        if start:
            stmt = stmt.where(AuditRecordRow.recorded_at >= datetime.combine(start, time(), JST))
        if end:
            day_after = datetime.combine(end + timedelta(days=1), time(), JST)
            stmt = stmt.where(AuditRecordRow.recorded_at < day_after)
        if actor:
            stmt = stmt.where(AuditRecordRow.actor == actor)
        if action:
            stmt = stmt.where(AuditRecordRow.action == action)
        if outcome:
            stmt = stmt.where(AuditRecordRow.outcome == outcome)
        if function:
            stmt = stmt.where(AuditRecordRow.function == function)
        if before_seq:
            stmt = stmt.where(AuditRecordRow.seq < before_seq)
        rows = list(uow.session.scalars(stmt)) if not errors else []
        more = len(rows) > limit
        rows = rows[:limit]
        records = [_record(r) for r in rows]
        audit.append(
            uow,
            user.actor(),
            audit.AuditEvent(
                category="operation",
                action="inquiry",
                function=FUNCTIONS.entry("platform.audit_records"),
                screen="アクセスログ",
                detail={"returned": len(records)},
            ),
        )
        uow.commit()
    filters = {
        "since": since,
        "until": until,
        "actor": actor,
        "action": action,
        "outcome": outcome,
        "function": function,
    }
    template = "audit_rows.html" if shell.is_htmx(request) else "audit.html"
    return shell.render(
        request,
        user,
        template,
        title="アクセスログ",
        records=records,
        filters=filters,
        errors=errors,
        actions=audit.ACTIONS,
        next_before=records[-1]["seq"] if more and records else None,
    )


def _record(r: AuditRecordRow) -> dict[str, Any]:
    return {
        "seq": r.seq,
        "recorded_at": r.recorded_at,
        "action": audit.ACTIONS.get(r.action, r.action),
        "outcome": {"ok": "正常", "denied": "拒否", "error": "異常"}.get(r.outcome, r.outcome),
        "outcome_code": r.outcome,
        "actor": r.actor,
        "terminal": r.terminal,
        "function": r.function,
        "subjects": ", ".join(r.subjects[:5]) + (" …" if len(r.subjects) > 5 else ""),
        "mynumber": r.mynumber_accessed,
    }


def _verify(db: shell.Database, user: shell.PageUser, scope: str) -> audit.VerifyResult:
    with db.unit_of_work(scope) as uow:
        result = audit.verify_chain(uow)
    audit.append_now(
        db,
        scope,
        user.actor(),
        audit.AuditEvent(
            category="operation",
            action="audit.verify",
            function=FUNCTIONS.entry("platform.audit_verify"),
            screen="アクセスログ",
            outcome="ok" if result.ok else "error",
            detail={"checked": result.checked, "ok": result.ok},
        ),
    )
    return result


@router.post("/audit/verify", response_class=HTMLResponse)
def audit_verify(request: Request, user: UserDep, db: DbDep) -> HTMLResponse:
    shell.uses(db, user, FUNCTIONS.entry("platform.audit_verify"))
    result = _verify(db, user, user.scope)
    return shell.render(request, user, "verify_result.html", result=result)


# ---------------------------------------------------------------- BPR: counter transaction times


@router.get("/bpr", response_class=HTMLResponse)
def bpr_report(request: Request, user: UserDep, db: DbDep, days: Days = 30) -> HTMLResponse:
    """窓口処理時間: per kind of transaction, how many were completed or abandoned and how long
    the completed ones took (median, 90th percentile) over the last `days` days."""
    shell.uses(db, user, FUNCTIONS.entry("platform.bpr"))
    days = max(1, min(days, 366))
    since = datetime.now(JST) - timedelta(days=days)
    with db.unit_of_work(user.scope) as uow:
        rows = uow.session.execute(
            select(
                CounterTimingRow.kind, CounterTimingRow.completed_at, CounterTimingRow.duration_ms
            ).where(CounterTimingRow.started_at >= since)
        ).all()
    by_kind: dict[str, list[int]] = {}
    opened: dict[str, int] = {}
    for kind, completed, ms in rows:
        opened[kind] = opened.get(kind, 0) + 1
        if completed is not None and ms is not None:
            by_kind.setdefault(kind, []).append(ms)
    report = []
    for kind in sorted(opened):
        done = sorted(by_kind.get(kind, []))
        p90 = done[min(len(done) - 1, int(len(done) * 0.9))] if done else None
        report.append(
            {
                "kind": kind,
                "opened": opened[kind],
                "completed": len(done),
                "abandoned": opened[kind] - len(done),
                "median_s": round(median(done) / 1000, 1) if done else None,
                "p90_s": round(p90 / 1000, 1) if p90 is not None else None,
            }
        )
    return shell.render(request, user, "bpr.html", title="窓口処理時間", report=report, days=days)
