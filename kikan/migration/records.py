"""The legacy record: the items a legacy 住民記録 export carries per person, and how one record
(item → text, already decoded) becomes a validated `BulkMember` for the residents bulk API.

Both the importer and `kikan synth` go through `to_member`, so a synthetic city enters the
register by exactly the rules an imported one does. Rejections are `RowReject`s with a stable
rule code and a Japanese reason; nothing here touches the database.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from kikan.calendar import DateError, default_era_table, parse_date
from kikan.platform.ids import (
    DEFAULT_ATENA_WIDTH as ATENA_WIDTH,
)
from kikan.platform.ids import (
    IdentifierError,
    normalise_digits,
    validate_atena_number,
)
from kikan.residents.bulk import (
    Address,
    BulkMember,
    ForeignResident,
    Honseki,
    OtherAddress,
    PersonInput,
    RegisterError,
    register_date,
    validate_member,
)

#: Every item a mapping file may name, with its Japanese label (used in reject reasons).
ITEMS: dict[str, str] = {
    "household_key": "旧世帯番号",
    "atena_number": "宛名番号",
    "household_number": "世帯番号",
    "full_name": "氏名",
    "full_name_kana": "氏名フリガナ",
    "zokugara": "続柄",
    "family_name": "氏",
    "given_name": "名",
    "family_name_kana": "氏フリガナ",
    "given_name_kana": "名フリガナ",
    "sex": "性別",
    "birth_date": "生年月日",
    "resident_kind": "住民種別",
    "juminhyo_code": "住民票コード",
    "my_number": "個人番号",
    "postal_code": "郵便番号",
    "city_code": "市区町村コード",
    "town_code": "町字コード",
    "prefecture": "都道府県",
    "city": "市区郡町村名",
    "town": "町字",
    "banchi": "番地",
    "katagaki": "方書",
    "became_resident_date": "住民となった年月日",
    "address_set_date": "住所を定めた年月日",
    "prior_prefecture": "転入前住所（都道府県）",
    "prior_city": "転入前住所（市区町村）",
    "prior_town": "転入前住所（町字以下）",
    "previous_town": "転居前住所（町字）",
    "previous_banchi": "転居前住所（番地）",
    "honseki_prefecture": "本籍（都道府県）",
    "honseki_city": "本籍（市区町村）",
    "honseki_chiban": "本籍（地番）",
    "hittousha_family": "筆頭者の氏",
    "hittousha_given": "筆頭者の名",
    "nationality": "国籍・地域",
    "article_30_45": "第30条の45に規定する区分",
    "status_of_residence": "在留資格",
    "period_of_stay": "在留期間",
    "expiry_date": "在留期間の満了の日",
    "card_number": "在留カード等の番号",
    "roman_name": "氏名（ローマ字）",
    "support_start": "支援措置開始年月日",
    "support_end": "支援措置終了年月日",
}
REQUIRED = ("household_key", "zokugara", "family_name", "sex", "birth_date")
#: Combined items and the two items each one is split into (on a full- or half-width space).
COMBINED = {
    "full_name": ("family_name", "given_name"),
    "full_name_kana": ("family_name_kana", "given_name_kana"),
}
KANA_ITEMS = ("family_name_kana", "given_name_kana")
#: Rules whose rows go to a worklist for a person's decision (not plain rejects): the row is
#: not imported, but the fix is a 同定 or a name split, not a correction of the legacy data.
WORKLIST_RULES = frozenset({"gaiji.unmapped", "gaiji.not_mj", "name.split"})
#: Items with a closed code list; a mapping's [codes.ITEM] table translates vendor codes first.
CODE_ITEMS = {"sex": ("1", "2", "9", "0"), "resident_kind": ("1", "2")}
NAME_ITEMS = (
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "hittousha_family",
    "hittousha_given",
)

_ERA_CODE = re.compile(r"^([0-9])([0-9]{2})([0-9]{2})([0-9]{2})$")


@dataclass(frozen=True)
class RowReject(Exception):
    """Why one input row cannot be imported: stable `rule`, Japanese `reason`, the item."""

    rule: str
    reason: str
    item: str = ""
    detail: dict[str, Any] | None = None

    def __str__(self) -> str:
        return self.reason


def legacy_date_text(value: str) -> tuple[str, bool]:
    """Era-coded 不詳 dates as legacy systems write them (`3100000` = 昭和10年, month and day
    unknown; `3100400` = 昭和10年4月, day unknown) become the register's 不詳 text; every other
    form passes through for `kikan.calendar` to parse. Returns (text, converted)."""
    m = _ERA_CODE.match(value)
    if not m or (m.group(3) != "00" and m.group(4) != "00"):
        return value, False
    try:
        era = default_era_table().by_code(int(m.group(1))).name
    except DateError:
        return value, False
    year = int(m.group(2))
    if m.group(3) == "00":
        return f"{era}{year}年月日不詳", True
    return f"{era}{year}年{int(m.group(3))}月日不詳", True


class Cleansing:
    """Counts of the cleansing rules applied to rows that were imported or rejected."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def hit(self, rule: str, n: int = 1) -> None:
        self.counts[rule] += n


#: Labels of cleansing rules (applied fixes, not rejections) for the report.
CLEANSING_LABELS = {
    "gaiji.mapped": "外字を外字表でMJ文字に変換",
    "date.unknown_form": "不詳日（00月00日）を不詳の表記に変換",
    "code.translated": "旧システムのコードを標準のコードに変換",
    "name.combined": "氏名・氏名フリガナを氏と名に分割",
    "kana.normalised": "フリガナ等を全角カタカナに変換（元の表記は保存）",
}


def _date(rec: dict[str, str], item: str, clean: Cleansing) -> str:
    text, converted = legacy_date_text(rec.get(item, ""))
    if converted:
        clean.hit("date.unknown_form")
    return text


def _real_date(rec: dict[str, str], item: str) -> date | None:
    text = rec.get(item, "")
    if not text:
        return None
    try:
        return parse_date(text, item=ITEMS[item])
    except DateError as exc:
        raise RowReject(exc.code, f"{ITEMS[item]}: {exc.message}", ITEMS[item]) from None


@lru_cache(maxsize=100_000)
def _register_date(text: str, item: str, today: date) -> str:
    """`domain.register_date`, memoised: pure, and a city repeats the same dates many times.
    Errors are not cached (an exception leaves no entry)."""
    return register_date(text, ITEMS[item], today=today)


def to_member(
    rec: dict[str, str], *, ref: int, today: date, clean: Cleansing
) -> tuple[BulkMember, Address]:
    """Validate one decoded record into a member and its address, or raise `RowReject`.

    The value objects check lengths and characters (ADR 0010): a row that breaks them is
    rejected and reported like any other bad row, never ending the import."""
    try:
        return _to_member(rec, ref=ref, today=today, clean=clean)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][-1]) if first["loc"] else ""
        item = ITEMS.get(field, field)
        own = str(first["type"]).startswith("kikan_")
        message = first["msg"] if own else "形式が正しくありません。"
        raise RowReject("invalid", f"{item}: {message}", item) from None


def _to_member(  # noqa: PLR0912 - one check per item of the legacy record
    rec: dict[str, str], *, ref: int, today: date, clean: Cleansing
) -> tuple[BulkMember, Address]:
    for item in REQUIRED:
        if not rec.get(item):
            raise RowReject("required", f"{ITEMS[item]}が空欄です。", ITEMS[item])
    for item, allowed in CODE_ITEMS.items():
        value = rec.get(item, "")
        if value and value not in allowed:
            raise RowReject(
                "code.unknown",
                f"{ITEMS[item]}のコード「{value}」は対応表にありません。",
                ITEMS[item],
            )
    kind = rec.get("resident_kind") or "1"
    foreign = None
    if kind == "2":
        foreign = ForeignResident(
            nationality=rec.get("nationality", ""),
            article_30_45=rec.get("article_30_45", ""),
            status_of_residence=rec.get("status_of_residence", ""),
            period_of_stay=rec.get("period_of_stay", ""),
            expiry_date=(d.isoformat() if (d := _real_date(rec, "expiry_date")) else ""),
            card_number=rec.get("card_number", ""),
        )
    honseki = None
    if kind == "1" and rec.get("honseki_prefecture"):
        honseki = Honseki(
            prefecture=rec.get("honseki_prefecture", ""),
            city=rec.get("honseki_city", ""),
            chiban=rec.get("honseki_chiban", ""),
            head_family_name=rec.get("hittousha_family", ""),
            head_given_name=rec.get("hittousha_given", ""),
        )
    try:
        person = PersonInput(
            family_name=rec["family_name"],
            given_name=rec.get("given_name", ""),
            family_name_kana=rec.get("family_name_kana", ""),
            given_name_kana=rec.get("given_name_kana", ""),
            roman_name=rec.get("roman_name", ""),
            sex=rec["sex"],  # checked against CODE_ITEMS above
            birth_date=_date(rec, "birth_date", clean),
            zokugara=rec["zokugara"],
            resident_kind=kind,
            honseki=honseki,
            foreign=foreign,
            juminhyo_code=rec.get("juminhyo_code", ""),
        )
        checked, my_number = validate_member(person, rec.get("my_number", ""), today=today)
        became = _date(rec, "became_resident_date", clean)
        moved = _date(rec, "address_set_date", clean)
        became = _register_date(became, "became_resident_date", today) if became else ""
        moved = _register_date(moved, "address_set_date", today) if moved else became
    except RegisterError as exc:
        raise RowReject(exc.code, exc.message, exc.item or "") from None
    except ValueError as exc:
        if isinstance(exc, ValidationError):
            raise  # `to_member` names the item without the value
        raise RowReject("invalid", f"項目の形式が正しくありません（{exc}）。") from None
    support = None
    start, end = _real_date(rec, "support_start"), _real_date(rec, "support_end")
    if start and end:
        if end < start:
            raise RowReject(
                "support.order", "支援措置終了年月日が開始年月日より前です。", "支援措置終了年月日"
            )
        support = (start, end)
    address = Address(
        city_code=rec.get("city_code", ""),
        town_code=rec.get("town_code", ""),
        prefecture=rec.get("prefecture", ""),
        city=rec.get("city", ""),
        town=rec.get("town", ""),
        banchi=rec.get("banchi", ""),
        katagaki=rec.get("katagaki", ""),
        postal_code=rec.get("postal_code", ""),
    )
    prior = None
    if rec.get("prior_city"):
        prior = OtherAddress(
            address=Address(
                prefecture=rec.get("prior_prefecture", ""),
                city=rec.get("prior_city", ""),
                town=rec.get("prior_town", ""),
            )
        )
    previous = None
    if rec.get("previous_town"):
        previous = OtherAddress(
            address=address.model_copy(
                update={
                    "town": rec.get("previous_town", ""),
                    "banchi": rec.get("previous_banchi", ""),
                    "katagaki": "",
                    "town_code": "",
                }
            )
        )
    member = BulkMember(
        person=checked,
        ref=ref,
        my_number=my_number,
        became_resident_date=became,
        address_set_date=moved,
        prior_address=prior,
        previous_address=previous,
        support_measure=support,
    )
    return member, address


# ---------------------------------------------------------------- names and numbers

_SEPARATOR = re.compile(r"[ \u3000]+")
_HALFWIDTH_KANA = re.compile(r"[\uff61-\uff9f]+")
_HIRAGANA = re.compile(r"[\u3041-\u3096\u309d\u309e]")


def split_name(text: str, item: str) -> tuple[str, str]:
    """Split a combined 氏名 on its one full- or half-width space run.

    Never guesses: no separator, more than one, or an empty part sends the row to the worklist
    (rule `name.split`), because where 氏 ends is a fact about the person, not about the text.
    `text` still carries its leading spaces (an empty 氏) but not the record's padding."""
    label = ITEMS[item]
    stripped = text.strip(" \u3000")
    if not stripped:
        return "", ""
    if text[:1] in (" ", "\u3000"):
        raise RowReject(
            "name.split",
            f"{label}が空白で始まっています（氏にあたる部分が空です）。氏と名を確認してください。",
            label,
        )
    parts = _SEPARATOR.split(stripped)
    if len(parts) == 1:
        raise RowReject(
            "name.split",
            f"{label}に氏と名の区切り（空白）がありません。氏と名を確認してください。",
            label,
        )
    if len(parts) > 2:
        raise RowReject(
            "name.split",
            f"{label}に区切りの空白が{len(parts) - 1}か所あり、氏と名の境目を決められません。"
            "氏と名を確認してください。",
            label,
        )
    return parts[0], parts[1]


def _katakana(match: re.Match[str]) -> str:
    return chr(ord(match.group(0)) + 0x60)


def full_width_katakana(text: str) -> str:
    """フリガナ as the standard wants it: half-width katakana (ｶﾞ composed to ガ) and hiragana
    become full-width katakana; everything else is left as it is."""
    if text.isascii():
        return text
    text = _HALFWIDTH_KANA.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), text)
    return _HIRAGANA.sub(_katakana, text)


def needs_widening(text: str, *, kana: bool = False) -> bool:
    """Does `full_width_katakana` (kana=True) or `full_width_kana_text` change `text`?"""
    if text.isascii():
        return False
    return bool(_HALFWIDTH_KANA.search(text) or (kana and _HIRAGANA.search(text)))


def full_width_kana_text(text: str) -> str:
    """Other text items: only half-width katakana are widened (hiragana is ordinary text)."""
    if text.isascii():
        return text
    return _HALFWIDTH_KANA.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), text)


#: Kikan's gap-free sequences count in a 32-bit integer: a kept number's serial must fit, so
#: that the sequence can continue after it.
MAX_KEPT_SERIAL = 2**31 - 1


def legacy_number(value: str, item: str, *, keep: bool, check: bool = True) -> str:
    """A legacy 宛名番号 / 世帯番号 read from the file.

    `keep`: it becomes the person's (household's) number in Kikan, so it must be valid in the
    tenant's numbering: up to 15 digits, left-padded with zeros to 15 (zeros do not change an
    M11 weighted sum, so a legacy number with a correct check digit keeps it), check digit
    verified, never all zeros. Otherwise it is only a reference for the cross-reference table;
    its check digit is still verified unless the mapping says the legacy system had none."""
    label = ITEMS[item]
    kind = "世帯番号" if item == "household_number" else "宛名番号"
    try:
        digits = normalise_digits(value, item=kind, code_prefix=item)
    except IdentifierError as exc:
        raise RowReject(f"{item}.format", f"{label}: {exc.message}", label) from None
    if not digits.strip("0"):
        raise RowReject(f"{item}.zero", f"{label}がすべて0です（未設定の番号です）。", label)
    if keep:
        if len(digits) > ATENA_WIDTH:
            raise RowReject(
                f"{item}.length",
                f"{label}が{len(digits)}桁で、{ATENA_WIDTH}桁を超えるため引き継げません。",
                label,
            )
        digits = digits.zfill(ATENA_WIDTH)
        if int(digits[:-1]) > MAX_KEPT_SERIAL:
            raise RowReject(
                f"{item}.too_large",
                f"{label}が大きすぎて引き継げません（連番は{MAX_KEPT_SERIAL:,}まで）。"
                "対応表で番号の振り直し（renumber）を選んでください。",
                label,
            )
    if check or keep:
        try:
            validate_atena_number(digits, kind, width=len(digits))
        except IdentifierError as exc:
            rule = exc.code.rpartition(".")[2]
            reason = (
                f"{label}の検査数字が正しくありません（旧システムの番号）。"
                if rule == "check_digit"
                else f"{label}: {exc.message}"
            )
            raise RowReject(f"{item}.{rule}", reason, label) from None
    return digits
