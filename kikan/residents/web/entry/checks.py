"""Where a problem lands on the screen: per-person domain checks before the dry run, and the mapping
from a domain item name (e.g. 生年月日) to the form field that shows it."""

from __future__ import annotations

from pydantic import ValidationError

from kikan.platform.context import Context
from kikan.residents.domain import (
    RegisterError,
    validate_person,
)
from kikan.residents.web.entry.kinds import (
    ADDRESS_FIELDS,
    CORRECT_FIELDS,
    MEMBER_FIELDS,
    PLAIN_FIELDS,
    Kind,
)
from kikan.residents.web.entry.values import Values, form_person


def field_for(item: str | None, kind: Kind) -> str | None:  # noqa: PLR0911, PLR0912 - a lookup
    """The form field a domain item name points at (exact label match), if any."""
    if not item:
        return None
    allowed = {d for d, _ in kind.dates} | part_fields(kind)
    for name, label in PLAIN_FIELDS.items():
        if label == item and name in allowed:
            return name
    if "correct" in kind.parts:
        for name, label in CORRECT_FIELDS.items():
            if label == item:
                return f"c_{name}"
        if item in ("住所", "町字", "番地"):
            return "addr_town" if item != "番地" else "addr_banchi"
    for name, label in kind.dates:
        if label.startswith(item):
            return name
    if item in ("住所", "町字", "番地") and "address" in kind.parts:
        return "addr_town" if item != "番地" else "addr_banchi"
    if item.startswith(("転入前住所",)) and "prior" in kind.parts:
        return "prior_country_code" if "国名" in item else "prior_prefecture"
    if item.startswith("転出先住所") and "dest" in kind.parts:
        return "dest_country_code" if "国名" in item else "dest_prefecture"
    if "members" in kind.parts:
        for name, label in MEMBER_FIELDS.items():
            if label == item:
                return f"m0_{name}"
    return None


def part_fields(kind: Kind) -> set[str]:
    out = set()
    if "household" in kind.parts:
        out.add("household")
    if "target" in kind.parts:
        out.add("target_household")
    if "join" in kind.parts:
        out.add("join_household")
    if "pick" in kind.parts:
        out.add("atena")
    if kind.on_person:
        out.add("person")
    if "note" in kind.parts:
        out.add("note")
    if kind.reasons:
        out.add("reason")
    return out


def check_values(kind: Kind, v: Values, ctx: Context) -> tuple[dict[str, str], str]:
    """Per-person problems (domain rules) and pydantic shape problems, by field."""
    errors: dict[str, str] = {}
    if "members" in kind.parts:
        for i in range(v.members if kind.multi else 1):
            try:
                validate_person(form_person(v, i), today=ctx.today)
            except RegisterError as exc:
                name = next((n for n, lab in MEMBER_FIELDS.items() if lab == exc.item), None)
                errors[f"m{i}_{name}" if name else f"m{i}_family_name"] = exc.message
            except ValidationError as exc:
                first = exc.errors()[0]
                # the input model's own errors (kikan.platform.types) say what is wrong in
                # Japanese without echoing the value; pydantic's own are in English
                own = str(first["type"]).startswith("kikan_")
                errors[f"m{i}_{first['loc'][0]}"] = (
                    first["msg"] if own else "入力内容が正しくありません。"
                )
    return errors, ""


def labels(kind: Kind, v: Values) -> dict[str, str]:
    """Field name → what the error summary calls it (e.g. 異動者 2 の生年月日)."""
    out = dict(PLAIN_FIELDS)
    out.update(dict(kind.dates))
    for i in range(v.members):
        for name, label in MEMBER_FIELDS.items():
            out[f"m{i}_{name}"] = f"異動者 {i + 1} の{label}" if kind.multi else label
    for name, label in CORRECT_FIELDS.items():
        out[f"c_{name}"] = label
    for prefix, legend in (("addr", "新しい住所"), ("prior", "転入前住所"), ("dest", "転出先住所")):
        for name, label in {**ADDRESS_FIELDS, "country_code": "国名コード"}.items():
            out[f"{prefix}_{name}"] = f"{legend}（{label}）"
    return out
