"""Certificate settings of the demo municipality: a code-drawn black 公印 for the mayor and the
職務代理者, the 公印 phrase, and a 職務代理者 period (so both certifiers can be tried)."""

from __future__ import annotations

from datetime import date

from kikan.forms.official_seal import draw_official_seal
from kikan.platform import audit, tenancy
from kikan.platform.context import Context
from kikan.platform.uow import Database
from kikan.residents.certificates.service import set_certifier
from kikan.residents.service.commands import SetCertifier

ACTOR = audit.Actor(kind="system", id="kikan-demo")
DEPUTY_TITLE = "副市長"
DEPUTY_NAME = "日和 次郎"
#: A fictional absence of the mayor: certificates issued in this period are signed by the deputy.
DEPUTY_PERIOD = (date(2027, 4, 1), date(2027, 4, 30))
NOTICE = "この印は黒色です"


def seed_certificate_settings(db: Database, tenant: str) -> int:
    """Replace the demo tenant's seal with one drawn here and register the 職務代理者."""
    with db.unit_of_work(tenant) as uow:
        t = tenancy.get_tenant(uow, tenant)
        title = t.mayor_title
        office = t.name + (title[1:] if title.startswith(t.name[-1:]) else title)
        tenancy.update_tenant_profile(
            uow, ACTOR, code=tenant, seal_png=draw_official_seal(f"{office}之印")
        )
        set_certifier(
            uow,
            Context(actor=ACTOR),
            SetCertifier(
                deputy_title=DEPUTY_TITLE,
                deputy_name=DEPUTY_NAME,
                deputy_from=DEPUTY_PERIOD[0],
                deputy_until=DEPUTY_PERIOD[1],
                deputy_seal_png=draw_official_seal(f"{t.name}長職務代理者印"),
                notice=NOTICE,
            ),
        )
        uow.commit()
    return 1
