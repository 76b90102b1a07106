"""Pure rules of the 在外選挙人名簿 (公職選挙法 第4章の2): may this applicant be registered?

A separate register kept by this city's 選挙管理委員会 for electors living abroad. No database,
no framework: the rules are tested at their edges on their own
(tests/electoral_roll/test_overseas.py), like `domain` for the 選挙人名簿.

The figures are data (the `[[overseas]]` section of `data/rules.toml`, versioned by the day they
took effect); the voting age is the one of the roll's rules in force on the 登録日, and periods
are counted by the roll's own functions (`domain.age_reached_on`, `domain.period_end`: 民法第143条,
年齢計算ニ関スル法律), so the two registers cannot count differently.

* **Japanese national**: the applicant's declaration (staff record it; there is no register of
  nationality to read for a person living abroad).
* **Age**: 18 (the roll's `voting_age`) reached on or before the 登録日: born 2008-06-02 → 18 on
  2026-06-01 → may be registered on 6/1, not on 5/31. A 不詳 birth date counts as its latest
  possible day; 年月日不詳 is refused (the age cannot be shown).
* **在外公館申請**: 3 months or more living in the consular district, counted from the day the
  applicant began living there like the roll's 3-month rule: the period must have ended
  *before* the 登録日 (began 2026-03-01 → ends 5/31 → may be registered on 6/1, not on 5/31).
  The city is the one of the 最終住所 or, for a person who never had an address in Japan's
  registers (or left before the 附票 kept it), the 本籍: one of the two is required.
* **出国時申請**: filed with the 転出届 by a person on this city's 選挙人名簿 (a fact staff
  confirm and set); no period in the district is required, the 最終住所 is this city's.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

from kikan.calendar import DateError, RegisterDate
from kikan.electoral_roll import domain
from kikan.errors import InvalidError

#: the two ways an application reaches this city (第30条の5)
DEPARTURE, CONSULATE = "出国時申請", "在外公館申請"
ROUTES = (DEPARTURE, CONSULATE)


class OverseasRuleError(InvalidError, ValueError):
    """A refused registration or bad input (422); `code` stable, `message` Japanese naming the
    rule. A `ValueError` too, so the CLI's error handling shows it like the roll's rules."""


@dataclass(frozen=True)
class OverseasRules:
    """One version of the 在外選挙人名簿's figures (data/rules.toml `[[overseas]]`)."""

    effective_from: date
    consular_residence_months: int
    departure_application: bool
    note: str = ""


@cache
def overseas_rules() -> tuple[OverseasRules, ...]:
    """The `[[overseas]]` versions of data/rules.toml, by effective_from, read once."""
    text = resources.files("kikan.electoral_roll").joinpath("data", "rules.toml").read_text("utf-8")
    raw = tomllib.loads(text)
    return tuple(
        sorted(
            (
                OverseasRules(
                    effective_from=date.fromisoformat(str(r["effective_from"])),
                    consular_residence_months=int(r["consular_residence_months"]),
                    departure_application=bool(r["departure_application"]),
                    note=str(r.get("note", "")),
                )
                for r in raw.get("overseas", [])
            ),
            key=lambda r: r.effective_from,
        )
    )


def overseas_rules_on(day: date) -> OverseasRules:
    """The version in force on `day`, or a refusal: no rule is held for earlier days."""
    found = [r for r in overseas_rules() if r.effective_from <= day]
    if not found:
        raise OverseasRuleError(
            "no-overseas-rules",
            f"{day.isoformat()}に適用する在外選挙人名簿の登録の規則がありません。",
            "registered_on",
        )
    return found[-1]


def birth_storage(text: str) -> str:
    """The register's storage form of a birth date (不詳 allowed): storage text as it is, or any
    form staff type (和暦, 西暦, 年月日不詳); refused when it is not a date."""
    value = text.strip()
    try:
        return RegisterDate.from_storage(value).to_storage()
    except (DateError, ValueError):
        pass
    try:
        return RegisterDate.parse(value, item="birth_date").to_storage()
    except DateError:
        raise OverseasRuleError(
            "birth-date", "生年月日を日付として読み取れません。", "birth_date"
        ) from None


@dataclass(frozen=True)
class Applicant:
    """What the registration rules look at (the rest of the entry is only recorded)."""

    japanese_national: bool
    birth_date: str  # storage form
    route: str
    last_address: str
    honseki: str
    resident_since: date | None
    on_city_roll: bool


def check_registration(  # noqa: PLR0911 - one refusal per rule, in the law's order
    applicant: Applicant, registered_on: date
) -> OverseasRuleError | None:
    """None when the applicant may be registered on `registered_on`, else the refusal (a
    Japanese message naming the rule). Returned, not raised, so a caller can list them."""
    rules = overseas_rules_on(registered_on)
    roll_rules = domain.rule_book().on(registered_on)
    if applicant.route not in ROUTES:
        return OverseasRuleError(
            "route", "申請の経路は「出国時申請」か「在外公館申請」です。", "route"
        )
    if not applicant.japanese_national:
        return OverseasRuleError(
            "not-japanese",
            "日本国民であることの申告がありません（公職選挙法第9条・第30条の4）。",
            "japanese_national",
        )
    birth = domain.latest_day(applicant.birth_date)
    if birth is None:
        return OverseasRuleError(
            "birth-unknown", "生年月日が年月日不詳のため、年齢の要件を確認できません。",
            "birth_date",
        )  # fmt: skip
    reached = domain.age_reached_on(birth, roll_rules.voting_age)
    if reached > registered_on:
        return OverseasRuleError(
            "under-age",
            f"登録日（{registered_on.isoformat()}）に年齢満{roll_rules.voting_age}年に"
            f"達していません（達する日: {reached.isoformat()}。公職選挙法第9条）。",
            "birth_date",
        )
    if applicant.route == DEPARTURE:
        if not rules.departure_application:
            return OverseasRuleError(
                "departure-not-offered",
                f"{registered_on.isoformat()}の規則では出国時申請を受け付けていません。",
                "route",
            )
        if not applicant.last_address.strip():
            return OverseasRuleError(
                "last-address-missing",
                "出国時申請では最終住所（この市区町村の住所）が必要です（公職選挙法第30条の5）。",
                "last_address",
            )
        if not applicant.on_city_roll:
            return OverseasRuleError(
                "not-on-city-roll",
                "出国時申請はこの市区町村の選挙人名簿に登録されている者に限ります"
                "（公職選挙法第30条の5第1項）。",
                "on_city_roll",
            )
        return None
    if not (applicant.last_address.strip() or applicant.honseki.strip()):
        return OverseasRuleError(
            "address-missing",
            "在外公館申請では最終住所か本籍のどちらかが必要です（公職選挙法第30条の5）。",
            "last_address",
        )
    if applicant.resident_since is None:
        return OverseasRuleError(
            "residence-unknown", "領事官の管轄区域に住み始めた年月日が必要です。",
            "resident_since",
        )  # fmt: skip
    months = rules.consular_residence_months
    complete = domain.period_end(applicant.resident_since, months=months)
    if complete >= registered_on:
        return OverseasRuleError(
            "too-short",
            f"領事官の管轄区域内に引き続き{months}か月以上住所を有していません"
            f"（{applicant.resident_since.isoformat()}から。期間の満了は{complete.isoformat()}、"
            f"登録できるのはその翌日から。公職選挙法第30条の4）。",
            "resident_since",
        )
    return None
