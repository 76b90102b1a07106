"""Staff and operator authentication: passwords, lockout, UI sessions and API bearer tokens.

- Passwords are hashed with Argon2id (argon2-cffi defaults). Unknown login IDs still cost one hash
  verification, so response time does not reveal which IDs exist.
- Failed logins are throttled per account and per client address with exponential backoff
  (spec 10.3: 複数回のアクセスの失敗に対して、強制的に終了させること; ADR 0009). There is no hard
  lock: one would let anyone keep any staff member out, and its answer would tell which ids exist.
- A password change (own or by an administrator) revokes the account's other sessions.
- A session secret is `<scope>.<random>`; the scope (tenant code or "host") tells which tenant's
  unit of work can look it up, so sessions are isolated like any other tenant row. Only the
  SHA-256 of the secret is stored.
- Cookie sessions carry a CSRF token (also stored hashed) that unsafe requests must echo in the
  `X-CSRF-Token` header. Bearer tokens are for programs and need no CSRF token.
- Every denial (wrong password, locked account, expired session, missing role) is audited in a
  transaction of its own, so it survives the failed request.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from kikan.platform import audit, throttle
from kikan.platform.db import HOST_SCOPE, utcnow
from kikan.platform.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthenticated,
)
from kikan.platform.functions import Function, FunctionLabel, platform_table
from kikan.platform.functions import text as function_text
from kikan.platform.settings import Settings
from kikan.platform.store import AuthSessionRow, HostOperatorRow, StaffAccountRow, TenantRow
from kikan.platform.tenancy import TenantNotFound, check_code
from kikan.platform.uow import Database, Scope, UnitOfWork

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """The hash verified for an unknown login id, so its answer takes as long as a wrong
    password. Made when the application is built (`create_app` calls it), not at import:
    hashing at import cost every `kikan` command ~0.13 s."""
    return _hasher.hash("kikan-timing-equaliser")


def prepare_login() -> None:
    """Make the timing equaliser before the first request (else the first unknown login id of
    a worker would answer one hash slower than later ones)."""
    _dummy_hash()


LOGIN_ID_RE = re.compile(r"^[A-Za-z0-9._-]{3,64}$")
MIN_PASSWORD_LENGTH = 12


#: the platform's 機能ID catalogue (kikan/platform/data/functions.toml)
FUNCTIONS = platform_table()


class Role(StrEnum):
    """Staff roles. Host operators are a separate kind of principal, not a staff role."""

    COUNTER = "counter"
    APPROVER = "approver"
    SYSADMIN = "sysadmin"
    AUDITOR = "auditor"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.COUNTER: "窓口",
    Role.APPROVER: "審査・決裁",
    Role.SYSADMIN: "システム管理",
    Role.AUDITOR: "監査",
}
OPERATOR_LABEL = "ホスト運用者"
_LABEL_BY_VALUE = {
    **{r.value: label for r, label in ROLE_LABELS.items()},
    "operator": OPERATOR_LABEL,
}


def role_label(value: str) -> str:
    """Japanese label of a role code (or of the host operator principal)."""
    return _LABEL_BY_VALUE.get(value, value)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one request."""

    kind: str  # "staff" | "operator"
    id: int
    login_id: str
    display_name: str
    scope: str  # tenant code, or "host" for operators
    roles: frozenset[str]
    session_kind: str  # "cookie" | "bearer"
    terminal: str = ""
    place: str = ""
    #: SHA-256 of the session secret this request came with ("" when not from a session)
    session_hash: str = ""

    @property
    def tenant(self) -> str | None:
        return None if self.scope == HOST_SCOPE else self.scope

    def actor(self) -> audit.Actor:
        return audit.Actor(
            kind=self.kind, id=self.login_id, terminal=self.terminal, place=self.place
        )

    def has_role(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)


@dataclass(frozen=True)
class IssuedSession:
    token: str
    csrf_token: str | None
    expires_at: datetime
    principal: Principal


def _usable(account: StaffAccountRow | HostOperatorRow, now: datetime) -> bool:
    """Active and inside its 利用期間 (spec 10.3: 利用範囲及び期間が管理できること)."""
    if not account.active:
        return False
    if isinstance(account, StaffAccountRow):
        if account.valid_from is not None and account.valid_from > now:
            return False
        if account.valid_until is not None and account.valid_until <= now:
            return False
    return True


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"パスワードは{MIN_PASSWORD_LENGTH}文字以上で設定してください。", item="パスワード"
        )
    classes = sum(
        bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]")
    )
    if classes < 2:
        raise InvalidInput(
            "パスワードには英小文字・英大文字・数字・記号のうち2種類以上を含めてください。",
            item="パスワード",
        )


def _check_login_id(login_id: str) -> str:
    if not LOGIN_ID_RE.match(login_id):
        raise InvalidInput(
            "ログインIDは英数字と . _ - の3〜64文字で指定してください。", item="ログインID"
        )
    return login_id


def parse_roles(roles: list[str] | str) -> list[Role]:
    names = roles.split(",") if isinstance(roles, str) else roles
    out = []
    for raw in names:
        name = raw.strip()
        if not name:
            continue
        try:
            out.append(Role(name))
        except ValueError:
            by_label = {v: k for k, v in ROLE_LABELS.items()}
            if name in by_label:
                out.append(by_label[name])
            else:
                raise InvalidInput(
                    "定義されていない権限が指定されています"
                    f"（{'、'.join(f'{r.value}={r.label}' for r in Role)}）。",
                    item="権限",
                ) from None
    if not out:
        raise InvalidInput("権限を1つ以上指定してください。", item="権限")
    return sorted(set(out))


def create_staff(
    uow: UnitOfWork,
    actor: audit.Actor,
    *,
    login_id: str,
    display_name: str,
    roles: list[str] | str,
    password: str,
    department: str = "",
) -> StaffAccountRow:
    """Create a staff account in the unit of work's tenant (spec 10.3 操作権限管理)."""
    if uow.scope.is_host:
        raise RuntimeError("staff accounts belong to a tenant scope")
    _check_login_id(login_id)
    parsed = parse_roles(roles)
    check_password_policy(password)
    if not display_name.strip():
        raise InvalidInput("利用者名称を入力してください。", item="利用者名称")
    exists = uow.session.scalars(
        select(StaffAccountRow.id).where(StaffAccountRow.login_id == login_id)
    ).first()
    if exists is not None:
        raise Conflict("このログインIDは既に使われています。", item="ログインID")
    row = StaffAccountRow(
        login_id=login_id,
        display_name=display_name.strip(),
        department=department,
        roles=",".join(r.value for r in parsed),
        password_hash=hash_password(password),
    )
    uow.session.add(row)
    # the login ID (unique) is checked now: a concurrent registration fails before the audit
    uow.session.flush()
    audit.append(
        uow,
        actor,
        audit.AuditEvent(
            category="config",
            action="config",
            function=FUNCTIONS.entry("platform.staff_create"),
            subjects=[login_id],
            detail={"roles": [r.value for r in parsed]},
        ),
    )
    return row


def create_operator(
    uow: UnitOfWork, actor: audit.Actor, *, login_id: str, display_name: str, password: str
) -> HostOperatorRow:
    if not uow.scope.is_host:
        raise RuntimeError("host operators are created in host scope")
    _check_login_id(login_id)
    check_password_policy(password)
    if uow.session.scalars(
        select(HostOperatorRow.id).where(HostOperatorRow.login_id == login_id)
    ).first():
        raise Conflict("このログインIDは既に使われています。", item="ログインID")
    row = HostOperatorRow(
        login_id=login_id, display_name=display_name, password_hash=hash_password(password)
    )
    uow.session.add(row)
    # the login ID (unique) is checked now: a concurrent registration fails before the audit
    uow.session.flush()
    audit.append(
        uow,
        actor,
        audit.AuditEvent(
            category="config",
            action="config",
            function=FUNCTIONS.entry("platform.operator_create"),
            subjects=[login_id],
        ),
    )
    return row


def token_digest(token: str) -> str:
    """What is stored of a bearer secret (sessions, linkage tokens): its SHA-256, never itself."""
    return hashlib.sha256(token.encode()).hexdigest()


_token_hash = token_digest


def _denied(
    db: Database, scope: str, actor: audit.Actor, function: Function, reason: str, **detail: str
) -> None:
    audit.append_now(
        db,
        scope,
        actor,
        audit.AuditEvent(
            category="auth",
            action="denial",
            outcome="denied",
            function=function,
            detail={"reason": reason, **detail},
        ),
    )


THROTTLED_MESSAGE = (
    "ログインに続けて失敗したため、しばらくの間受け付けません。時間をおいて再度お試しください。"
)


def _check_throttle(db: Database, keys: list[throttle.Key]) -> None:
    """429 (same body for every key and every login id) while any key must wait."""
    wait = 0
    for key in keys:
        with db.unit_of_work(key.scope) as uow:
            wait = max(wait, throttle.wait_seconds(uow, key))
            uow.commit()
    if wait:
        raise TooManyRequests(THROTTLED_MESSAGE, slug="login-throttled", retry_after=wait)


def _throttled_event(function: Function, key: throttle.Key, delay: int) -> audit.AuditEvent:
    return audit.AuditEvent(
        category="auth",
        action="denial",
        outcome="denied",
        function=function,
        detail={"reason": "throttled", "key": key.kind, "seconds": delay},
    )


def _count_account_failure(
    uow: UnitOfWork,
    settings: Settings,
    key: throttle.Key,
    actor: audit.Actor,
    *,
    function: Function,
) -> None:
    """Count a failure on an account key inside the unit of work that checked the password."""
    delay = throttle.record_failure(
        uow, key, threshold=settings.lockout_threshold, max_seconds=settings.lockout_minutes * 60
    )
    if delay:
        audit.append(uow, actor, _throttled_event(function, key, delay))


def _count_failure(
    db: Database,
    settings: Settings,
    keys: list[throttle.Key],
    actor: audit.Actor,
    *,
    function: Function,
    scope: str,
) -> None:
    """Count a failed password check against every key; audit each backoff it starts in the
    attempt's chain (`scope`) — one record per block, not per refused call, so waiting callers
    cannot grow the chain."""
    for key in keys:
        threshold = (
            settings.lockout_threshold
            if key.kind == "login-account"
            else settings.login_address_threshold
        )
        with db.unit_of_work(key.scope) as uow:
            delay = throttle.record_failure(
                uow, key, threshold=threshold, max_seconds=settings.lockout_minutes * 60
            )
            uow.commit()
        if delay:
            audit.append_now(db, scope, actor, _throttled_event(function, key, delay))


def login(
    db: Database,
    settings: Settings,
    *,
    tenant: str | None,
    login_id: str,
    password: str,
    kind: str,
    terminal: str = "",
    place: str = "",
    address: str = "",
) -> IssuedSession:
    """Check a password and open a session. `tenant=None` logs in a host operator.

    `address` is the client's network address (not the terminal name it claims): failures are
    throttled per address and per account (ADR 0009). Unknown, inactive and existing login ids
    get the same answers: 401 with the same body after the same password-hash work, and the same
    429 once their key must wait. A throttled account keeps its live sessions.
    """
    scope = HOST_SCOPE if tenant is None else check_code(tenant)
    principal_kind = "operator" if tenant is None else "staff"
    attempt = audit.Actor(kind=principal_kind, id=login_id[:64], terminal=terminal, place=place)
    account_key = throttle.account_key(scope, login_id[:64])
    keys = [account_key] + ([throttle.address_key("login-address", address)] if address else [])
    if tenant is not None:
        with db.unit_of_work(Scope.host()) as uow:
            row = uow.session.get(TenantRow, scope)
            known = row is not None and row.active
        if not known:
            if address:
                _check_throttle(db, keys[1:])
                _count_failure(
                    db,
                    settings,
                    keys[1:],
                    attempt,
                    function=FUNCTIONS.entry("platform.login"),
                    scope=HOST_SCOPE,
                )
            _denied(
                db,
                HOST_SCOPE,
                attempt,
                FUNCTIONS.entry("platform.login"),
                "unknown_tenant",
                tenant=scope,
            )
            raise TenantNotFound(
                "指定された団体コードの団体は登録されていません。", item="団体コード"
            )
    _check_throttle(db, keys[1:])

    now = utcnow()
    failed = Unauthenticated("ログインIDまたはパスワードが正しくありません。", slug="login-failed")
    with db.unit_of_work(scope) as uow:
        # the account's throttle row stays locked through the password check, so parallel
        # guesses on one account are counted one after the other
        wait = throttle.wait_seconds(uow, account_key, lock=True)
        if wait:
            uow.commit()
            raise TooManyRequests(THROTTLED_MESSAGE, slug="login-throttled", retry_after=wait)
        account, reason = _check_password(uow, tenant is None, login_id, password, now)
        if reason:
            audit.append(uow, attempt, _auth_denial(reason))
            _count_account_failure(
                uow, settings, account_key, attempt, function=FUNCTIONS.entry("platform.login")
            )
            uow.commit()
        else:
            assert account is not None
            if _hasher.check_needs_rehash(account.password_hash):
                account.password_hash = hash_password(password)
            principal = _principal(account, scope, kind, terminal, place)
            issued = _open_session(uow, settings, principal, kind, terminal)
            throttle.clear(uow, account_key)
            audit.append(
                uow,
                principal.actor(),
                audit.AuditEvent(
                    category="auth",
                    action="login",
                    function=FUNCTIONS.entry("platform.login"),
                    detail={"session": kind},
                ),
            )
            uow.commit()
    if reason:
        _count_failure(
            db, settings, keys[1:], attempt, function=FUNCTIONS.entry("platform.login"), scope=scope
        )
        raise failed
    for key in keys[1:]:
        # a success from the address forgets its failures: an office behind one NAT must not
        # be kept out by its own typos (the account keys still hold back a guesser)
        with db.unit_of_work(key.scope) as host_uow:
            throttle.clear(host_uow, key)
            host_uow.commit()
    return issued


def _check_password(
    uow: UnitOfWork, operator: bool, login_id: str, password: str, now: datetime
) -> tuple[StaffAccountRow | HostOperatorRow | None, str]:
    """The account and "" if the password is right, else a denial reason. An unknown or
    unusable id still costs one hash verification, so timing does not tell them apart."""
    account: StaffAccountRow | HostOperatorRow | None
    if operator:
        account = uow.session.scalars(
            select(HostOperatorRow).where(HostOperatorRow.login_id == login_id)
        ).first()
    else:
        account = uow.session.scalars(
            select(StaffAccountRow).where(StaffAccountRow.login_id == login_id)
        ).first()
    if account is None or not _usable(account, now):
        with contextlib.suppress(VerificationError):
            _hasher.verify(_dummy_hash(), password)
        return account, "unknown_or_inactive_account"
    try:
        _hasher.verify(account.password_hash, password)
    except (VerificationError, InvalidHashError):
        return account, "wrong_password"
    return account, ""


def _auth_denial(reason: str) -> audit.AuditEvent:
    return audit.AuditEvent(
        category="auth",
        action="denial",
        outcome="denied",
        function=FUNCTIONS.entry("platform.login"),
        detail={"reason": reason},
    )


def _open_session(
    uow: UnitOfWork, settings: Settings, principal: Principal, kind: str, terminal: str
) -> IssuedSession:
    if kind not in ("cookie", "bearer"):
        raise ValueError(kind)
    token = f"{principal.scope}.{secrets.token_urlsafe(32)}"
    csrf = secrets.token_urlsafe(32) if kind == "cookie" else None
    now = utcnow()
    ttl = settings.session_absolute_minutes if kind == "cookie" else settings.token_ttl_minutes
    expires = now + timedelta(minutes=ttl)
    uow.session.add(
        AuthSessionRow(
            token_hash=_token_hash(token),
            kind=kind,
            principal_kind=principal.kind,
            principal_id=principal.id,
            csrf_hash=_token_hash(csrf) if csrf else None,
            terminal=terminal[:200],
            created_at=now,
            last_seen_at=now,
            expires_at=expires,
        )
    )
    # the token hash (primary key) is checked now, before the caller audits the login
    uow.session.flush()
    return IssuedSession(token=token, csrf_token=csrf, expires_at=expires, principal=principal)


def token_scope(token: str) -> str | None:
    """The scope prefix of a session secret, if it is well formed."""
    scope, sep, rest = token.partition(".")
    if not sep or not rest:
        return None
    if scope == HOST_SCOPE or (len(scope) == 6 and scope.isdigit()):
        return scope
    return None


def authenticate(
    db: Database,
    settings: Settings,
    *,
    token: str,
    kind: str,
    csrf_token: str | None = None,
    require_csrf: bool = False,
    terminal: str = "",
    place: str = "",
) -> Principal:
    """Resolve a session secret to its principal, or raise 401 (audited)."""
    anonymous = audit.Actor(kind="anonymous", id="-", terminal=terminal, place=place)
    scope = token_scope(token)
    if scope is None:
        raise Unauthenticated(
            "認証情報が正しくありません。ログインしてください。", slug="invalid-token"
        )
    with db.unit_of_work(scope) as uow:
        row = uow.session.get(AuthSessionRow, _token_hash(token))
        unknown = row is None or row.kind != kind or row.tenant_code != scope
        if not unknown:
            assert row is not None
            try:
                principal = _check_session(
                    uow,
                    settings=settings,
                    row=row,
                    kind=kind,
                    csrf_token=csrf_token,
                    require_csrf=require_csrf,
                    terminal=terminal,
                    place=place,
                )
            except (Unauthenticated, Forbidden):
                uow.commit()  # the denial _check_session audited is kept: the request fails
                raise
            uow.commit()
    if unknown:
        _audit_denial_if_tenant(db, scope, anonymous, "invalid_token")
        raise Unauthenticated(
            "認証情報が正しくありません。ログインしてください。", slug="invalid-token"
        )
    return principal


def _check_session(
    uow: UnitOfWork,
    *,
    settings: Settings,
    row: AuthSessionRow,
    kind: str,
    csrf_token: str | None,
    require_csrf: bool,
    terminal: str,
    place: str,
) -> Principal:
    """Validate a found session; denials are audited in the caller's unit of work, which
    `authenticate` commits before the denial is raised on."""
    now = utcnow()
    scope = row.tenant_code
    anonymous = audit.Actor(kind="anonymous", id="-", terminal=terminal, place=place)
    expired = row.revoked_at is not None or row.expires_at <= now
    if kind == "cookie" and not expired:
        expired = row.last_seen_at + timedelta(minutes=settings.session_idle_minutes) <= now
    if expired:
        who = _load_account(uow, row)
        actor = audit.Actor(
            kind=row.principal_kind, id=who.login_id if who else "-", terminal=terminal, place=place
        )
        audit.append(uow, actor, _session_denial("expired_session"))
        raise Unauthenticated(
            "セッションの有効期限が切れました。もう一度ログインしてください。",
            slug="session-expired",
        )
    account = _load_account(uow, row)
    if account is None or not _usable(account, now):
        audit.append(uow, anonymous, _session_denial("account_disabled"))
        raise Unauthenticated("このアカウントは利用できません。", slug="account-disabled")
    csrf_ok = (
        csrf_token is not None
        and row.csrf_hash is not None
        and hmac.compare_digest(row.csrf_hash, _token_hash(csrf_token))
    )
    if require_csrf and not csrf_ok:
        actor = audit.Actor(kind=row.principal_kind, id=account.login_id, terminal=terminal)
        audit.append(uow, actor, _session_denial("csrf"))
        raise Forbidden(
            "画面の有効期限が切れたか、不正な要求です。画面を開き直してください。",
            slug="csrf-failed",
        )
    row.last_seen_at = now
    return replace(_principal(account, scope, kind, terminal, place), session_hash=row.token_hash)


def _principal(
    account: StaffAccountRow | HostOperatorRow,
    scope: str,
    session_kind: str,
    terminal: str,
    place: str,
) -> Principal:
    is_staff = isinstance(account, StaffAccountRow)
    return Principal(
        kind="staff" if is_staff else "operator",
        id=account.id,
        login_id=account.login_id,
        display_name=account.display_name,
        scope=scope,
        roles=frozenset(account.roles.split(","))
        if isinstance(account, StaffAccountRow)
        else frozenset({"operator"}),
        session_kind=session_kind,
        terminal=terminal,
        place=place,
    )


def _session_denial(reason: str) -> audit.AuditEvent:
    return audit.AuditEvent(
        category="auth",
        action="denial",
        outcome="denied",
        function=FUNCTIONS.entry("platform.authenticate"),
        detail={"reason": reason},
    )


def _audit_denial_if_tenant(db: Database, scope: str, actor: audit.Actor, reason: str) -> None:
    """Record a denial in the claimed tenant's chain if that tenant exists, else in the host's."""
    with db.unit_of_work(Scope.host()) as uow:
        known = scope == HOST_SCOPE or uow.session.get(TenantRow, scope) is not None
    audit.append_now(db, scope if known else HOST_SCOPE, actor, _session_denial(reason))


def _load_account(uow: UnitOfWork, row: AuthSessionRow) -> StaffAccountRow | HostOperatorRow | None:
    if row.principal_kind == "operator":
        return uow.session.get(HostOperatorRow, row.principal_id)
    return uow.session.get(StaffAccountRow, row.principal_id)


def logout(db: Database, principal: Principal, token: str) -> None:
    with db.unit_of_work(principal.scope) as uow:
        row = uow.session.get(AuthSessionRow, _token_hash(token))
        if row is not None:
            row.revoked_at = utcnow()
        audit.append(
            uow,
            principal.actor(),
            audit.AuditEvent(
                category="auth", action="logout", function=FUNCTIONS.entry("platform.logout")
            ),
        )
        uow.commit()


def require_roles(
    db: Database, principal: Principal, *roles: str, function: FunctionLabel | str
) -> None:
    """Raise 403 (and audit the denial) unless the principal holds one of `roles`."""
    if principal.has_role(*roles):
        return
    audit.append_now(
        db,
        principal.scope,
        principal.actor(),
        audit.AuditEvent(
            category="auth",
            action="denial",
            outcome="denied",
            function=function,
            detail={"reason": "missing_role", "required": list(roles)},
        ),
    )
    labels = "・".join(role_label(r) for r in roles)
    raise Forbidden(f"「{function_text(function)}」には{labels}の権限が必要です。")


def require_function(db: Database, principal: Principal, function: Function) -> None:
    """The role check of a catalogue function: its roles are data (ADR 0014). No roles: any
    staff member of the tenant."""
    if function.roles:
        require_roles(db, principal, *function.roles, function=function)


def revoke_sessions(
    uow: UnitOfWork, principal_kind: str, principal_id: int, *, keep: str = ""
) -> int:
    """End every live session and API token of an account except `keep` (a token hash)."""
    now = utcnow()
    rows = uow.session.scalars(
        select(AuthSessionRow).where(
            AuthSessionRow.principal_kind == principal_kind,
            AuthSessionRow.principal_id == principal_id,
            AuthSessionRow.revoked_at.is_(None),
            AuthSessionRow.token_hash != keep,
        )
    ).all()
    for row in rows:
        row.revoked_at = now
    return len(rows)


def unlock_staff(uow: UnitOfWork, actor: audit.Actor, login_id: str) -> None:
    """ロック解除: forget the account's login failures, so it need not wait out its backoff."""
    row = uow.session.scalars(
        select(StaffAccountRow).where(StaffAccountRow.login_id == login_id)
    ).first()
    if row is None:
        raise NotFound("指定されたログインIDの職員は登録されていません。", item="ログインID")
    row.failed_attempts = 0
    row.locked_until = None
    throttle.clear(uow, throttle.account_key(uow.tenant, login_id))
    audit.append(
        uow,
        actor,
        audit.AuditEvent(
            category="config",
            action="config",
            function=FUNCTIONS.entry("platform.unlock"),
            subjects=[login_id],
        ),
    )


def reset_password(uow: UnitOfWork, actor: audit.Actor, login_id: str, new_password: str) -> None:
    """System administrator resets a staff password (spec 10.3: システム管理者による初期化).

    Every session and API token of the account ends: whoever held them (perhaps the reason
    for the reset) must log in with the new password."""
    check_password_policy(new_password)
    row = uow.session.scalars(
        select(StaffAccountRow).where(StaffAccountRow.login_id == login_id)
    ).first()
    if row is None:
        raise NotFound("指定されたログインIDの職員は登録されていません。", item="ログインID")
    row.password_hash = hash_password(new_password)
    row.password_changed_at = utcnow()
    row.failed_attempts = 0
    row.locked_until = None
    throttle.clear(uow, throttle.account_key(uow.tenant, login_id))
    revoked = revoke_sessions(uow, "staff", row.id)
    audit.append(
        uow,
        actor,
        audit.AuditEvent(
            category="config",
            action="config",
            function=FUNCTIONS.entry("platform.password_reset"),
            subjects=[login_id],
            detail={"sessions_revoked": revoked},
        ),
    )


def change_own_password(
    db: Database,
    settings: Settings,
    principal: Principal,
    current_password: str,
    new_password: str,
    *,
    address: str = "",
) -> None:
    """A staff member changes their own password (spec 10.3: 利用者による変更).

    A wrong current password counts like a failed login (same keys, same backoff, 429 while
    waiting), so a stolen session cannot be used to guess the password. On success the account's
    other sessions and tokens end; the one making the change stays signed in."""
    keys = [throttle.account_key(principal.scope, principal.login_id)] + (
        [throttle.address_key("login-address", address)] if address else []
    )
    _check_throttle(db, keys)
    with db.unit_of_work(principal.scope) as uow:
        row = uow.session.get(StaffAccountRow, principal.id)
        if row is None:
            raise NotFound("職員が見つかりません。")
        try:
            _hasher.verify(row.password_hash, current_password)
            wrong = False
        except (VerificationError, InvalidHashError):
            wrong = True
    if wrong:
        _denied(
            db,
            principal.scope,
            principal.actor(),
            FUNCTIONS.entry("platform.password_change"),
            "wrong_password",
        )
        _count_failure(
            db,
            settings,
            keys,
            principal.actor(),
            function=FUNCTIONS.entry("platform.password_change"),
            scope=principal.scope,
        )
        raise InvalidInput("現在のパスワードが正しくありません。", item="現在のパスワード")
    check_password_policy(new_password)
    if current_password == new_password:
        raise InvalidInput(
            "新しいパスワードは現在と異なるものにしてください。", item="新しいパスワード"
        )
    with db.unit_of_work(principal.scope) as uow:
        row = uow.session.get(StaffAccountRow, principal.id)
        if row is None:
            raise NotFound("職員が見つかりません。")
        row.password_hash = hash_password(new_password)
        row.password_changed_at = utcnow()
        throttle.clear(uow, keys[0])
        revoked = revoke_sessions(uow, "staff", row.id, keep=principal.session_hash)
        audit.append(
            uow,
            principal.actor(),
            audit.AuditEvent(
                category="config",
                action="config",
                function=FUNCTIONS.entry("platform.password_change"),
                detail={"sessions_revoked": revoked},
            ),
        )
        uow.commit()
