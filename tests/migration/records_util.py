"""A minimal valid legacy record (item → text) for tests that need one person."""

from __future__ import annotations

from kikan.platform.ids import juminhyo_code_check_digit


def person(*, family_name: str, given_name: str, juminhyo: str) -> dict[str, str]:
    """`juminhyo`: 10 or 11 digits; the check digit is (re)computed from the first ten."""
    body = juminhyo[:10]
    return {
        "household_key": "H1",
        "zokugara": "世帯主",
        "family_name": family_name,
        "given_name": given_name,
        "family_name_kana": "テスト",
        "given_name_kana": "タロウ",
        "sex": "1",
        "birth_date": "1980-01-01",
        "resident_kind": "1",
        "juminhyo_code": body + str(juminhyo_code_check_digit(body)),
        "city_code": "",
        "town": "松町一丁目",
        "banchi": "1番1号",
        "became_resident_date": "2015-04-01",
    }
