"""Staff pages of the resident register: 住民検索, 住民照会, 異動 entry, IT pages.

Why a package inside the module: the pages call `kikan.residents.service` (the same use cases and
rules as the API) and build on the UI shell (`kikan.web.shell`); the shell knows nothing of them.
The composition root includes `router`, the navigation (`NAV` of each area) and the templates
as the module's descriptor (`kikan.residents.module`) declares them.
"""

from __future__ import annotations

from fastapi import APIRouter

from kikan.residents.web import certificates, entry, issuances, it, reads

router = APIRouter(prefix="/ui", include_in_schema=False)
for _area in (reads, entry, certificates, issuances, it):
    router.include_router(_area.router)

__all__ = ["router"]
