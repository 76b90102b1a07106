"""Staff pages of 個人住民税 (ADR 0007): the worklist of unmatched income records, the intake of
給与支払報告書・公的年金等支払報告書, and the taxpayer view (every version, its calculation steps,
the 期割, the records, the notice).

Why a package inside the module: the pages call `kikan.juminzei.service` (the same use cases,
the catalogue's roles and the same access-log records as the API) and build on the UI shell
(`kikan.web.shell`); the shell knows nothing of them. The composition root includes `router`,
`NAV` and the templates as the module's descriptor (`kikan.juminzei.module`) declares them.
Template names start with `juminzei_`: every module's templates share one loader.
"""

from __future__ import annotations

from fastapi import APIRouter

from kikan.juminzei.web import intake, taxpayer, worklist
from kikan.juminzei.web.common import NAV

router = APIRouter(prefix="/ui", include_in_schema=False)
for _area in (taxpayer, worklist, intake):
    router.include_router(_area.router)

__all__ = ["NAV", "router"]
