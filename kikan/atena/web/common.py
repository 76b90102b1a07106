"""What the 宛名管理 pages share: the service context of a page request, running a use case in one
unit of work with refusals turned into messages, and the Japanese words of the codes.

Why: the pages must apply exactly the API's rules (the same use cases, the catalogue's roles,
the same access-log records) without importing the API module; both call `kikan.atena.service`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kikan.atena import domain
from kikan.atena.module import FUNCTIONS
from kikan.errors import DomainError
from kikan.platform.context import Context
from kikan.platform.errors import KikanError, as_problem
from kikan.platform.uow import Database, UnitOfWork
from kikan.web import shell

T = TypeVar("T")

#: who sees a navigation entry: the roles the catalogue gives the screen's function
JUTOGAI_ROLES = FUNCTIONS.entry("atena.jutogai_read").roles
NAYOSE_ROLES = FUNCTIONS.entry("atena.nayose_read").roles

#: 宛名区分 of a side (the store's source codes)
SOURCES = {"1": "住民", "2": "住登外者"}
#: how one attribute of a pair compares (`kikan.atena.matching.Agreement`), as staff read it
AGREEMENTS = {
    "same": "一致",
    "folded": "一致（異体字・かなの違い）",
    "compatible": "矛盾なし（不詳を含む）",
    "similar": "類似",
    "missing": "比較できない（空欄）",
    "different": "不一致",
}
VERDICTS = {"auto_link": "自動名寄せ", "review": "要確認", "distinct": "別人"}
ACTIONS = {
    "link": "名寄せ",
    "auto_link": "自動名寄せ",
    "unlink": "名寄せ解除",
    "representative": "代表宛名の変更",
}
INPUT_PROBLEM = "入力に誤りがあります。各項目の表示を確かめてください。"
ORIGINS = {"registered": "宛名管理で付番", "inherited": "住民から移行（転出・死亡等）"}


def sex_labels() -> dict[str, str]:
    """性別 codes as the item definition names them (0 不明, 1 男, 2 女)."""
    found = next((i for i in domain.input_items() if i.code == "sex"), None)
    return dict(found.values) if found is not None else {}


#: the use-case context of a page request (the UI shell's, shared by every module's pages)
context = shell.page_context


@dataclass
class Outcome:
    """What a page shows after running a use case: the value, or why it was refused.

    `errors` maps an item code to its messages (an `AtenaInputError` reports every fault, each
    shown next to its field); `error` is a refusal that is not about one field."""

    value: Any = None
    error: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    #: the HTTP status the page answers with when refused (422 input, 404, 409 stale/conflict)
    status: int = 200

    @property
    def ok(self) -> bool:
        return not self.error and not self.errors


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
    except domain.AtenaInputError as exc:
        errors: dict[str, str] = {}
        for fault in exc.errors:
            seen = errors.get(fault.item)
            errors[fault.item] = f"{seen}　{fault.message}" if seen else fault.message
        return Outcome(error=INPUT_PROBLEM, errors=errors, status=422)
    except (DomainError, KikanError) as exc:
        problem = as_problem(exc)
        return Outcome(error=problem.detail, status=problem.status)


__all__ = [
    "ACTIONS",
    "AGREEMENTS",
    "INPUT_PROBLEM",
    "JUTOGAI_ROLES",
    "NAYOSE_ROLES",
    "ORIGINS",
    "SOURCES",
    "VERDICTS",
    "Outcome",
    "context",
    "run",
    "sex_labels",
]
