"""The demo municipality: a fictional but realistic tenant for `kikan demo` and the run command.

日和市 (架空県) uses the unassigned prefecture number 99, so its 団体コード 992011 (check digit
valid) cannot collide with a real municipality. Business modules add their own demo data (the
residents module adds ≈1,000 residents through its use cases): each module's descriptor names
its seeders and the composition root (`kikan demo`) passes them to `seed_demo`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

from sqlalchemy import select

from kikan.platform import audit, auth, tenancy
from kikan.platform.crypto import KeyRing
from kikan.platform.modules import DemoSeed
from kikan.platform.store import HostOperatorRow
from kikan.platform.uow import Database, Scope

DEMO_TENANT = "992011"
DEMO_TENANT_NAME = "日和市"
DEMO_PREFECTURE = "架空県"
DEMO_MAYOR = "髙橋 一郎"
DEMO_PASSWORD = "Kikan-Demo-2026"  # noqa: S105 - the published demo password, printed by `run`
DEMO_OPERATOR = "operator"

#: login id → (display name, department, roles)
DEMO_STAFF: dict[str, tuple[str, str, list[str]]] = {
    "madoguchi": ("窓口 花子", "市民課", [auth.Role.COUNTER]),
    "shinsa": ("審査 次郎", "市民課", [auth.Role.COUNTER, auth.Role.APPROVER]),
    "kanri": ("管理 三郎", "情報政策課", [auth.Role.SYSADMIN]),
    "kansa": ("監査 四子", "監査委員事務局", [auth.Role.AUDITOR]),
}


@dataclass
class DemoResult:
    created: bool
    tenant: str
    staff: list[str]
    extra: dict[str, int]


def demo_seal_png() -> bytes:
    return resources.files("kikan.platform").joinpath("data/demo_seal.png").read_bytes()


def seed_demo(
    db: Database,
    seeders: Sequence[tuple[str, DemoSeed]] = (),
    keyring: KeyRing | None = None,
) -> DemoResult:
    """Create the demo tenant, its staff per role and a host operator, then run the modules'
    seeders (label, seed) in order. Idempotent: nothing runs for an existing demo tenant."""
    actor = audit.Actor(kind="system", id="kikan-demo")
    with db.unit_of_work(Scope.host()) as uow:
        if tenancy.tenant_exists(uow, DEMO_TENANT):
            return DemoResult(False, DEMO_TENANT, list(DEMO_STAFF), {})
        tenancy.create_tenant(
            uow,
            actor,
            code=DEMO_TENANT,
            name=DEMO_TENANT_NAME,
            prefecture=DEMO_PREFECTURE,
            mayor_title="市長",
            mayor_name=DEMO_MAYOR,
            seal_png=demo_seal_png(),
        )
        exists = uow.session.scalars(
            select(HostOperatorRow.id).where(HostOperatorRow.login_id == DEMO_OPERATOR)
        ).first()
        if exists is None:
            auth.create_operator(
                uow, actor, login_id=DEMO_OPERATOR, display_name="運用 担当", password=DEMO_PASSWORD
            )
        uow.commit()
    with db.unit_of_work(DEMO_TENANT) as uow:
        for login_id, (name, dept, roles) in DEMO_STAFF.items():
            auth.create_staff(
                uow,
                actor,
                login_id=login_id,
                display_name=name,
                department=dept,
                roles=[str(r) for r in roles],
                password=DEMO_PASSWORD,
            )
        uow.commit()
    extra = {label: seed(db, DEMO_TENANT, keyring) for label, seed in seeders}
    return DemoResult(True, DEMO_TENANT, list(DEMO_STAFF), extra)
