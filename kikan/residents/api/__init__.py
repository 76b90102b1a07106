"""REST API of the resident register under /api/v1 (OpenAPI descriptions in Japanese).

Searches take their criteria in a POST body, so names and numbers never appear in URLs or access
logs, and accept `fields` so callers receive only what they need. Every read is audited by the
service. Writes take the versions the caller last saw (`expected_versions`, or `If-Match` on
single-person endpoints) and answer 409 when someone else changed the data in between.

A 抑止 at level エラー (spec 3.1) answers 403 `urn:kikan:problem:suppressed`, and the refusal is
kept in the access log although the request's own transaction rolls back. Level アラート lets the
request through with the warning: in `warnings` of 異動 results and of 住民照会, and for 異動履歴
(whose body is a list) in `Kikan-Warning` response headers, one per warning, percent-encoded
UTF-8 (HTTP header values cannot carry Japanese text as is).

The room grew into a package (ADR 0005): one router per area, included below under the prefix
and tag they have always had. The include order is the registration order of the routes, which
the published OpenAPI document (docs/api/openapi.json) and route matching follow: add a new
area at the end, and new endpoints at the end of their area's module.
"""

from __future__ import annotations

from fastapi import APIRouter

from kikan.residents.api import certificates, changes, households, identity, protection, reads

router = APIRouter(prefix="/api/v1", tags=["住民記録"])
for _area in (changes, households, identity, reads, protection, certificates):
    router.include_router(_area.router)

__all__ = ["router"]
