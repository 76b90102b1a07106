"""Tenants: the municipalities (地方公共団体) a deployment serves, keyed by the 6-digit 団体コード.

There are no per-tenant code paths; what differs between municipalities is data on the tenant
(names, mayor, 公印) and, later, per-tenant switches for 標準オプション機能.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from kikan.platform import audit
from kikan.platform.errors import Conflict, InvalidInput, NotFound
from kikan.platform.functions import platform_table
from kikan.platform.ids import IdentifierError, validate_local_government_code
from kikan.platform.store import TenantRow
from kikan.platform.uow import UnitOfWork


class TenantNotFound(NotFound):
    slug = "tenant-not-found"
    title = "団体が登録されていません。"


@dataclass(frozen=True)
class Tenant:
    code: str
    name: str
    prefecture: str
    mayor_title: str
    mayor_name: str
    has_seal: bool
    active: bool

    @classmethod
    def of(cls, row: TenantRow) -> Tenant:
        return cls(
            code=row.code,
            name=row.name,
            prefecture=row.prefecture,
            mayor_title=row.mayor_title,
            mayor_name=row.mayor_name,
            has_seal=row.seal_png is not None,
            active=row.active,
        )


def check_code(code: str) -> str:
    """Validate a 団体コード (format and check digit) or raise a Japanese 422 problem."""
    try:
        return validate_local_government_code(code)
    except IdentifierError as exc:
        raise InvalidInput(exc.message, item="団体コード", code=exc.code) from exc


def create_tenant(
    uow: UnitOfWork,
    actor: audit.Actor,
    *,
    code: str,
    name: str,
    prefecture: str = "",
    mayor_title: str = "",
    mayor_name: str = "",
    seal_png: bytes | None = None,
) -> Tenant:
    """Register a municipality. Runs in host scope; audited in the host chain."""
    if not uow.scope.is_host:
        raise RuntimeError("tenants are created in host scope")
    code = check_code(code)
    name = name.strip()
    if not name:
        raise InvalidInput("団体名を入力してください。", item="団体名")
    if len(name) > 100:
        raise InvalidInput("団体名は100文字以内で入力してください。", item="団体名")
    if uow.session.get(TenantRow, code) is not None:
        raise Conflict(
            "この団体コードは既に登録されています。", item="団体コード", slug="tenant-exists"
        )
    if not mayor_title:
        mayor_title = _default_mayor_title(name)
    row = TenantRow(
        code=code,
        name=name,
        prefecture=prefecture,
        mayor_title=mayor_title,
        mayor_name=mayor_name,
        seal_png=seal_png,
        active=True,
    )
    uow.session.add(row)
    # the tenant row first: the audit record and every later row refer to it (foreign key)
    uow.session.flush()
    audit.append(
        uow,
        actor,
        audit.AuditEvent(
            category="config",
            action="config",
            function=platform_table().entry("platform.tenant_create"),
            subjects=[code],
            detail={"tenant": code, "name": name},
        ),
    )
    return Tenant.of(row)


def _default_mayor_title(name: str) -> str:
    for suffix, title in (("区", "区長"), ("町", "町長"), ("村", "村長")):
        if name.endswith(suffix):
            return title
    return "市長"


def get_tenant(uow: UnitOfWork, code: str) -> Tenant:
    row = uow.session.get(TenantRow, code)
    if row is None or not row.active:
        raise TenantNotFound("指定された団体コードの団体は登録されていません。", item="団体コード")
    return Tenant.of(row)


def tenant_exists(uow: UnitOfWork, code: str) -> bool:
    row = uow.session.get(TenantRow, code)
    return row is not None and row.active


def list_tenants(uow: UnitOfWork) -> list[Tenant]:
    return [Tenant.of(r) for r in uow.session.scalars(select(TenantRow).order_by(TenantRow.code))]


def official_seal_image(uow: UnitOfWork, code: str) -> bytes | None:
    row = uow.session.get(TenantRow, code)
    return row.seal_png if row else None


def update_tenant_profile(
    uow: UnitOfWork,
    actor: audit.Actor,
    *,
    code: str,
    mayor_name: str | None = None,
    mayor_title: str | None = None,
    seal_png: bytes | None = None,
) -> Tenant:
    """Change the mayor (認証者) or the 公印 image; the change is audited as a setting change."""
    row = uow.session.get(TenantRow, code)
    if row is None:
        raise TenantNotFound("指定された団体コードの団体は登録されていません。", item="団体コード")
    changed = []
    if mayor_name is not None:
        row.mayor_name = mayor_name
        changed.append("mayor_name")
    if mayor_title is not None:
        row.mayor_title = mayor_title
        changed.append("mayor_title")
    if seal_png is not None:
        row.seal_png = seal_png
        changed.append("seal_png")
    audit.append(
        uow,
        actor,
        audit.AuditEvent(
            category="config",
            action="config",
            function=platform_table().entry("platform.tenant_update"),
            subjects=[code],
            detail={"changed": changed},
        ),
    )
    return Tenant.of(row)
