"""Shared pieces of the operator CLI: every module's `kikan …` verbs answer failures the same way.

Scripts outside the project depend on the exit codes (see `kikan.cli`): 2 = bad input or state,
3 = database unreachable. One decorator keeps them, and the Japanese messages, identical across
the modules' command groups instead of each group writing its own copy.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console
from sqlalchemy.exc import OperationalError

from kikan.errors import DomainError
from kikan.platform import audit, tenancy
from kikan.platform.crypto import CryptoConfigError
from kikan.platform.errors import KikanError, as_problem
from kikan.platform.settings import get_settings
from kikan.platform.uow import Database, Scope

F = TypeVar("F", bound=Callable[..., Any])

out = Console()
err = Console(stderr=True)
CLI_TERMINAL = "cli"
DB_UNREACHABLE = (
    "データベースに接続できません。KIKAN_DATABASE_URL とデータベースの稼働状況を確認してください。"
)


def cli_actor() -> audit.Actor:
    """The operator at the terminal, as the access log records them (the login user)."""
    user = os.environ.get("SUDO_USER") or os.environ.get("USER") or "unknown"
    return audit.Actor(kind="operator", id=f"cli:{user}", terminal=CLI_TERMINAL)


def open_db() -> Database:
    return Database(get_settings().effective_database_url)


def check_tenant(db: Database, code: str) -> str:
    """The checked 団体コード of a registered tenant (a Japanese problem otherwise)."""
    checked = tenancy.check_code(code)
    with db.unit_of_work(Scope.host()) as uow:
        tenancy.get_tenant(uow, checked)
    return checked


def cli_errors(*input_errors: type[Exception]) -> Callable[[F], F]:
    """Turn expected failures into a Japanese message and an exit code, never a traceback.

    `input_errors` are a module's own exceptions that mean bad input (exit 2), printed as they
    are; `KikanError`, every domain error and key-configuration errors always are."""
    bad_input: tuple[type[Exception], ...] = (CryptoConfigError, *input_errors)

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except (KikanError, DomainError) as exc:
                err.print(f"[red]エラー:[/] {as_problem(exc).detail}")
                raise typer.Exit(2) from None
            except bad_input as exc:
                err.print(f"[red]エラー:[/] {exc}")
                raise typer.Exit(2) from None
            except OperationalError:
                err.print(f"[red]エラー:[/] {DB_UNREACHABLE}")
                raise typer.Exit(3) from None

        return wrapper  # type: ignore[return-value]

    return decorate
