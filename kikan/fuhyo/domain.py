"""Pure rules of 戸籍の附票: no database, no framework, no HTTP.

A 附票 belongs to one 戸籍 (本籍 + 筆頭者) and lists, per person of that 戸籍, where they live:
氏名, 住所, 住所を定めた年月日, 生年月日, 男女の別, 住民票コード and the 在外選挙人 note
(DOMAIN.md §10). Everything here is a function of its arguments, so the API, the linkage
reaction, the intake of notices and the 写し apply the same rules.
"""

from __future__ import annotations

import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from kikan.calendar import DateError, RegisterDate
from kikan.errors import ConflictError, DomainError, Kind
from kikan.platform.ids import validate_juminhyo_code

DATA = Path(__file__).parent / "data"

# ---------------------------------------------------------------- record types and sources

#: 附票 (current), 除附票 (every person removed / the 戸籍 closed), 改製原附票 (replaced by 改製)
FUHYO, JO_FUHYO, KAISEI_GEN = "附票", "除附票", "改製原附票"
RECORD_TYPES = (FUHYO, JO_FUHYO, KAISEI_GEN)

#: where an entry row came from
SOURCE_LINKAGE = "linkage"  # this city's resident register, through 庁内データ連携
SOURCE_NOTICE = "notice"  # 附票記載事項通知 of another municipality
SOURCE_STAFF = "staff"  # 職権 by staff (記載・修正・消除)

#: 住民状態 codes of the residents feed (kikan/standard/data/layouts/residents.toml)
JAPANESE = "1"
STATUS_RESIDENT, STATUS_LEAVING = "10", "11"

SEX_LABELS = {"1": "男", "2": "女"}

#: the scope a linkage client needs to send 附票記載事項通知 (the descriptor's `linkage_scopes`)
NOTICE_SCOPE = "fuhyo.notice"
LINKAGE_SCOPES = {NOTICE_SCOPE: "戸籍の附票：附票記載事項通知の送信（他市区町村の住所地から）"}

#: entry items a 写し may show (key → label): the omission rules name these keys
COPY_ITEMS = {
    "name": "氏名",
    "address": "住所",
    "address_set_date": "住所を定めた年月日",
    "birth_date": "生年月日",
    "sex": "男女の別",
    "juminhyo_code": "住民票コード",
    "zaigai_note": "在外選挙人",
}


class FuhyoRuleError(DomainError, ValueError):
    """A refused input (422); `code` stable, `message` Japanese, `item` the offending field."""

    kind = Kind.INVALID


class NoticeOutdated(ConflictError):
    """A notice dated before the entry it would change: refused, nothing written (409)."""


# ---------------------------------------------------------------- values


def clean(text: str | None) -> str:
    """Text as stored: NFC, trimmed (the exact characters are kept; no 縮退)."""
    return unicodedata.normalize("NFC", text or "").strip()


def key_text(text: str | None) -> str:
    """A matching key: width-folded (NFKC), without spaces of either width."""
    folded = unicodedata.normalize("NFKC", text or "")
    return "".join(folded.split())


@dataclass(frozen=True)
class Honseki:
    """本籍 and 筆頭者: what identifies a 戸籍, hence its 附票."""

    prefecture: str
    city: str
    town: str
    chiban: str
    head_family_name: str
    head_given_name: str

    @property
    def key(self) -> str:
        """One text for an exact, width-insensitive match of 本籍 + 筆頭者."""
        parts = (self.prefecture, self.city, self.town, self.chiban)
        head = (self.head_family_name, self.head_given_name)
        return "|".join(key_text(p) for p in (*parts, *head))

    @property
    def place(self) -> str:
        return f"{self.prefecture}{self.city}{self.town}{self.chiban}"

    @property
    def head(self) -> str:
        return f"{self.head_family_name}　{self.head_given_name}".strip("　")


def honseki_of(values: Mapping[str, str]) -> Honseki | None:
    """The 本籍 of a feed record (items `honseki_*`), None when it has none (外国人住民)."""
    h = Honseki(
        prefecture=clean(values.get("honseki_prefecture")),
        city=clean(values.get("honseki_city")),
        town=clean(values.get("honseki_town")),
        chiban=clean(values.get("honseki_chiban")),
        head_family_name=clean(values.get("honseki_head_family_name")),
        head_given_name=clean(values.get("honseki_head_given_name")),
    )
    return h if h.city else None


def is_own_honseki(honseki: Honseki | None, own: Sequence[tuple[str, str]]) -> bool:
    """Whether the 本籍 is in this municipality: (都道府県, 市区町村名) among `own` (the tenant's
    own name and any configured others, e.g. a pre-合併 name still written in 戸籍)."""
    if honseki is None:
        return False
    city = key_text(honseki.city)
    pref = key_text(honseki.prefecture)
    for own_pref, own_city in own:
        if key_text(own_city) == city and (not own_pref or not pref or key_text(own_pref) == pref):
            return True
    return False


@dataclass(frozen=True)
class Address:
    prefecture: str = ""
    city: str = ""
    town: str = ""
    banchi: str = ""
    katagaki: str = ""

    @property
    def text(self) -> str:
        base = f"{self.prefecture}{self.city}{self.town}{self.banchi}"
        return f"{base}　{self.katagaki}" if self.katagaki else base


def address_of(values: Mapping[str, str]) -> Address:
    return Address(
        *(clean(values.get(k)) for k in ("prefecture", "city", "town", "banchi", "katagaki"))
    )


@dataclass(frozen=True)
class EntryFacts:
    """What one entry says about one person at one time (a full snapshot, ADR 0003's way)."""

    family_name: str
    given_name: str
    family_name_kana: str = ""
    given_name_kana: str = ""
    birth_date: str = ""  # storage form of RegisterDate (不詳 allowed)
    sex: str = ""
    juminhyo_code: str = ""
    address: Address = Address()
    address_set_date: str = ""  # storage form
    zaigai_note: str = ""

    @property
    def name(self) -> str:
        return f"{self.family_name}　{self.given_name}".strip("　")


def facts_of_feed(values: Mapping[str, str], zaigai_note: str = "") -> EntryFacts:
    """An entry's facts from a residents feed record (the 在外選挙人 note is the 附票's own)."""
    return EntryFacts(
        family_name=clean(values.get("family_name")),
        given_name=clean(values.get("given_name")),
        family_name_kana=clean(values.get("family_name_kana")),
        given_name_kana=clean(values.get("given_name_kana")),
        birth_date=clean(values.get("birth_date")),
        sex=clean(values.get("sex")),
        juminhyo_code=clean(values.get("juminhyo_code")),
        address=address_of(values),
        address_set_date=clean(values.get("address_set_date")),
        zaigai_note=zaigai_note,
    )


def changed_items(old: EntryFacts, new: EntryFacts) -> list[str]:
    """The items that differ (for the history's reason and to skip no-op deliveries)."""
    names = (
        ("name", old.name != new.name),
        (
            "kana",
            (old.family_name_kana, old.given_name_kana)
            != (new.family_name_kana, new.given_name_kana),
        ),
        ("address", old.address != new.address),
        ("address_set_date", old.address_set_date != new.address_set_date),
        ("birth_date", old.birth_date != new.birth_date),
        ("sex", old.sex != new.sex),
        ("juminhyo_code", old.juminhyo_code != new.juminhyo_code),
        ("zaigai_note", old.zaigai_note != new.zaigai_note),
    )
    return [n for n, differs in names if differs]


# ---------------------------------------------------------------- dates


def storage_date(text: str | None, item: str, label: str, *, required: bool = False) -> str:
    """A date as the 附票 stores it (RegisterDate storage form; 不詳 allowed). Accepts
    YYYY-MM-DD, the storage form (R6-04-01) or display text (令和6年4月1日)."""
    value = clean(text)
    if not value:
        if required:
            raise FuhyoRuleError("fuhyo.date_missing", f"{label}を入力してください。", item)
        return ""
    try:
        return RegisterDate.from_date(date.fromisoformat(value)).to_storage()
    except ValueError:
        pass
    try:
        return RegisterDate.from_storage(value).to_storage()
    except DateError:
        pass
    try:
        return RegisterDate.parse(value).to_storage()
    except DateError as exc:
        raise FuhyoRuleError(
            "fuhyo.date_invalid", f"{label}の形式が正しくありません。", item
        ) from exc


def sort_day(stored: str) -> date | None:
    """The sortable day of a stored date (None for 年月日不詳 or empty)."""
    if not stored:
        return None
    try:
        value = RegisterDate.from_storage(stored)
    except DateError:
        return None
    return None if value.is_unknown else value.internal_date


def display_date(stored: str) -> str:
    if not stored:
        return ""
    try:
        return RegisterDate.from_storage(stored).display()
    except DateError:
        return stored


def check_not_older(new_set_date: str, current_set_date: str) -> None:
    """A notice may not move an entry back in time: its 住所を定めた年月日 must not be before the
    one recorded (equal is allowed: a repeated notice or a correction of the same move)."""
    new, current = sort_day(new_set_date), sort_day(current_set_date)
    if new is not None and current is not None and new < current:
        raise NoticeOutdated(
            "fuhyo-notice-outdated",
            f"通知の住所を定めた年月日（{display_date(new_set_date)}）が、附票に記載されている"
            f"年月日（{display_date(current_set_date)}）より前のため、反映できません。",
            "address_set_date",
        )


def check_sex(code: str) -> str:
    if code and code not in SEX_LABELS:
        raise FuhyoRuleError("fuhyo.sex_invalid", "男女の別は 1（男）か 2（女）です。", "sex")
    return code


def check_juminhyo_code(code: str) -> str:
    """Eleven digits whose last one is the check digit: the platform's identifier rule
    (`validate_juminhyo_code`, a Japanese problem naming the item); empty stays empty."""
    return validate_juminhyo_code(code) if code.strip() else ""


def check_reason(reason: str) -> str:
    text = clean(reason)
    if not text:
        raise FuhyoRuleError("fuhyo.reason_missing", "理由を入力してください。", "reason")
    if len(text) > 200:
        raise FuhyoRuleError("fuhyo.reason_too_long", "理由は200文字以内です。", "reason")
    return text


# ---------------------------------------------------------------- the 写し


@dataclass(frozen=True)
class OmissionRule:
    items: tuple[str, ...]
    since: date
    source: str
    confidence: str


@dataclass(frozen=True)
class CopyRules:
    version: str
    rules: tuple[OmissionRule, ...]

    def omitted(self, removed_on: date | None) -> set[str]:
        """Items left out for an entry removed on `removed_on` (None: still on the 附票)."""
        if removed_on is None:
            return set()
        return {item for r in self.rules if removed_on < r.since for item in r.items}


@cache
def copy_rules(path: Path = DATA / "copy_rules.toml") -> CopyRules:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    rules = tuple(
        OmissionRule(
            items=tuple(r["items"]),
            since=r["since"],
            source=str(r["source"]),
            confidence=str(r.get("confidence", "")),
        )
        for r in data["rule"]
    )
    for rule in rules:
        unknown = set(rule.items) - set(COPY_ITEMS)
        if unknown or not isinstance(rule.since, date):
            raise ValueError(f"copy rule of {path} names unknown items {unknown}")
    return CopyRules(version=str(data["version"]), rules=rules)


@dataclass(frozen=True)
class CopyOptions:
    """What the requester asked for: 本籍・筆頭者 and the 在外選挙人 entry are left out unless
    asked (DOMAIN.md §10); `entries` limits the persons (empty: all)."""

    include_honseki: bool = False
    include_zaigai: bool = False
    entries: tuple[int, ...] = ()


def copy_values(
    facts: EntryFacts,
    *,
    removed_on: date | None,
    options: CopyOptions,
    rules: CopyRules,
) -> dict[str, str]:
    """The items of one entry as printed, after the omission rules and the request."""
    omitted = rules.omitted(removed_on)
    if not options.include_zaigai:
        omitted.add("zaigai_note")
    values = {
        "name": facts.name,
        "address": facts.address.text,
        "address_set_date": display_date(facts.address_set_date),
        "birth_date": display_date(facts.birth_date),
        "sex": SEX_LABELS.get(facts.sex, ""),
        "juminhyo_code": facts.juminhyo_code,
        "zaigai_note": facts.zaigai_note,
    }
    return {k: ("" if k in omitted else v) for k, v in values.items()}
