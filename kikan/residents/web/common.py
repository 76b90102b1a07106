"""What the resident-register pages share: the service context of a page request, running a read
or a 異動 in one unit of work with refusals turned into messages, and the role sets.

Why: the pages must apply exactly the API's rules (roles, 抑止, audited denials) without
importing the API package; both call the same service.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kikan.errors import ConflictError, StaleError
from kikan.platform import audit
from kikan.platform.context import Context
from kikan.platform.functions import FunctionLabel
from kikan.platform.uow import Database, UnitOfWork
from kikan.residents import service
from kikan.residents.domain import RegisterError, SuppressedError
from kikan.residents.module import FUNCTIONS
from kikan.web import shell

#: who sees a navigation entry: the roles the catalogue gives the screen's function
WRITE_ROLES = FUNCTIONS.entry("residents.move_in").roles
READ_ROLES = FUNCTIONS.entry("residents.search").roles
IT_ROLES = FUNCTIONS.entry("residents.standard_export").roles
MAP_ROLES = FUNCTIONS.entry("residents.function_map").roles

T = TypeVar("T")


#: the use-case context of a page request (the UI shell's, shared by every module's pages)
context = shell.page_context


@dataclass
class Outcome:
    """What a page shows after running a use case: the value, or why it was refused."""

    value: Any = None
    error: str = ""
    item: str | None = None
    suppressed: bool = False
    #: the HTTP status the page answers with when refused: 409 when someone else changed the
    #: person since the screen was opened (optimistic version), else 422
    status: int = 422
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.error


def run(
    db: Database,
    user: shell.PageUser,
    ctx: Context,
    *,
    function: FunctionLabel,
    fn: Callable[[UnitOfWork, Context], T],
    commit: bool = True,
    after: Callable[[UnitOfWork, T], None] | None = None,
) -> Outcome:
    """Run `fn` in one unit of work. `commit=False` is the confirmation step's dry run: the
    whole use case runs with every rule, then rolls back. A 抑止 refusal is audited in its own
    transaction, like the API does."""
    try:
        with db.unit_of_work(user.scope) as uow:
            value = fn(uow, ctx)
            if after is not None:
                after(uow, value)
            if commit:
                uow.commit()
            return Outcome(value=value)
    except RegisterError as exc:
        return Outcome(error=exc.message, item=exc.item)
    except SuppressedError as exc:
        audit.append_now(db, user.scope, ctx.actor, service.denial_event(exc, function))
        return Outcome(error=exc.message, suppressed=True)
    except (ConflictError, StaleError) as exc:
        return Outcome(error=exc.message, item=exc.item, status=409)
