"""What the use cases of 個人住民税 share: the access-log record of an operation."""

from __future__ import annotations

from collections.abc import Sequence

from kikan.juminzei.module import FUNCTIONS
from kikan.platform import audit
from kikan.platform.context import Context
from kikan.platform.uow import UnitOfWork


def log(
    uow: UnitOfWork,
    ctx: Context,
    key: str,
    action: str,
    *,
    subjects: Sequence[str] = (),
    category: str = "operation",
    **detail: object,
) -> None:
    audit.append(
        uow,
        ctx.actor,
        audit.AuditEvent(
            category=category,
            action=action,
            function=FUNCTIONS.entry(key),
            subjects=list(subjects),
            detail=dict(detail),
        ),
    )
