"""REST API of 個人住民税 under /api/v1/juminzei (staff-facing, Japanese, problem+json errors).

Every endpoint declares its operation once (`uses("juminzei.…")`: the function and its roles are
data in functions.toml) and opens one unit of work for the caller's tenant, committing it itself.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from kikan.juminzei import domain, service
from kikan.juminzei.linkage import CONSUMER
from kikan.linkage.consumer.api import add_link_routes
from kikan.platform.deps import DbDep, StaffContextDep, StaffDep, uses
from kikan.platform.errors import from_value_error
from kikan.platform.functions import Function

router = APIRouter(prefix="/api/v1/juminzei", tags=["個人住民税"])


class ItemIn(BaseModel):
    label: Annotated[str, Field(min_length=1, max_length=domain.MAX_LABEL, description="名称")]


class ItemOut(BaseModel):
    id: int
    label: str


@router.get("/items", summary="一覧", response_model=list[ItemOut])
def list_items(
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("juminzei.items_list")],
    db: DbDep,
) -> list[ItemOut]:
    with db.unit_of_work(staff.scope) as uow:
        items = service.list_items(uow, ctx, service.ListItems())
        return [ItemOut(id=i.id, label=i.label) for i in items]


@router.post("/items", summary="登録", status_code=201, response_model=ItemOut)
def add_item(
    body: ItemIn,
    staff: StaffDep,
    ctx: StaffContextDep,
    op: Annotated[Function, uses("juminzei.items_add")],
    db: DbDep,
) -> ItemOut:
    with db.unit_of_work(staff.scope) as uow:
        # a refused rule raises a DomainError: the platform maps it to its problem (ADR 0013)
        item = service.add_item(uow, ctx, service.AddItem(label=body.label))
        uow.commit()
    return ItemOut(id=item.id, label=item.label)


# the link endpoints (PUT/GET /api/v1/juminzei/linkage) are the consumer kit's, declared last
add_link_routes(router, CONSUMER)
