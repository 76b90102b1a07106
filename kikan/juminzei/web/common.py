"""What the 個人住民税 pages share: the navigation entry and the module's own tabs, running a use
case in one unit of work with refusals turned into messages, the 年度 as staff write it, and the
Japanese words of the codes.

Why: the pages must apply exactly the API's rules (the same use cases, the catalogue's roles,
the same access-log records) without importing the API module; both call
`kikan.juminzei.service`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from kikan.calendar import to_wareki
from kikan.calendar.wareki import written
from kikan.errors import DomainError
from kikan.juminzei import domain, rules
from kikan.juminzei.module import FUNCTIONS
from kikan.platform.context import Context
from kikan.platform.errors import KikanError, as_problem
from kikan.platform.uow import Database, UnitOfWork
from kikan.web import shell
from kikan.web.shell import NavItem

T = TypeVar("T")

#: who sees the menu entry: anyone given one of the module's screens by the catalogue
MENU_ROLES = tuple(
    sorted(
        {
            role
            for key in ("juminzei.taxpayer_read", "juminzei.worklist", "juminzei.intake")
            for role in FUNCTIONS.entry(key).roles
        }
    )
)
NAV = NavItem("個人住民税", "/ui/juminzei", roles=MENU_ROLES, accesskey="z", order=40)


@dataclass(frozen=True)
class Tab:
    """One of the module's screens in its tab row (shown only to the roles that may open it)."""

    label: str
    href: str
    accesskey: str
    function: str


TABS = (
    Tab("課税の照会", "/ui/juminzei", "k", "juminzei.taxpayer_read"),
    Tab("作業一覧（未照合）", "/ui/juminzei/worklist", "w", "juminzei.worklist"),
    Tab("課税資料の取込", "/ui/juminzei/intake", "u", "juminzei.intake"),
)


def tabs(user: shell.PageUser, current: str) -> list[dict[str, Any]]:
    """The tabs this user may open, the one of `current` (a path) marked."""
    return [
        {"label": t.label, "href": t.href, "accesskey": t.accesskey, "current": t.href == current}
        for t in TABS
        if user.principal.has_role(*FUNCTIONS.entry(t.function).roles)
    ]


def can(user: shell.PageUser, key: str) -> bool:
    """Whether the catalogue gives this user the function (to offer a link or a form)."""
    return user.principal.has_role(*FUNCTIONS.entry(key).roles)


#: the use-case context of a page request (the UI shell's, shared by every module's pages)
context = shell.page_context

KIND_LABELS = domain.KIND_LABELS
MATCH_LABELS = domain.MATCH_LABELS
METHOD_LABELS = domain.METHOD_LABELS
UPLOAD_KINDS = {domain.KYUYO: KIND_LABELS[domain.KYUYO], domain.NENKIN: KIND_LABELS[domain.NENKIN]}


def nendo(fiscal_year: int) -> str:
    """令和8年度 for 2026 (the era table decides; a 年度 starts in April)."""
    w = to_wareki(date(fiscal_year, 4, 1))
    return written(w.era.name, w.year, None, None) + "度"


def default_year(ctx: Context) -> int:
    """The 年度 whose 賦課期日 (1月1日) falls in this calendar year: the one being worked on."""
    return ctx.today.year


@dataclass
class Outcome:
    """What a page shows after running a use case: the value, or why it was refused."""

    value: Any = None
    error: str = ""
    #: the HTTP status the page answers with when refused (422 input, 404, 409 conflict)
    status: int = 200

    @property
    def ok(self) -> bool:
        return not self.error


def refused(exc: DomainError | KikanError) -> Outcome:
    problem = as_problem(exc)
    return Outcome(error=problem.detail, status=problem.status)


def read_year(text: str, ctx: Context) -> Outcome:
    """The 年度 field (令和8・R8・2026; empty: this year's), or why it cannot be read."""
    if not text.strip():
        return Outcome(value=default_year(ctx))
    try:
        return Outcome(value=domain.check_fiscal_year(rules.parse_fiscal_year(text)))
    except DomainError as exc:
        return refused(exc)


def run(
    db: Database,
    user: shell.PageUser,
    ctx: Context,
    fn: Callable[[UnitOfWork, Context], T],
) -> Outcome:
    """Run `fn` in one unit of work and commit (reads too: the use cases write the access log
    in the same transaction). A refusal rolls everything back, so nothing is written."""
    try:
        with db.unit_of_work(user.scope) as uow:
            value = fn(uow, ctx)
            uow.commit()
            return Outcome(value=value)
    except (DomainError, KikanError) as exc:
        return refused(exc)


__all__ = [
    "KIND_LABELS",
    "MATCH_LABELS",
    "MENU_ROLES",
    "METHOD_LABELS",
    "NAV",
    "TABS",
    "UPLOAD_KINDS",
    "Outcome",
    "Tab",
    "can",
    "context",
    "default_year",
    "nendo",
    "read_year",
    "refused",
    "run",
    "tabs",
]
