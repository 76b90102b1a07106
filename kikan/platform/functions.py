"""The 機能ID catalogue: every function Kikan offers, as data (ADR 0014).

Why a catalogue: a standard names each function of a 業務 by a 機能ID, and a municipality checks
conformance against that map (which screen or operation implements which 機能ID). Before it, the
機能 was free text written again in each endpoint and audit call (126 literals, 75 distinct), and
the roles allowed were constants in endpoint code. Now each module ships `functions.toml` (named
by its `ModuleDescriptor.functions`), the platform its own (`kikan/platform/data/functions.toml`),
and code names a function by its stable Kikan key (`"residents.move_in"`): the route declares it
once (`kikan.platform.deps.uses`), and the audit record stores its Japanese label, exactly the text
stored before, so existing records and their hash chain are unchanged.

Why a Kikan key and an empty `official_id`: the official 機能ID of 住民記録 (001) and 印鑑登録 (002)
are not in our reference texts; the spec sections (e.g. "(440)") are stable references until they
are. An official ID is filled in when it is known, never invented.

A file is read once per process (`table` is cached); an unknown key raises at once, which the
tests (tests/platform/test_functions_catalogue.py) turn into a failure before production sees it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

#: Who may call a function: a tenant's staff (checked against `roles`), a host operator, a
#: linkage client (its token is the credential), or nobody in particular (Kikan itself: batch
#: runs, audits written on behalf of the system, login before anyone is known).
PRINCIPALS = ("staff", "operator", "client", "system")

#: separator of a qualified label (`住民記録：転入`): the text stored before the catalogue
QUALIFIER = "："


@dataclass(frozen=True)
class Function:
    """One function of the catalogue.

    `roles` empty for a staff function means every staff member of the tenant (own password,
    the current tenant); a module's write functions name their roles in the file.
    """

    key: str
    label: str
    module: str
    gyomu_code: str | None = None
    roles: tuple[str, ...] = ()
    principal: str = "staff"
    #: section keys of the spec text ("(440)"), stable until official 機能ID are known
    spec: tuple[str, ...] = ()
    #: the standard's 機能ID, empty until known (never invented)
    official_id: str = ""
    note: str = ""

    @property
    def text(self) -> str:
        """What the access log stores."""
        return self.label

    def qualified(self, detail: str) -> Qualified:
        """The label with a detail from a code table (住民記録：転入, the 異動事由)."""
        return Qualified(self, detail)


@dataclass(frozen=True)
class Qualified:
    """A catalogue function whose audit text carries a detail taken from data (a 異動事由)."""

    function: Function
    detail: str

    @property
    def key(self) -> str:
        return self.function.key

    @property
    def text(self) -> str:
        return f"{self.function.label}{QUALIFIER}{self.detail}"


#: what an audit event names as its 機能
FunctionLabel = Function | Qualified


class UnknownFunction(KeyError):
    """A key the catalogue does not hold: a programming error, caught by the tests."""


class CatalogueError(ValueError):
    """A catalogue file that does not parse or breaks a rule (duplicate key, empty label …)."""


class Catalogue(Mapping[str, Function]):
    """Functions by key, in file order. Duplicate keys are refused."""

    def __init__(self, entries: Iterable[Function] = ()) -> None:
        self._entries: dict[str, Function] = {}
        for entry in entries:
            if entry.key in self._entries:
                raise CatalogueError(f"duplicate function key {entry.key!r}")
            self._entries[entry.key] = entry

    def __getitem__(self, key: str) -> Function:
        return self._entries[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def entry(self, key: str) -> Function:
        """The function named `key`; an unknown key raises `UnknownFunction` at once."""
        found = self._entries.get(key)
        if found is None:
            raise UnknownFunction(f"function {key!r} is not in the catalogue")
        return found

    def functions(self) -> list[Function]:
        return list(self._entries.values())

    @classmethod
    def merged(cls, *parts: Catalogue) -> Catalogue:
        """Several files as one catalogue (the composition root's); a key twice is refused."""
        return cls(entry for part in parts for entry in part.values())


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CatalogueError(f"{where}: expected a list of strings")
    return tuple(value)


def parse(
    data: Mapping[str, Any], *, module: str, gyomu_code: str | None, source: str
) -> Catalogue:
    """Build a catalogue from a parsed file; every rule a file must keep is checked here."""
    role_sets = {
        name: _strings(value, f"{source} role_sets.{name}")
        for name, value in dict(data.get("role_sets", {})).items()
    }
    entries: list[Function] = []
    for i, raw in enumerate(data.get("function", [])):
        where = f"{source} function[{i}]"
        key = raw.get("key", "")
        label = raw.get("label", "")
        if not isinstance(key, str) or not key.startswith(f"{module}."):
            raise CatalogueError(f"{where}: key {key!r} must start with {module + '.'!r}")
        if not isinstance(label, str) or not label.strip():
            raise CatalogueError(f"{where}: {key} has no label")
        roles_value = raw.get("roles", [])
        if isinstance(roles_value, str):
            if roles_value not in role_sets:
                raise CatalogueError(f"{where}: {key} names unknown role set {roles_value!r}")
            roles = role_sets[roles_value]
        else:
            roles = _strings(roles_value, f"{where} roles")
        principal = raw.get("principal", "staff")
        if principal not in PRINCIPALS:
            raise CatalogueError(f"{where}: {key} has unknown principal {principal!r}")
        unknown = set(raw) - {"key", "label", "roles", "principal", "spec", "official_id", "note"}
        if unknown:
            raise CatalogueError(f"{where}: {key} has unknown fields {sorted(unknown)}")
        entries.append(
            Function(
                key=key,
                label=label,
                module=module,
                gyomu_code=gyomu_code,
                roles=roles,
                principal=principal,
                spec=_strings(raw.get("spec", []), f"{where} spec"),
                official_id=str(raw.get("official_id", "")),
                note=str(raw.get("note", "")),
            )
        )
    return Catalogue(entries)


def file_path(package: str, path: str) -> Path:
    return Path(str(resources.files(package).joinpath(path)))


@cache
def table(package: str, path: str, module: str, gyomu_code: str | None = None) -> Catalogue:
    """One module's functions, read once per process."""
    location = file_path(package, path)
    try:
        with location.open("rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogueError(f"{location}: {exc}") from exc
    return parse(data, module=module, gyomu_code=gyomu_code, source=str(location))


PLATFORM_FILE = "data/functions.toml"


def platform_table() -> Catalogue:
    """The platform's own functions (ログイン, 職員登録, アクセスログ検証 …)."""
    return table("kikan.platform", PLATFORM_FILE, "platform")


def text(label: FunctionLabel | str) -> str:
    """The stored text of an audit event's 機能."""
    return label if isinstance(label, str) else label.text


__all__ = [
    "PRINCIPALS",
    "Catalogue",
    "CatalogueError",
    "Function",
    "FunctionLabel",
    "Qualified",
    "UnknownFunction",
    "parse",
    "platform_table",
    "table",
    "text",
]
