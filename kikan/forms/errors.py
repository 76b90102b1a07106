"""Errors of the forms engine."""

from __future__ import annotations


class FormDataError(ValueError):
    """A registry or layout file, or a document, that the engine refuses.

    ``source`` names the file (or ``"document"``) and ``where`` the place inside it
    (``forms[2].id``, ``entries.rows[0].fields[1].w``), so a data change can be fixed from the
    message alone.
    """

    def __init__(self, source: str, where: str, problem: str) -> None:
        self.source = source
        self.where = where
        self.problem = problem
        location = f"{source}: {where}" if where else source
        super().__init__(f"{location}: {problem}")


class UnknownFormError(KeyError):
    """``render`` was asked for a 帳票ID the registry does not list."""

    def __init__(self, form_id: str, known: list[str]) -> None:
        self.form_id = form_id
        super().__init__(f"unknown 帳票ID {form_id!r}; registered: {', '.join(known)}")
