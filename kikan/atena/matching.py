"""名寄せ: does a pair of 宛名 records name the same person, and how sure is that?

Why this is strict: the national My Number mislinking affair came from linking records on partial
attribute matches. So a pair is linked *automatically* only when the 個人番号 is the same on both
sides **and** each of the four basic attributes (氏名, 生年月日, 性別, 住所) agrees; every other
plausible pair goes to a staff worklist with the evidence side by side, and a pair whose 個人番号
differ is never offered at all (two numbers are two persons). How the attributes are weighed for
the worklist is policy, not law: it lives in `data/matching.toml`, versioned, with its reasons.

What "agrees" means per attribute (each a rule of its own, tested at its edges):

* 氏名 and 読み仮名: the same text after removing spaces (``same``), or the same search key of
  `kikan.moji` — 異体字 (髙橋 = 高橋), kana size and iteration marks folded (``folded``). A folded
  name agrees: it is the same name written with a glyph variant, which is what 名寄せ is for.
* 生年月日: two exact days agree only when they are the same day (a day not on the calendar, such
  as 平成3年2月29日, is compared as written, never clamped). A 不詳日 form never *agrees*; it is
  ``compatible`` when the days it can mean overlap the other side's (頃 and 推定 widen by the
  tolerance in the data file), which is evidence for the worklist, not for an automatic link.
* 性別: 1 and 2 compare; 0 (不明) and 9 (その他) are treated as not stated.
* 住所: the address keys of `kikan.moji` (numerals, 丁目/番地 forms, 字, ヶ) are equal; one key
  being a prefix of the other (a missing 方書 or 番地) is only ``similar``.

Pure functions over plain values: the store and the service decide which pairs to compare.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

from kikan.calendar import DateError, RegisterDate
from kikan.moji.address import address_key
from kikan.moji.keys import search_key


class Agreement(StrEnum):
    """How one attribute of the two records compares (strongest first)."""

    SAME = "same"
    FOLDED = "folded"
    COMPATIBLE = "compatible"
    SIMILAR = "similar"
    MISSING = "missing"
    DIFFERENT = "different"


#: what counts as agreement for an automatic link, per attribute
_AGREES = {
    "name": {Agreement.SAME, Agreement.FOLDED},
    "birth": {Agreement.SAME},
    "sex": {Agreement.SAME},
    "address": {Agreement.SAME},
}
BASIC_ATTRIBUTES = ("name", "birth", "sex", "address")
LABELS = {
    "name": "氏名",
    "kana": "読み仮名",
    "birth": "生年月日",
    "sex": "性別",
    "address": "住所",
    "my_number": "個人番号",
}


class Verdict(StrEnum):
    AUTO_LINK = "auto_link"  # 自動名寄せ: 個人番号 and all four attributes agree
    REVIEW = "review"  # 名寄せ候補: staff decide with the evidence
    DISTINCT = "distinct"  # not offered: different persons or too little in common


@dataclass(frozen=True)
class PersonFacts:
    """The attributes 名寄せ looks at. `birth` is the register's storage form (``R5-04-??``,
    ``?`` for 年月日不詳); `my_number_index` is the blind index of the 個人番号 (never the number
    itself: matching must not need the plaintext)."""

    name: str
    kana: str = ""
    birth: str = ""
    sex: str = ""
    address: str = ""
    my_number_index: str | None = None


@dataclass(frozen=True)
class Evidence:
    attribute: str
    agreement: Agreement
    points: int

    @property
    def label(self) -> str:
        return LABELS[self.attribute]


@dataclass(frozen=True)
class Assessment:
    verdict: Verdict
    score: int
    evidence: tuple[Evidence, ...]
    reason: str

    def of(self, attribute: str) -> Agreement:
        return next(e.agreement for e in self.evidence if e.attribute == attribute)


@dataclass(frozen=True)
class MatchingRules:
    """The weights and thresholds of `data/matching.toml` (one version at a time)."""

    version: str
    source: str
    points: Mapping[str, Mapping[str, int]]
    review_threshold: int
    about_tolerance_days: int

    def points_for(self, attribute: str, agreement: Agreement) -> int:
        return self.points.get(attribute, {}).get(agreement.value, 0)


def parse_rules(data: Mapping[str, Any]) -> MatchingRules:
    points = {str(k): {str(a): int(p) for a, p in v.items()} for k, v in data["points"].items()}
    for attribute, table in points.items():
        if attribute not in LABELS:
            raise ValueError(f"matching rules: unknown attribute {attribute!r}")
        unknown = set(table) - {a.value for a in Agreement}
        if unknown:
            raise ValueError(f"matching rules: unknown agreement {sorted(unknown)} for {attribute}")
    return MatchingRules(
        version=str(data["version"]),
        source=str(data["source"]),
        points=points,
        review_threshold=int(data["review_threshold"]),
        about_tolerance_days=int(data["about_tolerance_days"]),
    )


@cache
def default_rules() -> MatchingRules:
    text = resources.files("kikan.atena").joinpath("data/matching.toml").read_text("utf-8")
    return parse_rules(tomllib.loads(text))


# ---------------------------------------------------------------- attributes


def _squeeze(text: str) -> str:
    return "".join(text.split())


def compare_name(a: str, b: str) -> Agreement:
    """氏名 or 読み仮名 (the same rule: exact, else the search key of `kikan.moji`)."""
    left, right = _squeeze(a), _squeeze(b)
    if not left or not right:
        return Agreement.MISSING
    if left == right:
        return Agreement.SAME
    if search_key(left) == search_key(right):
        return Agreement.FOLDED
    return Agreement.DIFFERENT


def _days(value: RegisterDate, tolerance: int) -> tuple[date, date] | None:
    span = value.possible_days()
    if span is None:
        return None
    lo, hi = span
    if (
        value.about
        or value.estimated
        or (value.until and (value.until.about or value.until.estimated))
    ):
        widen = timedelta(days=tolerance)
        lo = lo - widen if lo > date.min + widen else date.min
        hi = hi + widen if hi < date.max - widen else date.max
    return lo, hi


def compare_birth(a: str, b: str, *, tolerance_days: int = 0) -> Agreement:
    """生年月日 in storage form; an unreadable value is treated as not stated (the record's own
    validation reports it, 名寄せ must not crash on one bad row)."""
    try:
        left = RegisterDate.from_storage(a) if a else None
        right = RegisterDate.from_storage(b) if b else None
    except DateError:
        return Agreement.MISSING
    if left is None or right is None or left.is_unknown or right.is_unknown:
        return Agreement.MISSING
    if left.is_exact and right.is_exact:
        return (
            Agreement.SAME
            if left.to_storage() == right.to_storage()
            or (
                left.is_calendar_day and right.is_calendar_day and left.to_date() == right.to_date()
            )
            else Agreement.DIFFERENT
        )
    l_span, r_span = _days(left, tolerance_days), _days(right, tolerance_days)
    if l_span is None or r_span is None:
        return Agreement.MISSING
    overlap = l_span[0] <= r_span[1] and r_span[0] <= l_span[1]
    return Agreement.COMPATIBLE if overlap else Agreement.DIFFERENT


_STATED_SEX = {"1", "2"}


def compare_sex(a: str, b: str) -> Agreement:
    if a not in _STATED_SEX or b not in _STATED_SEX:
        return Agreement.MISSING
    return Agreement.SAME if a == b else Agreement.DIFFERENT


def compare_address(a: str, b: str) -> Agreement:
    left, right = _squeeze(a), _squeeze(b)
    if not left or not right:
        return Agreement.MISSING
    lk, rk = address_key(left), address_key(right)
    if lk == rk:
        return Agreement.SAME
    if lk.startswith(rk) or rk.startswith(lk):
        return Agreement.SIMILAR
    return Agreement.DIFFERENT


def compare_my_number(a: str | None, b: str | None) -> Agreement:
    if not a or not b:
        return Agreement.MISSING
    return Agreement.SAME if a == b else Agreement.DIFFERENT


# ---------------------------------------------------------------- the pair


def assess(a: PersonFacts, b: PersonFacts, rules: MatchingRules | None = None) -> Assessment:
    """Compare two records and say what may be done with the pair (module docstring)."""
    rules = rules or default_rules()
    agreements = {
        "name": compare_name(a.name, b.name),
        "kana": compare_name(a.kana, b.kana),
        "birth": compare_birth(a.birth, b.birth, tolerance_days=rules.about_tolerance_days),
        "sex": compare_sex(a.sex, b.sex),
        "address": compare_address(a.address, b.address),
        "my_number": compare_my_number(a.my_number_index, b.my_number_index),
    }
    evidence = tuple(
        Evidence(attr, agreement, rules.points_for(attr, agreement))
        for attr, agreement in agreements.items()
    )
    score = sum(e.points for e in evidence)
    if agreements["my_number"] is Agreement.DIFFERENT:
        return Assessment(Verdict.DISTINCT, score, evidence, "個人番号が異なります。")
    all_agree = all(agreements[attr] in _AGREES[attr] for attr in BASIC_ATTRIBUTES)
    if agreements["my_number"] is Agreement.SAME and all_agree:
        return Assessment(
            Verdict.AUTO_LINK, score, evidence, "個人番号と基本4情報がすべて一致します。"
        )
    if agreements["my_number"] is Agreement.SAME:
        differing = "・".join(
            LABELS[attr] for attr in BASIC_ATTRIBUTES if agreements[attr] not in _AGREES[attr]
        )
        return Assessment(
            Verdict.REVIEW, score, evidence, f"個人番号は一致しますが、{differing}が一致しません。"
        )
    if score >= rules.review_threshold:
        return Assessment(Verdict.REVIEW, score, evidence, "基本4情報が類似しています。")
    return Assessment(Verdict.DISTINCT, score, evidence, "一致する情報が少ないため候補としません。")
