"""Pure rules of 印鑑登録: who may register, what a seal may show, what a 宛名 change means.

No database, no framework, no HTTP: everything is a function of its arguments, so the reactions
to the resident register's changes can be tested on their own (and cannot drift between the sync
loop and the CLI). Persons are seen only as the standard-layout person rows the 庁内データ連携 API
delivers (item code → string); nothing here knows the resident register's own model.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from PIL import Image, UnidentifiedImageError

from kikan.calendar.errors import DateError
from kikan.calendar.register_date import RegisterDate
from kikan.errors import DomainError, Kind

#: 住民状態 codes of the standard person row that still are residents (住民 / 転出予定).
RESIDENT_STATUSES = frozenset({"10", "11"})
MINIMUM_AGE = 15  # 印鑑登録事務処理要領: 15歳未満の者は登録できない
MAX_IMAGE_BYTES = 512 * 1024
MIN_IMAGE_PX = 64
MAX_IMAGE_PX = 2048
IMAGE_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}
INQUIRY_DAYS = 30  # default deadline of a 照会書 (municipalities choose; often 1 month)
MAX_SEAL_TEXT = 20


class SealRuleError(DomainError, ValueError):
    """A refused request; `code` is stable, `message` Japanese, `item` the offending field: a
    422 problem."""

    kind = Kind.INVALID


class Status(StrEnum):
    PENDING = "照会中"  # 照会書 sent, 回答書 not yet back
    REGISTERED = "登録"
    LOST = "亡失"  # card reported lost: registration ends, card invalid
    ABOLISHED = "廃止"  # 廃止届
    STRUCK = "職権抹消"  # 転出・死亡等 learnt over the linkage API
    EXPIRED = "照会期限切れ"  # 回答書 did not come back in time

    @property
    def active(self) -> bool:
        return self in (Status.PENDING, Status.REGISTERED)


class Method(StrEnum):
    IMMEDIATE = "即日登録"  # identity confirmed at the counter with a photo ID
    INQUIRY = "照会回答"  # 照会書 mailed to the address, registration on the 回答書


# ---------------------------------------------------------------- persons


def norm(text: str) -> str:
    """Compare names by NFKC without spaces: the feed sends Ｎ items in full width."""
    return "".join(unicodedata.normalize("NFKC", text).split())


@dataclass(frozen=True)
class Person:
    """The part of a standard person row 印鑑登録 needs (all strings as delivered)."""

    atena_number: str
    status: str
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    kyuuji: str
    tsuushou: str
    sex: str
    birth_date: str
    address: str

    @property
    def name(self) -> str:
        return f"{self.family_name}　{self.given_name}".strip("　")

    @property
    def is_resident(self) -> bool:
        return self.status in RESIDENT_STATUSES

    @classmethod
    def from_record(cls, record: Mapping[str, str]) -> Person:
        def get(key: str) -> str:
            value = record.get(key)
            return value if isinstance(value, str) else ""

        return cls(
            atena_number=get("atena_number"),
            status=get("status"),
            family_name=get("family_name"),
            given_name=get("given_name"),
            family_name_kana=get("family_name_kana"),
            given_name_kana=get("given_name_kana"),
            kyuuji=get("kyuuji"),
            tsuushou=get("tsuushou"),
            sex=get("sex"),
            birth_date=get("birth_date"),
            address=address_of(record),
        )


#: The current 住所 items the linkage feed merges into each person record (the `address` data
#: group's row of 住所区分 1; docs/linkage.md §3).
ADDRESS_KEYS = ("prefecture", "city", "town", "banchi")


def address_of(record: Mapping[str, str]) -> str:
    """住所 as the 住民票 writes it: 都道府県・市区郡町村・町字・番地号, then 方書 after a
    full-width space (the resident register's own rendering: both certificates print one line).

    A record with a ready-made `address` item (another vendor's feed) is taken as it is."""
    if isinstance(record.get("address"), str):
        return record["address"]
    base = "".join(v for k in ADDRESS_KEYS if isinstance(v := record.get(k), str))
    katagaki = record.get("katagaki")
    return f"{base}　{katagaki}" if isinstance(katagaki, str) and katagaki else base


def age_on(birth_date: str, today: date) -> int | None:
    """Completed years on `today`; None when the stored 生年月日 is not an exact date (不詳)."""
    try:
        value = RegisterDate.from_storage(birth_date)
    except DateError:
        return None
    if not value.is_exact:
        return None
    born = value.internal_date
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def birth_display(birth_date: str) -> str:
    try:
        return RegisterDate.from_storage(birth_date).display()
    except DateError:
        return birth_date


def check_eligible(person: Person | None, today: date) -> Person:
    """印鑑登録 needs a resident (住民基本台帳に記録されている者) aged 15 or more."""
    if person is None:
        raise SealRuleError(
            "seal.not_resident", "この宛名番号の住民は記録されていません。", "atena_number"
        )
    if not person.is_resident:
        raise SealRuleError(
            "seal.not_resident",
            "住民基本台帳に記録されている住民でないため、印鑑登録できません。",
            "atena_number",
        )
    age = age_on(person.birth_date, today)
    if age is None:
        raise SealRuleError(
            "seal.age_unknown",
            "生年月日が不詳のため年齢を確認できません。窓口で確認のうえ処理してください。",
            "atena_number",
        )
    if age < MINIMUM_AGE:
        raise SealRuleError("seal.minor", "15歳未満の方は印鑑登録できません。", "atena_number")
    return person


# ---------------------------------------------------------------- the seal itself


def allowed_seal_texts(person: Person) -> set[str]:
    """What a registered seal may show: 氏名, 氏, 名, or 旧氏・通称 (alone or with 名)."""
    family, given = norm(person.family_name), norm(person.given_name)
    forms = {family, given, family + given}
    for other in (norm(person.kyuuji), norm(person.tsuushou)):
        if other:
            forms |= {other, other + given}
    return {f for f in forms if f}


def seal_matches(seal_text: str, person: Person) -> bool:
    return norm(seal_text) in allowed_seal_texts(person)


def check_seal_text(seal_text: str, person: Person) -> str:
    text = seal_text.strip()
    if not text or len(text) > MAX_SEAL_TEXT:
        raise SealRuleError("seal.text", "印影の文字を20文字以内で入力してください。", "seal_text")
    if not seal_matches(text, person):
        raise SealRuleError(
            "seal.text_mismatch",
            "印影の文字が住民票の氏名（氏・名・氏名・旧氏・通称）と一致しないため登録できません。",
            "seal_text",
        )
    return text


@dataclass(frozen=True)
class SealImage:
    data: bytes
    media_type: str
    sha256: str
    width: int
    height: int


def check_image(data: bytes) -> SealImage:
    """A registered 印影 must be a real PNG or JPEG of sensible size (Pillow decodes it fully)."""
    if not data:
        raise SealRuleError("seal.image_missing", "印影の画像を添付してください。", "image")
    if len(data) > MAX_IMAGE_BYTES:
        raise SealRuleError(
            "seal.image_too_large",
            f"印影の画像は{MAX_IMAGE_BYTES // 1024}KB以下にしてください。",
            "image",
        )
    bad = SealRuleError(
        "seal.image_invalid", "印影の画像を読み取れません（PNG または JPEG）。", "image"
    )
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format or ""
            width, height = img.size
            if fmt not in IMAGE_FORMATS or max(width, height) > MAX_IMAGE_PX:
                raise (
                    bad
                    if fmt not in IMAGE_FORMATS
                    else SealRuleError(
                        "seal.image_size",
                        f"印影の画像は{MIN_IMAGE_PX}〜{MAX_IMAGE_PX}ピクセル四方にしてください。",
                        "image",
                    )
                )
            img.load()  # decode every byte: a truncated or forged file fails here
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        if isinstance(exc, SealRuleError):
            raise
        raise bad from exc
    if min(width, height) < MIN_IMAGE_PX:
        raise SealRuleError(
            "seal.image_size",
            f"印影の画像は{MIN_IMAGE_PX}〜{MAX_IMAGE_PX}ピクセル四方にしてください。",
            "image",
        )
    return SealImage(
        data=data,
        media_type=IMAGE_FORMATS[fmt],
        sha256=hashlib.sha256(data).hexdigest(),
        width=width,
        height=height,
    )


# ---------------------------------------------------------------- 印鑑登録証番号


def luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def card_number(serial: int) -> str:
    """印鑑登録証番号: a 7-digit serial and a Luhn check digit (catches one mistyped digit)."""
    body = f"{serial:07d}"
    return body + luhn_digit(body)


def check_card_number(value: str) -> str:
    text = unicodedata.normalize("NFKC", value).strip().replace("-", "")
    if len(text) != 8 or not text.isdigit() or luhn_digit(text[:7]) != text[7]:
        raise SealRuleError(
            "seal.card_number", "印鑑登録証番号の形式が正しくありません（8桁）。", "card_number"
        )
    return text


# ---------------------------------------------------------------- reactions to 宛名 changes


class ReactionKind(StrEnum):
    NONE = "none"
    STRIKE = "strike"  # 職権抹消
    UPDATE = "update"  # 登録事項 (氏名・住所) updated
    REVIEW = "review"  # staff must look: the seal no longer matches the name


@dataclass(frozen=True)
class Reaction:
    kind: ReactionKind
    reason: str = ""


def react(registered: Person, current: Person | None, seal_text: str) -> Reaction:
    """What an active registration must do when its person's 宛名 row becomes `current`.

    `registered` holds the 登録事項 as recorded; `current` is the row now delivered (None: the
    person is no longer published at all, e.g. a cancelled 転入). Pure and state-based, so
    applying the same change twice does the same thing once (the second time nothing differs)."""
    if current is None or not current.is_resident:
        reason = {
            "20": "転出",
            "21": "死亡",
            "22": "住民票消除",
        }.get(current.status if current else "", "住民記録なし")
        return Reaction(ReactionKind.STRIKE, f"{reason}による職権抹消")
    name_changed = (norm(registered.family_name), norm(registered.given_name)) != (
        norm(current.family_name),
        norm(current.given_name),
    ) or (norm(registered.kyuuji), norm(registered.tsuushou)) != (
        norm(current.kyuuji),
        norm(current.tsuushou),
    )
    address_changed = registered.address != current.address
    other_changed = (
        registered.family_name_kana,
        registered.given_name_kana,
        registered.birth_date,
        registered.sex,
    ) != (current.family_name_kana, current.given_name_kana, current.birth_date, current.sex)
    if name_changed and not seal_matches(seal_text, current):
        return Reaction(
            ReactionKind.REVIEW,
            "氏名の変更により印影の文字が氏名と一致しなくなりました（登録の廃止・再登録の案内が必要）",
        )
    if name_changed or address_changed or other_changed:
        what = [
            label
            for label, changed in (
                ("氏名", name_changed),
                ("住所", address_changed),
                ("その他の登録事項", other_changed),
            )
            if changed
        ]
        return Reaction(ReactionKind.UPDATE, "・".join(what) + "の変更")
    return Reaction(ReactionKind.NONE)
