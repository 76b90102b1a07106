"""書かない窓口: pre-filling a screen from the four 券面事項 of a My Number card (氏名, 住所,
生年月日, 性別), pasted as JSON or typed."""

from __future__ import annotations

import json
import re
from typing import Any

from kikan.residents.domain import (
    RegisterError,
)
from kikan.residents.web.entry.kinds import Kind
from kikan.residents.web.entry.values import Values

CARD_SEX = {"男": "1", "女": "2"}


PREFECTURE = re.compile(r"^(東京都|北海道|(?:京都|大阪)府|.{2,3}県)")


CITY = re.compile(r"^(.+?郡.+?[町村]|.+?市.+?区|.+?[市区町村])")


def card_facts(text: str, fields: dict[str, str]) -> dict[str, str]:
    """The 券面事項 (氏名, 住所, 生年月日, 性別) as JSON ({"name", "address", "birth_date",
    "sex"} or the Japanese keys) or as separate fields. Returns the values to pre-fill; raises
    RegisterError with a Japanese message when the JSON cannot be read."""
    data: dict[str, Any] = {}
    if text.strip():
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RegisterError(
                "card.json", "券面事項の JSON を読み取れません。", "券面事項"
            ) from exc
        if not isinstance(loaded, dict):
            raise RegisterError(
                "card.json", "券面事項は JSON のオブジェクトで貼り付けてください。", "券面事項"
            )
        data = loaded
    aliases = {
        "name": ("name", "氏名"),
        "address": ("address", "住所"),
        "birth_date": ("birth_date", "birth", "生年月日"),
        "sex": ("sex", "性別"),
    }
    facts = {}
    for key, names in aliases.items():
        value = next((str(data[n]) for n in names if n in data), "") or fields.get(key, "")
        facts[key] = value.strip()
    return facts


def _split_address(text: str) -> dict[str, str]:
    rest = text.strip().replace(" ", "　")
    out = {"prefecture": "", "city": "", "town": "", "banchi": ""}
    m = PREFECTURE.match(rest)
    if m:
        out["prefecture"], rest = m.group(1), rest[m.end() :]
    m = CITY.match(rest)
    if m:
        out["city"], rest = m.group(1), rest[m.end() :]
    m = re.search(r"[0-9０-９].*$", rest)
    if m:
        out["town"], out["banchi"] = rest[: m.start()], m.group(0)
    else:
        out["town"] = rest
    return out


def apply_card(kind: Kind, v: Values, facts: dict[str, str], member: int) -> None:
    """Pre-fill from the card: the person's items, and for a 転入 the card's address as the
    転入前住所 (the card still shows the former address until the 転入 is recorded)."""
    p = f"m{member}_"
    name = facts.get("name", "").replace(" ", "　")
    if name:
        family, _, given = name.partition("　")
        v.one[p + "family_name"], v.one[p + "given_name"] = family, given.strip("　")
    if facts.get("birth_date"):
        v.one[p + "birth_date"] = facts["birth_date"]
    if facts.get("sex"):
        v.one[p + "sex"] = CARD_SEX.get(facts["sex"], facts["sex"])
    if facts.get("address") and "prior" in kind.parts:
        for k, value in _split_address(facts["address"]).items():
            v.one[f"prior_{k}"] = value
