"""印鑑登録 use cases. Each takes the caller's unit of work and never commits: the endpoint, CLI
command or sync page commits once, or nothing is written.

Persons are read only from this module's 宛名 replica (`seal_persons`), which the sync fills from
the 庁内データ連携 API; the resident register itself is never read.

The use cases are grouped by what they act on: `registrations` (登録, 回答書, lookups), `changes`
(亡失, 廃止, 変更, reviews), `replica` (the 宛名 feed and its reactions) and `certificates`
(印鑑登録証明書), over `common`. Callers keep using `from kikan.seal import service` and
`service.<fn>`: this package re-exports each public use case. Every use case is
`fn(uow, ctx, command)` (ADR 0013): `ctx` a `kikan.platform.context.Context`, `command` one of
`service.commands`.
"""

from __future__ import annotations

from kikan.seal.service import commands
from kikan.seal.service.certificates import (
    REQUESTER_KINDS,
    IssuedCertificate,
    issue_certificate,
)
from kikan.seal.service.changes import (
    abolish,
    change_particulars,
    close_review,
    history,
    report_lost,
    reviews,
)
from kikan.seal.service.common import (
    FUNCTION,
    IDENTITY_DOCUMENTS,
    JST,
    SYNC_ACTOR,
    ProtectedPerson,
    audit_denial,
    current_person,
    is_protected,
    person_row,
    today_jst,
)
from kikan.seal.service.registrations import (
    Registered,
    answer,
    by_card,
    find,
    read,
    read_by_card,
    register,
)
from kikan.seal.service.replica import (
    FLAG_ITEM,
    Applied,
    apply_change,
    apply_full,
    audit_sync,
    link,
    save_link,
)

__all__ = [
    "FLAG_ITEM",
    "FUNCTION",
    "IDENTITY_DOCUMENTS",
    "JST",
    "REQUESTER_KINDS",
    "SYNC_ACTOR",
    "Applied",
    "IssuedCertificate",
    "ProtectedPerson",
    "Registered",
    "abolish",
    "answer",
    "apply_change",
    "apply_full",
    "audit_denial",
    "audit_sync",
    "by_card",
    "change_particulars",
    "close_review",
    "commands",
    "current_person",
    "find",
    "history",
    "is_protected",
    "issue_certificate",
    "link",
    "person_row",
    "read",
    "read_by_card",
    "register",
    "report_lost",
    "reviews",
    "save_link",
    "today_jst",
]
