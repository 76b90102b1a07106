"""Staff pages of 宛名管理: the 住登外者 register and the 名寄せ worklist (ADR 0007).

Why a package inside the module: the pages call `kikan.atena.service` (the same use cases and
rules as the API) and build on the UI shell (`kikan.web.shell`); the shell knows nothing of them.
The composition root includes `router`, the navigation (`NAV` of each area) and the templates
as the module's descriptor (`kikan.atena.module`) declares them. Template names start with
`atena_`: every module's templates share one loader.
"""

from __future__ import annotations

from fastapi import APIRouter

from kikan.atena.web import jutogai, nayose

router = APIRouter(prefix="/ui", include_in_schema=False)
for _area in (jutogai, nayose):
    router.include_router(_area.router)

__all__ = ["router"]
