"""The screen's values as posted, and their reading into the service's inputs (addresses, persons,
続柄, the 修正 items staff changed)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from kikan.calendar import RegisterDate
from kikan.platform.context import Context
from kikan.platform.uow import UnitOfWork
from kikan.residents import service
from kikan.residents.domain import (
    Address,
    OtherAddress,
    PersonInput,
    Snapshot,
)
from kikan.residents.web.entry.kinds import ADDRESS_FIELDS, CORRECT_FIELDS, MAX_MEMBERS
from kikan.web import shell

#: one 異動 as the service runs it, in the unit of work the entry flow opens
UseCase = Callable[[UnitOfWork, Context], service.ChangeResult]


@dataclass
class Values:
    """The screen's values as plain strings (what the form shows and posts back)."""

    one: dict[str, str] = field(default_factory=dict)
    picked: list[str] = field(default_factory=list)
    members: int = 1

    @classmethod
    def from_form(cls, form: FormData) -> Values:
        one = {
            k: str(v)
            for k, v in form.multi_items()
            if k not in ("atena", shell.CSRF_FIELD, "action")
            and not k.startswith("card_")
            and isinstance(v, str)
        }
        try:
            members = int(one.pop("members", "1") or "1")
        except ValueError:
            members = 1
        picked = [str(v) for v in form.getlist("atena")]
        return cls(one, picked, max(1, min(members, MAX_MEMBERS)))

    def get(self, key: str, default: str = "") -> str:
        return self.one.get(key, default).strip()


def form_address(v: Values, prefix: str) -> Address:
    return Address(
        **{k: v.get(f"{prefix}_{k}") for k in ADDRESS_FIELDS},
        city_code=v.get(f"{prefix}_city_code"),
        town_code=v.get(f"{prefix}_town_code"),
    )


def form_other_address(v: Values, prefix: str) -> OtherAddress | None:
    country = v.get(f"{prefix}_country_code")
    foreign = v.get(f"{prefix}_foreign_address")
    domestic = any(v.get(f"{prefix}_{k}") for k in ADDRESS_FIELDS)
    unreported = v.get(f"{prefix}_unreported") == "1"
    if country or foreign:
        return OtherAddress(country_code=country, foreign_address=foreign)
    if domestic:
        return OtherAddress(address=form_address(v, prefix), unreported=unreported)
    return None


def form_person(v: Values, i: int) -> PersonInput:
    p = f"m{i}_"
    return PersonInput(
        family_name=v.get(p + "family_name"),
        given_name=v.get(p + "given_name"),
        family_name_kana=v.get(p + "family_name_kana"),
        given_name_kana=v.get(p + "given_name_kana"),
        birth_date=v.get(p + "birth_date"),
        sex=v.get(p + "sex") or "9",
        zokugara=v.get(p + "zokugara"),
    )


def form_zokugara(v: Values, only: list[str] | None = None) -> dict[str, str]:
    out = {}
    for key, value in v.one.items():
        if key.startswith("z_") and value.strip():
            atena = key[2:]
            if only is None or atena in only:
                out[atena] = value.strip()
    return out


def form_version(v: Values) -> int | None:
    text = v.get("version")
    return int(text) if text.isdigit() else None


def corrections(v: Values, snap: Snapshot) -> dict[str, Any]:
    """The 修正 items whose value on the screen differs from the register's: only what staff
    changed is corrected (the screen shows every item pre-filled with its current value)."""
    current = current_values(snap)
    changes: dict[str, Any] = {
        name: v.get(f"c_{name}")
        for name in CORRECT_FIELDS
        if v.get(f"c_{name}") != current.get(f"c_{name}", "")
    }
    address = snap.address.model_copy(update={k: v.get(f"addr_{k}") for k in ADDRESS_FIELDS})
    if address != snap.address:
        changes["address"] = address
    return changes


def current_values(snap: Snapshot) -> dict[str, str]:
    """The form values of the register's current entry (生年月日 as it is displayed)."""
    out = {f"c_{name}": str(getattr(snap, name) or "") for name in CORRECT_FIELDS}
    out["c_birth_date"] = RegisterDate.from_storage(snap.birth_date).display()
    for k in ADDRESS_FIELDS:
        out[f"addr_{k}"] = getattr(snap.address, k)
    return out
