"""Pure rules and value objects of the resident register (no I/O).

A person's register entry is a *snapshot*: every item of the 住民票 in one immutable value,
including the household-common items (spec 1.2.1: 世帯ごとに共通のデータも個人ごとに保持する).
Every 異動 produces a new snapshot per affected person; the store appends it as the next
履歴番号. Items arrive as text the way counter staff and files give them and are validated here
with the shared libraries (dates via `kikan.calendar`, characters via `kikan.moji`, codes and
続柄 via `kikan.standard`), so every entry path applies the same rules.
"""

from __future__ import annotations

import calendar
import dataclasses
import re
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kikan.calendar import DateError, RegisterDate, parse_date, to_wareki
from kikan.errors import DomainError, Kind, RefusedError
from kikan.moji import MojiError, normalize_original, search_key
from kikan.moji import address_key as moji_address_key
from kikan.platform.ids import IdentifierError, validate_juminhyo_code
from kikan.platform.types import TRUSTED, Chars, ItemClass
from kikan.standard.codes import CodeError, code_table
from kikan.standard.layouts import layout as standard_layout
from kikan.standard.zokugara import ZokugaraError, parse_zokugara


class RegisterError(DomainError, ValueError):
    """A register rule was broken: `code`, `item`, `message` (Japanese); a 422 problem naming
    the item. Picklable (a bulk-load worker raises it, the writer re-raises it)."""

    kind = Kind.INVALID


class Status(StrEnum):
    """住民状態 of a person's latest snapshot."""

    RESIDENT = "resident"  # 住民
    MOVING_OUT = "moving_out"  # 転出予定（転出届の受理後、転出予定日まで）
    MOVED_OUT = "moved_out"  # 転出（消除）
    DEAD = "dead"  # 死亡（消除）
    REMOVED = "removed"  # 職権消除等（消除）

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]

    @property
    def is_active(self) -> bool:
        """Still on the register (a 転出予定 person is a resident until the move is confirmed)."""
        return self in (Status.RESIDENT, Status.MOVING_OUT)


STATUS_LABELS = {
    Status.RESIDENT: "住民",
    Status.MOVING_OUT: "転出予定",
    Status.MOVED_OUT: "転出",
    Status.DEAD: "死亡",
    Status.REMOVED: "消除",
}


class Reason(StrEnum):
    """異動事由 (spec 1.2.2). Values are the Japanese names; the code table in
    `kikan/standard` maps them to codes for export and linkage."""

    DOMESTIC_MOVE_IN = "国内転入"
    FOREIGN_MOVE_IN = "国外転入等"
    BIRTH = "出生"
    EX_OFFICIO_ENTRY = "職権記載"
    EX_OFFICIO_ENTRY_NATURALISATION = "職権記載（帰化等）"
    EX_OFFICIO_ENTRY_NATIONALITY_LOSS = "職権記載（国籍喪失）"
    DOMESTIC_MOVE_OUT = "国内転出"
    FOREIGN_MOVE_OUT = "国外転出"
    DEATH = "死亡"
    EX_OFFICIO_REMOVAL = "職権消除"
    EX_OFFICIO_REMOVAL_NATURALISATION = "職権消除（帰化等）"
    EX_OFFICIO_REMOVAL_NATIONALITY_LOSS = "職権消除（国籍喪失）"
    MOVE_WITHIN = "転居"
    MINOR_CORRECTION = "軽微な修正"
    EX_OFFICIO_CORRECTION = "職権修正"
    CLERICAL_CORRECTION = "誤記修正"
    HOUSEHOLD_SPLIT = "世帯分離"
    HOUSEHOLD_MERGE = "世帯合併"
    HOUSEHOLD_CHANGE = "世帯変更"
    HEAD_CHANGE = "世帯主変更"
    KYUUJI_ADD = "旧氏の記載"
    KYUUJI_CHANGE = "旧氏の変更"
    KYUUJI_DELETE = "旧氏の削除"
    TSUUSHOU_ADD = "通称の記載"
    TSUUSHOU_DELETE = "通称の削除"
    MYNUMBER_CHANGE = "個人番号の変更請求"
    MYNUMBER_EX_OFFICIO = "個人番号の職権修正"
    JUMINHYO_CODE_CHANGE = "住民票コードの変更請求"
    JUMINHYO_CODE_EX_OFFICIO = "住民票コードの職権記載"
    CANCEL_ADD = "異動の取消し（増）"
    CANCEL_REMOVE = "異動の取消し（減）"
    CANCEL_MODIFY = "異動の取消し（修正）"


HEAD = "世帯主"

# ---------------------------------------------------------------- value objects


def layout_chars(group: str, code: str, cls: ItemClass = ItemClass.NAME) -> Chars:
    """A text item bounded by its length in the standard data layout (one place for lengths:
    kikan/standard/data/layouts/residents.toml) and by the repertoire of its class."""
    length = standard_layout("residents").group(group).item(code).length
    assert length is not None, f"{group}.{code} has no length in the layout"
    return Chars(length, cls)


#: Codes and numbers (団体・町字・国名・在留資格コード, 郵便番号 with or without hyphen …).
Code = Annotated[str, Chars(20)]
#: Dates the register keeps as text (和暦・西暦・不詳 forms), as long as the display column.
DateText = Annotated[str, Chars(40)]
_A = ItemClass.ADDRESS
_K = ItemClass.KANA
_L = ItemClass.LINE


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Address(_Value):
    """住所 as written on the 住民票, with the codes the standard layout needs."""

    city_code: Code = Field(default="", description="市区町村コード（6桁）")
    town_code: Code = Field(default="", description="町字コード（7桁）")
    prefecture: Annotated[str, layout_chars("address", "prefecture", _A)] = Field(
        default="", description="都道府県"
    )
    city: Annotated[str, layout_chars("address", "city", _A)] = Field(
        default="", description="市区郡町村名"
    )
    town: Annotated[str, layout_chars("address", "town", _A)] = Field(
        default="", description="町字"
    )
    banchi: Annotated[str, layout_chars("address", "banchi", _A)] = Field(
        default="", description="番地号表記"
    )
    katagaki: Annotated[str, layout_chars("address", "katagaki", _A)] = Field(
        default="", description="方書"
    )
    katagaki_kana: Annotated[str, layout_chars("address", "katagaki_kana", _K)] = Field(
        default="", description="方書フリガナ"
    )
    postal_code: Code = Field(default="", description="郵便番号")

    def text(self) -> str:
        base = f"{self.prefecture}{self.city}{self.town}{self.banchi}"
        return f"{base}　{self.katagaki}" if self.katagaki else base


class OtherAddress(_Value):
    """転入前住所 / 転居前住所 / 転出先住所: domestic, or abroad (国名コード + 国外住所)."""

    address: Address | None = None
    country_code: Code = Field(default="", description="国名コード（国外の場合）")
    foreign_address: Annotated[str, layout_chars("address", "foreign_address", _L)] = Field(
        default="", description="国外住所"
    )
    unreported: bool = Field(default=False, description="未届（未届転入の転入前住所）")

    def text(self) -> str:
        base = self.address.text() if self.address else (self.foreign_address or "国外")
        return f"{base}（未届）" if self.unreported else base


class Honseki(_Value):
    """本籍・筆頭者 (Japanese residents). `kind` may be なし or 不明 (spec 1.1.12)."""

    kind: Literal["記載", "なし", "不明"] = "記載"
    prefecture: Annotated[str, layout_chars("person", "honseki_prefecture", _A)] = Field(
        default="", description="本籍の都道府県"
    )
    city: Annotated[str, layout_chars("person", "honseki_city", _A)] = Field(
        default="", description="本籍の市区町村"
    )
    town: Annotated[str, layout_chars("person", "honseki_town", _A)] = Field(
        default="", description="本籍の町字"
    )
    chiban: Annotated[str, layout_chars("person", "honseki_chiban", _A)] = Field(
        default="", description="地番"
    )
    head_family_name: Annotated[str, layout_chars("person", "honseki_head_family_name")] = Field(
        default="", description="筆頭者の氏"
    )
    head_given_name: Annotated[str, layout_chars("person", "honseki_head_given_name")] = Field(
        default="", description="筆頭者の名"
    )

    def text(self) -> str:
        if self.kind != "記載":
            return self.kind
        return f"{self.prefecture}{self.city}{self.town}{self.chiban}"


class ForeignResident(_Value):
    """外国人住民の記載事項 (spec 1.1.2). Dates are 西暦 ISO strings."""

    nationality: Code = Field(description="国籍・地域（国名コード）")
    article_30_45: Code = Field(description="第30条の45に規定する区分")
    status_of_residence: Code = Field(default="", description="在留資格")
    period_of_stay: Annotated[str, layout_chars("person", "period_of_stay", _L)] = Field(
        default="", description="在留期間（例: 3年）"
    )
    expiry_date: DateText = Field(default="", description="在留期間の満了の日（YYYY-MM-DD）")
    card_number: Code = Field(default="", description="在留カード等の番号")
    became_foreign_resident: DateText = Field(default="", description="外国人住民となった年月日")


class Memberships(_Value):
    """Program memberships shown as 記載事項 on the certificate."""

    kokuho: bool = Field(default=False, description="国民健康保険")
    kouki: bool = Field(default=False, description="後期高齢者医療")
    kaigo: bool = Field(default=False, description="介護保険")
    nenkin: Code = Field(default="", description="国民年金の種別（1号・3号 等）")
    basic_pension_number: Code = Field(default="", description="基礎年金番号")
    jidou_teate: bool = Field(default=False, description="児童手当")


class MoveOut(_Value):
    """転出: the planned destination and date (予定), confirmed when the move completes."""

    destination: OtherAddress
    planned_date: DateText = Field(description="転出予定年月日（YYYY-MM-DD）")
    notified_date: DateText = Field(default="", description="転出届出年月日")
    confirmed: bool = False


class PersonInput(_Value):
    """What is entered for a person who newly appears on the register (転入, 出生, 職権記載)."""

    family_name: Annotated[str, layout_chars("person", "family_name")] = Field(description="氏")
    given_name: Annotated[str, layout_chars("person", "given_name")] = Field(
        default="", description="名"
    )
    family_name_kana: Annotated[str, layout_chars("person", "family_name_kana", _K)] = Field(
        default="", description="氏フリガナ"
    )
    given_name_kana: Annotated[str, layout_chars("person", "given_name_kana", _K)] = Field(
        default="", description="名フリガナ"
    )
    name_furigana: Annotated[str, layout_chars("person", "name_furigana", _K)] = Field(
        default="", description="氏名の振り仮名（戸籍に記載された振り仮名）"
    )
    kyuuji: Annotated[str, layout_chars("person", "kyuuji")] = Field(default="", description="旧氏")
    kyuuji_kana: Annotated[str, layout_chars("person", "kyuuji_kana", _K)] = Field(
        default="", description="旧氏フリガナ"
    )
    tsuushou: Annotated[str, layout_chars("person", "tsuushou")] = Field(
        default="", description="通称（外国人住民）"
    )
    tsuushou_kana: Annotated[str, layout_chars("person", "tsuushou_kana", _K)] = Field(
        default="", description="通称フリガナ"
    )
    roman_name: Annotated[str, layout_chars("person", "roman_name")] = Field(
        default="", description="氏名（外国人ローマ字）"
    )
    foreign_kanji_name: Annotated[str, layout_chars("person", "foreign_kanji_name")] = Field(
        default="", description="氏名（外国人漢字）"
    )
    sex: Literal["1", "2", "9", "0"] = Field(description="性別（1 男, 2 女, 9 その他, 0 不明）")
    birth_date: DateText = Field(description="生年月日（和暦・西暦・不詳の表記可）")
    zokugara: Annotated[str, layout_chars("person", "zokugara", _L)] = Field(
        description="世帯主との続柄（例: 世帯主, 妻, 子, 妻の子）"
    )
    resident_kind: Literal["1", "2"] = Field(
        default="1", description="住民種別（1 日本人, 2 外国人）"
    )
    honseki: Honseki | None = None
    foreign: ForeignResident | None = None
    memberships: Memberships = Memberships()
    juminhyo_code: Code = Field(default="", description="住民票コード（11桁）")
    district_code: Annotated[str, layout_chars("person", "district_code", _L)] = Field(
        default="", description="地区管理コード"
    )


class Snapshot(PersonInput):
    """One person's full register entry at one point (one 履歴番号)."""

    atena_number: str
    household_number: str
    status: Status = Status.RESIDENT
    address: Address
    became_resident_date: str = Field(default="", description="住民となった年月日（保存形式）")
    address_set_date: str = Field(default="", description="住所を定めた年月日（保存形式）")
    prior_address: OtherAddress | None = Field(default=None, description="転入前住所")
    previous_address: OtherAddress | None = Field(default=None, description="転居前住所")
    move_out: MoveOut | None = None
    removal_reason: str = Field(default="", description="消除の事由")
    removal_date: str = Field(default="", description="消除の年月日")
    my_number_token: str = Field(default="", description="個人番号（暗号化済み）")

    @property
    def full_name(self) -> str:
        return f"{self.family_name}　{self.given_name}".strip("　")

    @property
    def full_kana(self) -> str:
        return f"{self.family_name_kana}　{self.given_name_kana}".strip("　")

    @property
    def is_head(self) -> bool:
        return self.zokugara == HEAD

    def evolve(self, **changes: Any) -> Snapshot:
        """A copy with changes, validated again (pydantic's model_copy does not validate)."""
        data = self.model_dump()
        data.update(
            {k: v.model_dump() if isinstance(v, BaseModel) else v for k, v in changes.items()}
        )
        return Snapshot.model_validate(data, context=TRUSTED)


# ---------------------------------------------------------------- validation helpers


def _wrap(exc: ValueError, item: str) -> RegisterError:
    code = str(getattr(exc, "code", "invalid"))
    if isinstance(exc, DateError):
        # its message quotes the value; the register's answer names the item only
        return RegisterError(code, exc.without_value(item) + "。", item)
    if isinstance(exc, CodeError):
        return RegisterError(code, f"{item}のコードが正しくありません。", item)
    if isinstance(exc, ZokugaraError):
        return RegisterError(
            code,
            f"{item}が正しくありません。"
            "世帯主から見た続柄（例: 妻、子、妻の子）を入力してください。",
            item,
        )
    message = str(getattr(exc, "message", None) or exc)
    if item not in message:
        message = f"{item}: {message}"
    return RegisterError(code, message, item)


#: Company-form marks: a person's name never holds them (spec 2.1.2 lists entering and searching
#: （株）（有） among the functions not to implement).
COMPANY_MARKS = re.compile(r"[（(]\s*[株有合資名社財]\s*[）)]|[㈱㈲㈳㈴㈵㈶]")


@lru_cache(maxsize=65_536)
def clean_name(text: str, item: str, *, required: bool = False) -> str:
    """Memoised: pure, and a city repeats the same names many times (a bulk load of millions
    of persons calls this six times per person). Errors are not cached."""
    text = text.strip()
    if not text:
        if required:
            raise RegisterError("required", f"{item}を入力してください。", item)
        return ""
    try:
        original = normalize_original(text, item=item)
    except MojiError as exc:
        raise _wrap(exc, item) from exc
    if COMPANY_MARKS.search(original):
        raise RegisterError(
            "name.company_mark", f"{item}に（株）（有）などの記号は使えません。", item
        )
    return original


@lru_cache(maxsize=65_536)
def register_date(
    text: str, item: str, *, today: date, allow_unknown: bool = True, seireki: bool = False
) -> str:
    """Parse a date item that may be 不詳 (spec 1.1.8); refuse future dates; return storage form.

    Accepts what people type (和暦, 西暦, 不詳 forms) and the storage form itself, because a
    correction re-validates a stored snapshot. The value is kept in the calendar the register
    shows it in (spec 1.1.9): 西暦 for `seireki` items (foreign residents' birth dates), else 和暦.
    """
    try:
        value = RegisterDate.parse(text)
    except DateError as exc:
        try:
            value = RegisterDate.from_storage(text)
        except DateError:
            raise _wrap(exc, item) from exc
    value = in_calendar(value, seireki=seireki)
    if not allow_unknown and not value.is_exact:
        raise RegisterError("date.unknown_not_allowed", f"{item}に不詳の日付は使えません。", item)
    if value.internal_date > today:
        raise RegisterError("date.future", f"{item}に未来の日付は指定できません。", item)
    return value.to_storage()


def legal_date(value: date | str, item: str, *, today: date, allow_future: bool = False) -> date:
    """A real calendar date (異動日, 届出日 …). Spec 4.0.3: 異動日は処理当日以前（転出を除く）."""
    if isinstance(value, str):
        try:
            value = parse_date(value, item=item)
        except DateError as exc:
            raise _wrap(exc, item) from exc
    if not allow_future and value > today:
        raise RegisterError("date.future", f"{item}に処理日より後の日付は指定できません。", item)
    return value


KYUUJI_JAPANESE_ONLY = "旧氏は日本人住民のみ記載できます（外国人住民は通称を使用してください）。"
TSUUSHOU_FOREIGN_ONLY = "通称は外国人住民のみ記載できます（日本人住民は旧氏を使用してください）。"
RESIDENT_KIND_LABELS = {"1": "日本人住民", "2": "外国人住民"}

CARD_NUMBER = re.compile(r"^[A-Z]{2}[0-9]{8}[A-Z]{2}$")


def validate_person(p: PersonInput, *, today: date) -> PersonInput:
    """Check and normalise one person's items; raises RegisterError naming the item."""
    changes: dict[str, Any] = {
        "family_name": clean_name(p.family_name, "氏", required=True),
        "given_name": clean_name(p.given_name, "名"),
        "family_name_kana": clean_name(p.family_name_kana, "氏フリガナ"),
        "given_name_kana": clean_name(p.given_name_kana, "名フリガナ"),
        "kyuuji": clean_name(p.kyuuji, "旧氏"),
        "tsuushou": clean_name(p.tsuushou, "通称"),
        "birth_date": display_to_storage_birth(p, today=today),
    }
    try:
        changes["zokugara"] = parse_zokugara(p.zokugara).display
    except ZokugaraError as exc:
        raise _wrap(exc, "続柄") from exc
    if p.juminhyo_code:
        try:
            changes["juminhyo_code"] = validate_juminhyo_code(p.juminhyo_code)
        except IdentifierError as exc:
            raise _wrap(exc, "住民票コード") from exc
    if p.resident_kind == "2":
        if p.foreign is None:
            raise RegisterError(
                "foreign.required",
                "外国人住民の記載事項（国籍等・区分）を入力してください。",
                "国籍・地域",
            )
        if p.honseki is not None and p.honseki.kind == "記載":
            raise RegisterError("honseki.foreign", "外国人住民には本籍を記載できません。", "本籍")
        _check_foreign(p.foreign, today)
    else:
        if p.foreign is not None:
            raise RegisterError(
                "foreign.japanese", "日本人住民に外国人住民の記載事項は入力できません。", "住民種別"
            )
        if p.tsuushou:
            raise RegisterError("tsuushou.japanese", TSUUSHOU_FOREIGN_ONLY, "通称")
    if p.resident_kind == "2" and p.kyuuji:
        raise RegisterError("kyuuji.foreign", KYUUJI_JAPANESE_ONLY, "旧氏")
    return p.model_copy(update=changes)


def display_to_storage_birth(p: PersonInput, *, today: date) -> str:
    return register_date(p.birth_date, "生年月日", today=today, seireki=p.resident_kind == "2")


def in_calendar(value: RegisterDate, *, seireki: bool) -> RegisterDate:
    """The same date written in 西暦 or in 和暦 (spec 1.1.9 decides which, not the typist).

    Year-level and finer 不詳 forms convert through their sortable internal date; 年月日不詳
    and ranges (…から…までの間, whose two ends carry their own calendars) stay as written.
    """
    if value.year is None or value.until is not None:
        return value
    if seireki and value.era is not None:
        return dataclasses.replace(value, era=None, year=value.internal_date.year)
    if not seireki and value.era is None:
        w = to_wareki(value.internal_date)
        return dataclasses.replace(value, era=w.era.name, year=w.year)
    return value


def _check_foreign(f: ForeignResident, today: date) -> None:
    try:
        code_table("country").validate(f.nationality, item="国籍・地域")
        code_table("article_30_45").validate(f.article_30_45, item="第30条の45に規定する区分")
        if f.status_of_residence:
            code_table("zairyu_shikaku").validate(f.status_of_residence, item="在留資格")
    except CodeError as exc:
        raise _wrap(exc, exc.item or "コード") from exc
    if f.card_number and not CARD_NUMBER.match(f.card_number):
        raise RegisterError(
            "card_number.format",
            "在留カード等の番号は英字2桁・数字8桁・英字2桁の12桁で入力してください。",
            "在留カード等の番号",
        )
    if f.expiry_date:
        legal_date(f.expiry_date, "在留期間の満了の日", today=today, allow_future=True)


# ---------------------------------------------------------------- household rules


def check_household(members: list[Snapshot], *, allow_no_head: bool = True) -> None:
    """Exactly one 世帯主 among active members, or none (世帯主不在, spec 1.1.10)."""
    heads = [m for m in members if m.status.is_active and m.is_head]
    if len(heads) > 1:
        raise RegisterError(
            "household.two_heads", "一つの世帯に世帯主を二人以上設定することはできません。", "続柄"
        )
    if not heads and not allow_no_head:
        raise RegisterError("household.no_head", "世帯主を設定してください。", "続柄")


def search_keys(s: Snapshot) -> dict[str, str]:
    """Derived keys stored beside each snapshot for search (width/kana/variant-insensitive)."""
    kana = s.family_name_kana + s.given_name_kana
    return {
        "name_key": search_key(s.family_name + s.given_name),
        "kana_key": search_key(kana) if kana else "",
        "address_key": moji_address_key(s.address.text()) if s.address.text() else "",
    }


def name_keys(s: Snapshot) -> dict[str, str]:
    """Every name the person can be searched by, keyed by kind (spec 2.1.3: 氏名, 通称, 旧氏 and
    the foreign resident's names). Kana forms are included so one name box finds both."""
    names = {
        "name": s.family_name + s.given_name,
        "kana": s.family_name_kana + s.given_name_kana,
        "tsuushou": s.tsuushou,
        "tsuushou_k": s.tsuushou_kana,
        "kyuuji": (s.kyuuji + s.given_name) if s.kyuuji else "",
        "kyuuji_k": (s.kyuuji_kana + s.given_name_kana) if s.kyuuji_kana else "",
        "roman": s.roman_name,
        "fkanji": s.foreign_kanji_name,
    }
    return {kind: search_key(text) for kind, text in names.items() if text.strip()}


def check_reason_applies(reason: Reason, resident_kind: str) -> None:
    """Spec 1.2.2 marks some reasons 「※日本人住民のみ」/「※外国人住民のみ」
    (e.g. 職権記載（帰化等） can only create a Japanese entry). The code table carries
    that as `applies_to`, so the rule follows the data instead of a list repeated here."""
    table = code_table("idou_jiyu")
    applies = table.entry(table.by_label(reason.value)).attr("applies_to", "both")
    wanted = {"japanese": "1", "foreign": "2"}.get(str(applies))
    if wanted is not None and resident_kind != wanted:
        raise RegisterError(
            "reason.resident_kind",
            f"異動事由「{reason.value}」は{RESIDENT_KIND_LABELS[wanted]}のみに使用できます。",
            "異動事由",
        )


def clean_kyuuji(resident_kind: str, kyuuji: str, kana: str) -> tuple[str, str]:
    """旧氏 and its kana for a 旧氏の記載/変更 (spec 1.1.7): Japanese residents only,
    name required (kana optional)."""
    if resident_kind != "1":
        raise RegisterError("kyuuji.foreign", KYUUJI_JAPANESE_ONLY, "旧氏")
    return clean_name(kyuuji, "旧氏", required=True), clean_name(kana, "旧氏フリガナ")


def clean_tsuushou(resident_kind: str, tsuushou: str, kana: str) -> tuple[str, str]:
    """通称 and its kana for a 通称の記載 (spec 1.1.7): foreign residents only, name required."""
    if resident_kind != "2":
        raise RegisterError("tsuushou.japanese", TSUUSHOU_FOREIGN_ONLY, "通称")
    return clean_name(tsuushou, "通称", required=True), clean_name(kana, "通称フリガナ")


def check_other_address(other: OtherAddress | None, item: str) -> OtherAddress | None:
    """A 転入前住所 etc. as entered. An empty one means the item is blank (出生, 第30条の46・47,
    職権記載 without a known former address); a 国名コード must be in the country table."""
    if other is None:
        return None
    if other.address is None and not other.country_code and not other.foreign_address:
        return None
    if other.country_code:
        try:
            code_table("country").validate(other.country_code, item=f"{item}（国名コード）")
        except CodeError as exc:
            raise _wrap(exc, exc.item or item) from exc
    return other


def new_zokugara(zokugara: dict[str, str]) -> dict[str, str]:
    """宛名番号 → 続柄 as entered for a household change, each parsed to its display form."""
    if not zokugara:
        raise RegisterError("movers.empty", "異動者を一人以上入力してください。", "異動者")
    result = {}
    for atena, text in zokugara.items():
        try:
            result[atena] = parse_zokugara(text).display
        except ZokugaraError as exc:
            raise _wrap(exc, "続柄") from exc
    return result


def check_same_dwelling(target: Address, joining: Address) -> None:
    """世帯合併・世帯変更 change who lives together, never where (spec 4.1.4.1: 住所の変更を同時に
    行うことは実装しない). A different 方書 needs a 修正 first, so the 住基ネット and other systems
    receive the address correction before the household change, as the spec asks."""
    location = {"katagaki", "katagaki_kana", "postal_code"}
    if target.model_dump(exclude=location) != joining.model_dump(exclude=location):
        raise RegisterError(
            "household.different_address",
            "世帯合併・世帯変更は同一住所の世帯の間でのみ行えます"
            f"（{joining.text()} と {target.text()}）。住所が異なる場合は転居を処理してください。",
            "住所",
        )
    if target.katagaki != joining.katagaki:
        raise RegisterError(
            "household.different_katagaki",
            "異動者と異動先世帯の方書が異なります。先に方書の修正を行ってから処理してください。",
            "方書",
        )


# ---------------------------------------------------------------- 抑止 (spec 3.1)


class ProcessKind(StrEnum):
    """The processes a 抑止 can stop (spec 3.1: 異動入力, 証明書発行, 照会)."""

    CHANGE = "change"  # 異動
    ISSUE = "issue"  # 証明書発行
    INQUIRY = "inquiry"  # 照会

    @property
    def label(self) -> str:
        return {"change": "異動", "issue": "証明書発行", "inquiry": "照会"}[self.value]

    @property
    def suppression_label(self) -> str:
        """異動抑止・発行抑止・照会抑止, the names staff know them by."""
        return {"change": "異動抑止", "issue": "発行抑止", "inquiry": "照会抑止"}[self.value]


class SuppressionLevel(StrEnum):
    """エラー refuses the process; アラート lets it proceed with a warning to the clerk."""

    ERROR = "error"
    ALERT = "alert"

    @property
    def label(self) -> str:
        return "エラー" if self is SuppressionLevel.ERROR else "アラート"


class SuppressionTarget(StrEnum):
    """Spec 3.1: 抑止 is set per person (宛名番号) or per household (世帯番号)."""

    PERSON = "person"
    HOUSEHOLD = "household"


#: Default time until a temporarily released 抑止 is back in force (spec 3.1: 一時解除後、一定時間
#: 経過後に自動で抑止状態に戻ること。抑止状態に戻るまでの時間を設定できること).
DEFAULT_RELEASE = timedelta(minutes=30)
#: A release longer than a working day would in effect be an end without the end's linkage.
MAX_RELEASE = timedelta(hours=8)


class SuppressedError(RefusedError):
    """A 抑止 at level エラー refuses the process. Not a RegisterError: the input is fine, the
    register's policy says no, so the API answers 403 (type ``suppressed``) and audits the
    denial after the unit of work has rolled back."""

    def __init__(
        self,
        message: str,
        *,
        process: ProcessKind,
        subjects: list[str],
        suppression_ids: list[int],
    ) -> None:
        super().__init__(
            "suppressed",
            message,
            title="抑止が設定されているため処理できません。",
            process=process.value,
            suppressions=suppression_ids,
        )
        self.process = process
        self.subjects = subjects
        self.suppression_ids = suppression_ids

    def __str__(self) -> str:
        return self.message


def suppression_in_force(
    *,
    start_date: date,
    ended_on: date | None,
    released_until: datetime | None,
    now: datetime,
    today: date,
) -> bool:
    """Whether a 抑止 applies at `now`. Its own end date is deliberately ignored: spec 3.1 says
    a 抑止 does not end by itself when its end date passes, only by an explicit 終了. A
    temporary release (一時解除) suspends it until `released_until`, then it applies again
    without anyone acting."""
    if ended_on is not None or start_date > today:
        return False
    return released_until is None or released_until <= now


def check_release_duration(duration: timedelta) -> timedelta:
    if duration <= timedelta(0) or duration > MAX_RELEASE:
        raise RegisterError(
            "suppression.release_duration",
            "一時解除の時間は1分以上8時間以内で指定してください。",
            "一時解除の時間",
        )
    return duration


def suppression_target_label(kind: str, number: str) -> str:
    if kind == SuppressionTarget.HOUSEHOLD:
        return f"世帯番号 {number} の世帯"
    return f"宛名番号 {number} の住民"


# ---------------------------------------------------------------- 支援措置の期間 (spec 3.4)


class SupportEndReason(StrEnum):
    """Spec 3.4: the person's 申出 to end support, the period passed without 延長 (期間経過), or
    the mayor found support no longer needed (必要性なし)."""

    REQUEST = "申出"
    PERIOD_OVER = "期間経過"
    NOT_NEEDED = "必要性なし"


def add_months(day: date, months: int) -> date:
    """The day with the same day number `months` later (negative: earlier); the last day of the
    month when that month is shorter (as 民法143条 counts periods by months)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last))


def final_month_start(end: date) -> date:
    """First day of the last month of a period that ends on `end` (inclusive).

    Spec 3.4 allows the 延長 and shows the alert 「支援措置の期間終了日の１か月前から」. We read
    that as "during the period's last month", counted the way the one-year period itself is
    counted (開始 令和2年4月1日 → 終了 令和3年3月31日): a one-month period ending on 3月31日
    starts on 3月1日. So the window opens on (end + 1 day) − 1 month: for an end date of
    3月31日 that is 3月1日 (30 days before; 2月28日, 31 days before, is too early); for 4月30日
    it is 4月1日. When the earlier month has no such day (end 3月30日 → 2月31日) the month's
    last day is taken, which opens the window slightly earlier, in the protected person's
    favour."""
    return add_months(end + timedelta(days=1), -1)


def check_extension_allowed(end: date, today: date) -> None:
    opens = final_month_start(end)
    if today < opens:
        raise RegisterError(
            "support.extension_too_early",
            "支援措置の延長は、期間終了日"
            f"（{RegisterDate.from_date(end).display()}）の1か月前"
            f"（{RegisterDate.from_date(opens).display()}）から行えます。",
            "支援措置終了年月日",
        )


SUPPORT_KIND_LABELS = {"support": "支援措置", "provisional": "仮支援措置"}


def support_period_alert(kind: str, end: date, today: date) -> str | None:
    """The alert spec 3.4 asks for when staff look at the protected person's entry: the period
    ends within one month (the same window in which the 延長 becomes possible), or it has ended
    without being extended."""
    label = SUPPORT_KIND_LABELS.get(kind, "支援措置")
    end_text = RegisterDate.from_date(end).display()
    if today > end:
        return (
            f"{label}の期間が終了しています（終了日 {end_text}）。"
            "延長又は終了の処理を行ってください。"
        )
    if today >= final_month_start(end):
        return f"{label}の期間が1か月以内に終了します（終了日 {end_text}）。"
    return None
