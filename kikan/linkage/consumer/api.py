"""The link endpoints of a consumer: `PUT/GET /api/v1/<module>/linkage` (システム管理 only),
added to the module's own router by one call.

Why generic: configuring where the 宛名 come from (URL, client id, secret) and showing how far
the sync stands is the same for every consumer; only the path prefix and the 機能 label differ.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from kikan.linkage.consumer import sync
from kikan.platform import audit
from kikan.platform.deps import DbDep, StaffDep, client_place, client_terminal, uses
from kikan.platform.types import Chars, ItemClass


class LinkRequest(BaseModel):
    base_url: Annotated[str, Chars(300, min_length=1)] = Field(
        description="庁内データ連携 API の URL"
    )
    client_id: Annotated[str, Chars(32, min_length=32)] = Field(description="クライアントID")
    client_secret: Annotated[str, Chars(64, ItemClass.SECRET, min_length=1)] = Field(
        description="クライアントシークレット"
    )


class SyncStateOut(BaseModel):
    connected: bool
    base_url: str | None
    client_id: str | None
    full_done: bool
    cursor: int = Field(description="反映済みの差分の位置（事象番号）")
    last_sync_at: datetime | None


def add_link_routes(router: APIRouter, consumer: sync.Consumer) -> None:
    """Add the two link endpoints to the module's router (call it after the module's own
    routes, so the OpenAPI order stays the module's)."""
    # declared on the decorators: the functions are local, so a string annotation naming a local
    # Annotated alias would not resolve (the module uses postponed annotations)
    operation = [uses(consumer.route_key)]

    @router.put(
        "/linkage",
        response_model=SyncStateOut,
        summary="庁内データ連携の接続設定",
        dependencies=operation,
    )
    def set_link(body: LinkRequest, request: Request, staff: StaffDep, db: DbDep) -> SyncStateOut:
        actor = audit.Actor(
            kind="staff",
            id=staff.login_id,
            terminal=client_terminal(request),
            place=client_place(request),
        )
        with db.unit_of_work(staff.scope) as uow:
            sync.save_link(
                uow,
                consumer,
                actor,
                base_url=body.base_url,
                client_id=body.client_id,
                client_secret=body.client_secret,
            )
            uow.commit()
        return get_link(staff, db)

    @router.get(
        "/linkage",
        response_model=SyncStateOut,
        summary="庁内データ連携の状態",
        dependencies=operation,
    )
    def get_link(staff: StaffDep, db: DbDep) -> SyncStateOut:
        with db.unit_of_work(staff.scope) as uow:
            row = sync.link(uow, consumer)
            return SyncStateOut(
                connected=row is not None,
                base_url=row.base_url if row else None,
                client_id=row.client_id if row else None,
                full_done=bool(row and row.full_done),
                cursor=row.cursor if row else 0,
                last_sync_at=row.last_sync_at if row else None,
            )
