"""The one error model of Kikan's domain code: `DomainError(code, message, item)` and its kinds.

Libraries (calendar, moji, standard), the platform's identifier checks and every module's use
cases raise a `DomainError` subclass and nothing HTTP-shaped: a service does not know whether a
clerk's screen, a REST client, the CLI or a migration batch called it. The platform maps the
error to an RFC 9457 problem in one place (`kikan.platform.errors`, ADR 0013); the web pages and
the CLI show `message` and `item`.

Why a module at the bottom of the layers: `kikan.calendar` and `kikan.moji` sit below the
platform and their errors are domain errors too, so the base must import nothing of Kikan.

Kinds and what the one mapping makes of them:

=============  ======  ================================================================
kind           status  problem type
=============  ======  ================================================================
``invalid``    422     ``invalid-input``; the body also carries ``code``
``not_found``  404     ``code`` (``not-found`` when nothing more specific)
``conflict``   409     ``code`` (``conflict``, ``seal-card-lost`` …): a business refusal
``stale``      409     ``code`` (``stale-version`` …): retry after a fresh read can succeed
``refused``    403     ``code`` (``suppressed``, ``support-measure`` …): policy says no
=============  ======  ================================================================

``code`` is a stable machine code (for kinds other than ``invalid`` it is the problem type's
slug, so it is written in kebab case), ``message`` the Japanese text staff read (``str(error)``),
``item`` the Japanese name of the input item at fault when there is one.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar


class Kind(StrEnum):
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    STALE = "stale"
    REFUSED = "refused"


class DomainError(Exception):
    """A rule of the domain refused the request.

    `title` overrides the kind's generic title of the problem; `extra` holds further members of
    the problem body (never a value the caller sent: it may be a My Number)."""

    kind: ClassVar[Kind] = Kind.INVALID
    code: str
    message: str
    item: str | None

    def __init__(
        self,
        code: str,
        message: str,
        item: str | None = None,
        *,
        title: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.item = item
        self.title = title
        self.extra = extra

    def __str__(self) -> str:
        return self.message

    def public_message(self) -> str:
        """The text a client is shown: `message`, unless it quotes the value that was sent."""
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # raised in a bulk-load worker process and re-raised in the writer: keep every field
        return (_rebuild, (type(self), self.__dict__.copy()))

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(code={self.code!r}, message={self.message!r}, item={self.item!r})"


def _rebuild(cls: type[DomainError], state: dict[str, Any]) -> DomainError:
    err = cls.__new__(cls)
    Exception.__init__(err, state.get("message", ""))
    err.__dict__.update(state)
    return err


class InvalidError(DomainError):
    """Input that breaks a rule (422)."""

    kind = Kind.INVALID


class NotFoundError(DomainError):
    """What the request names does not exist (or is not visible to the caller) (404)."""

    kind = Kind.NOT_FOUND


class ConflictError(DomainError):
    """The request conflicts with the state of what it names: a business refusal (409)."""

    kind = Kind.CONFLICT


class StaleError(DomainError):
    """Another request changed the same data first; a fresh read and a retry can succeed (409)."""

    kind = Kind.STALE


class RefusedError(DomainError):
    """The input is fine but policy refuses the process (a 抑止, a 支援措置) (403)."""

    kind = Kind.REFUSED
