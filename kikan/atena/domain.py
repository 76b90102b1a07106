"""Pure rules of 宛名管理: what a 住登外者 entry may hold, how it is checked, and the keys it is
found by. No database, no framework, no HTTP.

The items are data: the `jutogai` group of the standard layout `atena`
(kikan/standard/data/layouts/atena.toml: types, lengths, code lists, check digits, データ項目ID).
Input is checked against that definition and every fault is reported, not only the first, with
the 付番 API's error codes (data/fuban.toml): E0001 必須, E0002 文字種, E0003 桁数, E0004 相関.
The same checks serve the staff API, the 付番 API and the CSV import, so they cannot drift.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from kikan.calendar import DateError, RegisterDate
from kikan.errors import DomainError, Kind
from kikan.moji.address import address_key
from kikan.moji.items import ItemClass, unsafe_character
from kikan.moji.keys import search_key
from kikan.platform.crypto import MyNumber
from kikan.platform.ids import IdentifierError, validate_atena_number, validate_my_number
from kikan.standard.layouts import Group, Item, layout

LAYOUT = "atena"
GROUP = "jutogai"
#: items 宛名管理 sets itself: never accepted as input
SYSTEM_ITEMS = frozenset(
    {"atena_number", "representative", "nayose_target", "valid_to", "operator", "operated_at"}
)
ADDRESS_PARTS = ("prefecture", "city", "town", "banchi")
OPEN_START, OPEN_END = "0000-01-01", "9999-12-31"


@cache
def jutogai_group() -> Group:
    return layout(LAYOUT).group(GROUP)


def input_items() -> tuple[Item, ...]:
    return tuple(i for i in jutogai_group().items if i.code not in SYSTEM_ITEMS)


def _data(name: str) -> dict[str, Any]:
    text = resources.files("kikan.atena").joinpath("data", name).read_text(encoding="utf-8")
    return tomllib.loads(text)


@cache
def gyomu_codes() -> Mapping[str, str]:
    """業務コード → 業務名 (data/gyomu.toml)."""
    return dict(_data("gyomu.toml")["codes"])


@cache
def fuban_config() -> Mapping[str, Any]:
    return _data("fuban.toml")


def fuban_scope(gyomu_id: str) -> str:
    """The client scope a 業務 needs to number persons (`atena.fuban.<業務コード>`)."""
    return f"atena.fuban.{gyomu_id}"


QUERY_SCOPE = "atena.query"


def linkage_scopes() -> dict[str, str]:
    """The scopes 宛名管理 adds to 庁内データ連携's clients: 照会, and 付番 per 業務."""
    scopes = {QUERY_SCOPE: "宛名の照会（宛名番号・基本4情報）"}
    for code, label in gyomu_codes().items():
        scopes[fuban_scope(code)] = f"住登外者宛名番号の付番（{label}）"
    return scopes


#: what the module descriptor's `linkage_scopes` names (data: gyomu.toml)
LINKAGE_SCOPES = linkage_scopes()


# ---------------------------------------------------------------- errors


@dataclass(frozen=True)
class FieldError:
    """One fault of one item: `code` E0001–E0004, `item` the layout item code."""

    code: str
    item: str
    message: str


class AtenaInputError(DomainError):
    """The input broke one or more item rules; `errors` lists every fault found.

    The 付番 API answers these in the spec's `errors[{code, message}]` shape; elsewhere the
    platform maps it to a 422 problem naming the first fault. Values are never echoed (a
    個人番号 may be among them)."""

    kind = Kind.INVALID

    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors = tuple(errors)
        first = self.errors[0]
        super().__init__(f"atena.{first.code}", first.message, item=_label(first.item))


class AtenaRuleError(DomainError, ValueError):
    """A refused request that is not about one item's form (kind ``invalid``)."""

    kind = Kind.INVALID


def _label(code: str) -> str:
    found = jutogai_group().find(code)
    return found.name if found is not None else code


def _fault(code: str, item: str, text: str) -> FieldError:
    return FieldError(code, item, f"{_label(item)}: {text}")


# ---------------------------------------------------------------- checking one entry


@dataclass(frozen=True)
class PersonInput:
    """A checked entry: `items` (layout code → value, without 個人番号, empty items dropped),
    the 個人番号 apart (masked when printed) and the birth date in the register's storage form."""

    items: Mapping[str, str]
    my_number: MyNumber | None = field(default=None, repr=False)

    def get(self, code: str) -> str:
        return self.items.get(code, "")


def _is_half_width(ch: str) -> bool:
    return ord(ch) < 0x7F or 0xFF61 <= ord(ch) <= 0xFF9F


def _check_zenkaku(item: Item, value: str) -> FieldError | None:
    if any(_is_half_width(ch) for ch in value):
        return _fault("E0002", item.code, "半角文字（英数字・記号・半角カナ・空白）は使えません。")
    bad = unsafe_character(value, ItemClass.NAME)
    if bad is not None:
        return _fault("E0002", item.code, bad.message)
    return None


def _check_digits(item: Item, value: str) -> FieldError | None:
    if not value.isascii() or not value.isdigit():
        return _fault("E0002", item.code, "半角数字で入力してください。")
    return None


def _check_ascii(item: Item, value: str) -> FieldError | None:
    if not value.isascii() or not value.isprintable():
        return _fault("E0002", item.code, "半角英数字で入力してください。")
    return None


def _check_length(item: Item, value: str) -> FieldError | None:
    if item.length is None:
        return None
    if item.exact and len(value) != item.length:
        return _fault("E0003", item.code, f"{item.length}桁で入力してください。")
    if len(value) > item.length:
        return _fault("E0003", item.code, f"{item.length}文字以内で入力してください。")
    return None


def parse_birth(text: str) -> RegisterDate:
    """生年月日 as the register's storage form or any display form `RegisterDate.parse` reads
    (和暦, 西暦, ISO; the 不詳 forms)."""
    try:
        return RegisterDate.from_storage(text)
    except DateError:
        return RegisterDate.parse(text)


def _check_date(item: Item, value: str, today: date) -> tuple[str, FieldError | None]:
    try:
        parsed = parse_birth(value)
    except DateError:
        return value, _fault("E0002", item.code, "日付として読めません。")
    if not item.unknown_allowed and not (parsed.is_exact and parsed.is_calendar_day):
        return value, _fault("E0002", item.code, "暦にある日付を入力してください。")
    span = parsed.possible_days()
    if span is not None and span[0] > today:
        return value, _fault("E0004", item.code, "未来の日付は指定できません。")
    if item.unknown_allowed:
        return parsed.to_storage(), None
    return parsed.to_date().isoformat(), None


def _check_value(item: Item, value: str, today: date) -> tuple[str, FieldError | None]:
    """One item's value as stored, or its fault."""
    if item.type == "DATE":
        return _check_date(item, value, today)
    checker = {"Ｎ": _check_zenkaku, "9": _check_digits}.get(item.type, _check_ascii)
    fault = checker(item, value) or _check_length(item, value)
    if fault is not None:
        return value, fault
    if item.values and value not in item.values:
        allowed = "・".join(f"{k}（{v}）" for k, v in item.values.items())
        return value, _fault("E0002", item.code, f"{allowed}のいずれかを指定してください。")
    if item.check_digit == "個人番号":
        try:
            validate_my_number(value)
        except IdentifierError:
            return value, _fault("E0004", item.code, "検査数字が正しくありません。")
    elif item.check_digit in ("宛名番号",):
        try:
            validate_atena_number(value)
        except IdentifierError:
            return value, _fault("E0004", item.code, "検査数字が正しくありません。")
    return value, None


def _joined(first: str, second: str) -> str:
    return f"{first}　{second}" if first and second else first or second


def _correlations(items: dict[str, str]) -> list[FieldError]:
    faults: list[FieldError] = []
    family, given = items.get("family_name", ""), items.get("given_name", "")
    if (family or given) and items.get("name") and items["name"] != _joined(family, given):
        faults.append(_fault("E0004", "name", "氏と名をつないだものと一致しません。"))
    fk, gk = items.get("family_name_kana", ""), items.get("given_name_kana", "")
    if (fk or gk) and items.get("name_kana") and items["name_kana"] != _joined(fk, gk):
        faults.append(_fault("E0004", "name_kana", "氏カナと名カナをつないだものと一致しません。"))
    domestic = any(items.get(p) for p in ADDRESS_PARTS)
    if items.get("foreign_address") and domestic:
        faults.append(
            _fault("E0004", "foreign_address", "国内の住所と国外住所は同時に指定できません。")
        )
    if items.get("postal_code") and not domestic:
        faults.append(_fault("E0004", "postal_code", "国内の住所がないのに指定されています。"))
    if items.get("town_code") and not items.get("town"):
        faults.append(_fault("E0004", "town_code", "町字がないのに指定されています。"))
    gyomu = items.get("gyomu_id", "")
    if gyomu and gyomu not in gyomu_codes():
        faults.append(_fault("E0004", "gyomu_id", "標準の業務コードではありません。"))
    return faults


def _collect(
    raw: Mapping[str, str | None], allowed: Mapping[str, Item]
) -> tuple[dict[str, str], list[FieldError]]:
    """The non-empty values (trimmed), and a fault for every key that is not an input item."""
    faults: list[FieldError] = []
    values: dict[str, str] = {}
    for key, value in raw.items():
        if key not in allowed:
            faults.append(
                FieldError("E0004", key, f"項目「{key}」は指定できません（宛名管理が設定します）。")
            )
            continue
        text = (value or "").strip() if key == "my_number" else (value or "").strip(" 　")
        if text:
            values[key] = text
    return values, faults


def _derive_names(values: dict[str, str]) -> None:
    """氏名 and 氏名カナ from their parts when only the parts are given."""
    if not values.get("name"):
        derived = _joined(values.get("family_name", ""), values.get("given_name", ""))
        foreign = values.get("foreign_kanji_name") or values.get("roman_name", "")
        if derived or foreign:
            values["name"] = derived or foreign
    if not values.get("name_kana"):
        derived = _joined(values.get("family_name_kana", ""), values.get("given_name_kana", ""))
        if derived:
            values["name_kana"] = derived


def check_person(raw: Mapping[str, str | None], *, today: date) -> PersonInput:
    """Check one entry against the item definition; raise `AtenaInputError` with every fault."""
    allowed = {i.code: i for i in input_items()}
    values, faults = _collect(raw, allowed)
    _derive_names(values)
    for code, item in allowed.items():
        value = values.get(code, "")
        if not value:
            if item.required:
                faults.append(_fault("E0001", code, "必須項目です。"))
            continue
        stored, fault = _check_value(item, value, today)
        if fault is not None:
            faults.append(fault)
        else:
            values[code] = stored
    if not faults:
        faults.extend(_correlations(values))
    if faults:
        raise AtenaInputError(faults)
    number = values.pop("my_number", "")
    return PersonInput(items=values, my_number=MyNumber(number) if number else None)


# ---------------------------------------------------------------- keys and facts


def address_text(items: Mapping[str, str]) -> str:
    """住所 as it is written: the domestic parts then 方書, or the foreign address."""
    if items.get("foreign_address"):
        return items["foreign_address"]
    base = "".join(items.get(p, "") for p in ADDRESS_PARTS)
    katagaki = items.get("katagaki", "")
    return f"{base}　{katagaki}" if katagaki and base else base or katagaki


def _squeeze(text: str) -> str:
    return "".join(text.split())


def birth_storage(text: str) -> str:
    """A delivered or entered 生年月日 in storage form ("" when unreadable: 名寄せ must not stop
    at one bad row; the row's own checks report it)."""
    if not text:
        return ""
    try:
        return parse_birth(text).to_storage()
    except DateError:
        return ""


def birth_day(storage: str) -> str:
    """The ISO day of an exact calendar birth date ("" otherwise): the key the search uses."""
    if not storage:
        return ""
    try:
        value = RegisterDate.from_storage(storage)
    except DateError:
        return ""
    return value.to_date().isoformat() if value.is_exact and value.is_calendar_day else ""


def birth_is_exact(storage: str) -> bool:
    """Whether a stored birth date names one day (on the calendar or not)."""
    try:
        return bool(storage) and RegisterDate.from_storage(storage).is_exact
    except DateError:
        return False


@dataclass(frozen=True)
class Facts:
    """The four attributes (and 読み仮名) of one state, with their search keys."""

    name: str
    kana: str
    birth: str
    sex: str
    address: str

    @property
    def name_key(self) -> str:
        return search_key(_squeeze(self.name)) if self.name else ""

    @property
    def kana_key(self) -> str:
        return search_key(_squeeze(self.kana)) if self.kana else ""

    @property
    def birth_day(self) -> str:
        return birth_day(self.birth)

    @property
    def address_key(self) -> str:
        return address_key(_squeeze(self.address)) if self.address else ""


def facts_of_items(items: Mapping[str, str]) -> Facts:
    """A 住登外者 entry's facts."""
    return Facts(
        name=items.get("name", ""),
        kana=items.get("name_kana", ""),
        birth=birth_storage(items.get("birth_date", "")),
        sex=items.get("sex", ""),
        address=address_text(items),
    )


def _feed(record: Mapping[str, Any], key: str) -> str:
    value = record.get(key)
    return value if isinstance(value, str) else ""


#: the resident feed's items that become a 住登外者 entry's items when a resident leaves
FEED_TO_ITEMS = {
    "family_name": "family_name",
    "given_name": "given_name",
    "family_name_kana": "family_name_kana",
    "given_name_kana": "given_name_kana",
    "roman_name": "roman_name",
    "foreign_kanji_name": "foreign_kanji_name",
    "tsuushou": "tsuushou",
    "sex": "sex",
    "birth_date": "birth_date",
    "postal_code": "postal_code",
    "prefecture": "prefecture",
    "city": "city",
    "town": "town",
    "town_code": "town_code",
    "banchi": "banchi",
    "katagaki": "katagaki",
    "foreign_address": "foreign_address",
    "country_code": "country_code",
}


def items_of_resident(record: Mapping[str, Any]) -> dict[str, str]:
    """A delivered resident record as 住登外者 items (氏名 and カナ joined from their parts)."""
    items = {dst: _feed(record, src) for src, dst in FEED_TO_ITEMS.items() if _feed(record, src)}
    name = _joined(items.get("family_name", ""), items.get("given_name", ""))
    if name:
        items["name"] = name
    elif items.get("foreign_kanji_name") or items.get("roman_name"):
        items["name"] = items.get("foreign_kanji_name") or items.get("roman_name", "")
    kana = _joined(items.get("family_name_kana", ""), items.get("given_name_kana", ""))
    if kana:
        items["name_kana"] = kana
    if "birth_date" in items:
        items["birth_date"] = birth_storage(items["birth_date"]) or items["birth_date"]
    return items


#: the feed's 住民状態 codes of persons no longer residents (転出, 死亡, 職権消除 …)
LEFT_STATUSES = frozenset({"20", "21", "22"})
LEFT_REASONS = {"20": "転出", "21": "死亡", "22": "消除"}


def has_left(record: Mapping[str, Any] | None) -> bool:
    return record is not None and _feed(record, "status") in LEFT_STATUSES
