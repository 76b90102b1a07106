"""個人住民税's rules apart from the tax calculation (kikan.juminzei.calc): reading income-record
rows against their layout (kikan/juminzei/data/intake.toml), the keys persons are matched on, the
賦課期日, and how a 年税額 is split into 期割 (kikan/juminzei/data/collection.toml).

No database, no HTTP: everything here is a function of its arguments, tested on its own.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from importlib import resources
from typing import Any

from kikan.calendar import RegisterDate
from kikan.errors import InvalidError

KYUYO, NENKIN, SHINKOKU = "kyuyo", "nenkin", "shinkoku"
KIND_LABELS: Mapping[str, str] = {
    KYUYO: "給与支払報告書",
    NENKIN: "公的年金等支払報告書",
    SHINKOKU: "申告",
}
#: how a person's income record stands against 宛名
MATCHED, JUTOGAI, UNMATCHED, FORWARDED = "matched", "jutogai", "unmatched", "forwarded"
MATCH_LABELS: Mapping[str, str] = {
    MATCHED: "賦課期日の住民と照合済み",
    JUTOGAI: "住登外者として照合済み",
    UNMATCHED: "未照合（作業一覧）",
    FORWARDED: "回送（他団体の課税）",
}
#: 徴収方法
TOKUCHO, FUCHO, NONE = "tokucho", "fucho", "none"
METHOD_LABELS: Mapping[str, str] = {TOKUCHO: "特別徴収", FUCHO: "普通徴収", NONE: "課税なし"}
#: what an assessment version is
INITIAL, CORRECTION = "当初", "更正"

#: what 個人住民税 offers other systems over linkage (the descriptor's linkage_scopes)
KIWARI_SCOPE = "juminzei.kiwari"
LINKAGE_SCOPES: Mapping[str, str] = {
    KIWARI_SCOPE: "個人住民税：期割（当初・更正の差額）の取得（収納システム）",
}
#: what 個人住民税 asks of 宛名管理 (its client's scopes besides the kit's)
ATENA_SCOPES = ("atena.query", "atena.fuban.010")

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MY_NUMBER_HEADERS = ("個人番号", "マイナンバー")


class IntakeError(InvalidError):
    """A file (not a row) that cannot be read: nothing of it is taken."""


# ---------------------------------------------------------------- the 年度 and its 賦課期日


def kijitsu(fiscal_year: int) -> date:
    """賦課期日: 1月1日 of the 年度 (地方税法 第39条・第318条)."""
    return date(fiscal_year, 1, 1)


def income_year(fiscal_year: int) -> int:
    """The calendar year whose income a 年度 taxes (the year before)."""
    return fiscal_year - 1


def check_fiscal_year(value: int) -> int:
    if not 2000 <= value <= 2100:
        raise InvalidError("juminzei.fiscal_year", f"年度 {value} は扱えません。", "fiscal_year")
    return value


# ---------------------------------------------------------------- matching keys


def normal_name(text: str) -> str:
    """氏名 as compared: NFKC, no spaces of any width (the 給与支払報告書 writes 氏 名 with or
    without a space)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


def normal_kana(text: str) -> str:
    """読み as compared: NFKC katakana (half-width folded), no spaces, small kana kept."""
    folded = unicodedata.normalize("NFKC", text or "")
    hira_to_kata = "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in folded)
    return re.sub(r"\s+", "", hira_to_kata)


def iso_birth(text: str) -> str:
    """A birth date as an ISO day when the text names exactly one day ("" otherwise): the feed's
    storage form ("S55-01-07"), ISO, or 和暦 as written ("昭和55年1月7日")."""
    text = (text or "").strip()
    if not text:
        return ""
    if _ISO_DAY.fullmatch(text):
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            return ""
    for reader in (RegisterDate.from_storage, RegisterDate.parse):
        try:
            days = reader(text).possible_days()
        except ValueError:
            continue
        if days is not None and days[0] == days[1]:
            return days[0].isoformat()
        return ""
    return ""


def match_key(name: str, birth: str) -> str:
    return f"{normal_name(name)}|{birth}"


def kana_key(kana: str, birth: str) -> str:
    return f"{normal_kana(kana)}|{birth}" if kana else ""


# ---------------------------------------------------------------- layouts and rows


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    type: str
    required: bool = False
    max: int | None = None
    choices: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Layout:
    kind: str
    title: str
    columns: tuple[Column, ...]
    version: str

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(c.header for c in self.columns)


@cache
def _layout_file() -> dict[str, Any]:
    text = resources.files("kikan.juminzei").joinpath("data/intake.toml").read_text("utf-8")
    return tomllib.loads(text)


def layout(kind: str) -> Layout:
    data = _layout_file()
    if kind not in (KYUYO, NENKIN):
        raise InvalidError(
            "juminzei.kind", f"取り込めない種類です: {kind}（kyuyo・nenkin のいずれか）", "kind"
        )
    part = data[kind]
    columns = tuple(
        Column(
            key=c["key"],
            header=c["header"],
            type=c["type"],
            required=bool(c.get("required", False)),
            max=c.get("max"),
            choices=dict(c.get("choices", {})),
        )
        for c in part["column"]
    )
    return Layout(kind=kind, title=part["title"], columns=columns, version=str(data["version"]))


def check_header(lay: Layout, header: Sequence[str]) -> dict[str, int]:
    """Column positions by key; a file missing a required column, or carrying a 個人番号 column,
    is refused whole (nothing is read)."""
    names = [h.strip().lstrip("\ufeff") for h in header]
    if any(any(m in h for m in _MY_NUMBER_HEADERS) for h in names):
        raise IntakeError(
            "juminzei.my_number_column",
            "個人番号の列を含むファイルは取り込めません（個人番号は CSV から読み込みません）。",
        )
    positions = {c.key: names.index(c.header) for c in lay.columns if c.header in names}
    missing = [c.header for c in lay.columns if c.required and c.key not in positions]
    if missing:
        raise IntakeError(
            "juminzei.missing_columns",
            f"{lay.title}の必須の列がありません: {'、'.join(missing)}",
        )
    return positions


@dataclass(frozen=True)
class ParsedRow:
    """One accepted row: the payer, the person as written, and the figures."""

    payer_key: str
    payer_name: str
    correction: bool
    person: dict[str, str]
    figures: dict[str, Any]

    @property
    def dup_key(self) -> str:
        """Two records of one payer for one person (a second without 訂正 is a duplicate)."""
        return f"{self.payer_key}|{match_key(self.person['name'], self.person['birth_date'])}"


_PERSON_KEYS = ("name", "kana", "birth_date", "address")


def _amount(raw: str, col: Column, faults: list[str]) -> int:
    text = unicodedata.normalize("NFKC", raw).replace(",", "").strip()
    if not text:
        return 0
    if not re.fullmatch(r"-?\d+", text):
        faults.append(f"{col.header}が数字ではありません（{raw[:20]}）")
        return 0
    value = int(text)
    if value < 0:
        faults.append(f"{col.header}が負の値です")
        return 0
    if col.max is not None and value > col.max:
        faults.append(f"{col.header}が上限（{col.max:,}）を超えています")
        return 0
    return value


def parse_row(lay: Layout, positions: Mapping[str, int], cells: Sequence[str]) -> ParsedRow:
    """One CSV row checked against the layout: every fault is named (Japanese) in one
    `InvalidError` whose `extra["reasons"]` lists them, or the row is returned whole."""
    faults: list[str] = []
    values: dict[str, Any] = {}
    for col in lay.columns:
        pos = positions.get(col.key)
        raw = cells[pos] if pos is not None and pos < len(cells) else ""
        raw = raw.strip()
        if col.required and not raw:
            faults.append(f"{col.header}がありません")
            continue
        if col.type == "text":
            if col.max is not None and len(raw) > col.max:
                faults.append(f"{col.header}が長すぎます（{col.max}文字まで）")
            values[col.key] = raw
        elif col.type in ("amount", "count"):
            values[col.key] = _amount(raw, col, faults)
        elif col.type == "flag":
            if raw not in ("", "0", "1"):
                faults.append(f"{col.header}は 1（有）か 0（無）で記入してください")
            values[col.key] = raw == "1"
        elif col.type == "choice":
            if raw not in col.choices:
                allowed = "・".join(f"{k}（{v}）" for k, v in col.choices.items() if k)
                faults.append(f"{col.header}の値が正しくありません（{allowed}）")
            values[col.key] = raw
        elif col.type == "date":
            day = iso_birth(raw) if raw else ""
            if raw and not day:
                faults.append(f"{col.header}が日付として読めません（{raw[:20]}）")
            values[col.key] = day
    if faults:
        raise InvalidError("juminzei.row", "　".join(faults), reasons=faults)
    person = {k: str(values.pop(k, "")) for k in _PERSON_KEYS}
    payer_key = str(values.pop("payer_key"))
    payer_name = str(values.pop("payer_name"))
    correction = values.pop("correction", "") == "1"
    _cross_check(lay, values)
    return ParsedRow(payer_key, payer_name, correction, person, values)


def _cross_check(lay: Layout, figures: Mapping[str, Any]) -> None:
    faults: list[str] = []
    if lay.kind == KYUYO:
        if figures.get("housing_loan_used", 0) > figures.get("housing_loan_possible", 0):
            faults.append("住宅借入金等特別控除の額が控除可能額を超えています")
        if figures.get("dep_elderly_cohabiting", 0) > figures.get("dep_elderly", 0):
            faults.append("同居老親等の数が老人扶養親族の数を超えています")
        if figures.get("disabled_special_cohabiting", 0) > figures.get("disabled_special", 0):
            faults.append("同居特別障害者の数が特別障害者の数を超えています")
        if figures.get("spouse_elderly") and not figures.get("spouse"):
            faults.append("控除対象配偶者（老人）があるのに控除対象配偶者が無となっています")
    if faults:
        raise InvalidError("juminzei.row", "　".join(faults), reasons=faults)


# ---------------------------------------------------------------- 期割


@dataclass(frozen=True)
class Period:
    """One 期 (普通徴収 第n期) or month (特別徴収 6月分 …) with its 納期限 and amount."""

    period: int
    label: str
    due_date: date
    amount: int


@dataclass(frozen=True)
class CollectionRules:
    """How a 年度's tax is split (data: kikan/juminzei/data/collection.toml)."""

    fiscal_year: int
    tokucho_months: tuple[int, ...]
    tokucho_unit: int
    fucho_unit: int
    default_due_dates: tuple[str, ...]
    source: str


@cache
def _collection_file() -> dict[str, Any]:
    path = "data/collection.toml"
    return tomllib.loads(resources.files("kikan.juminzei").joinpath(path).read_text("utf-8"))


def collection_rules(fiscal_year: int) -> CollectionRules:
    """The year's own section over the defaults (a year that changes the months — 令和6年度's
    定額減税 left June out — says so in the data, never in code)."""
    data = _collection_file()
    merged = {**data["default"], **data.get("years", {}).get(str(fiscal_year), {})}
    return CollectionRules(
        fiscal_year=fiscal_year,
        tokucho_months=tuple(int(m) for m in merged["tokucho_months"]),
        tokucho_unit=int(merged["tokucho_unit"]),
        fucho_unit=int(merged["fucho_unit"]),
        default_due_dates=tuple(str(d) for d in merged["fucho_due_dates"]),
        source=str(merged["source"]),
    )


def _month_day(fiscal_year: int, month: int, day: int) -> date:
    """A day of the 年度 (April–March): months 1–3 fall in the next calendar year; a day past
    the month's end is its last day."""
    year = fiscal_year + 1 if month <= 3 else fiscal_year
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return min(date(year, month, 1) + timedelta(days=day - 1), nxt - timedelta(days=1))


def fucho_due_dates(fiscal_year: int, texts: Sequence[str]) -> tuple[date, ...]:
    out = []
    for text in texts:
        month, day = (int(p) for p in text.split("-"))
        out.append(_month_day(fiscal_year, month, day))
    return tuple(out)


def check_due_dates(texts: Sequence[str]) -> tuple[str, ...]:
    """The tenant's 普通徴収 納期 ("MM-DD", in 年度 order, 1 to 12 of them)."""
    if not 1 <= len(texts) <= 12:
        raise InvalidError("juminzei.due_dates", "納期は1期から12期までで指定してください。")
    order = []
    for text in texts:
        m = re.fullmatch(r"(\d{2})-(\d{2})", text)
        if not m or not (1 <= int(m[1]) <= 12 and 1 <= int(m[2]) <= 31):
            raise InvalidError(
                "juminzei.due_dates", f"納期 {text[:10]} は MM-DD で指定してください。"
            )
        month = int(m[1])
        order.append((month + 12 if month <= 3 else month, int(m[2])))
    if order != sorted(order) or len(set(order)) != len(order):
        raise InvalidError("juminzei.due_dates", "納期は年度の順（4月〜翌3月）に並べてください。")
    return tuple(texts)


def split(total: int, parts: int, unit: int) -> list[int]:
    """`total` in `parts`: each truncated to `unit`, the remainder in the first (地方税法
    第320条・第321条の5 and the usual 条例 rule: 端数は第1期/最初の月)."""
    if parts <= 0 or total <= 0:
        return [0] * max(parts, 0)
    each = total // parts // unit * unit
    return [total - each * (parts - 1), *([each] * (parts - 1))]


def fucho_plan(total: int, due_dates: Sequence[date], unit: int) -> list[Period]:
    amounts = split(total, len(due_dates), unit)
    return [
        Period(i + 1, f"第{i + 1}期", due, amount)
        for i, (due, amount) in enumerate(zip(due_dates, amounts, strict=True))
        if amount
    ]


def tokucho_due(fiscal_year: int, month: int) -> date:
    """特別徴収: the employer pays a month's amount by the 10th of the next month (地方税法
    第321条の5第1項). The months run June to the next May, past the 年度's end in March."""
    year = fiscal_year if month >= 6 else fiscal_year + 1
    return date(year + (month == 12), month % 12 + 1, 10)


def tokucho_plan(total: int, rules: CollectionRules) -> list[Period]:
    months = rules.tokucho_months
    amounts = split(total, len(months), rules.tokucho_unit)
    return [
        Period(i + 1, f"{month}月分", tokucho_due(rules.fiscal_year, month), amount)
        for i, (month, amount) in enumerate(zip(months, amounts, strict=True))
        if amount
    ]


def plan(
    method: str, total: int, rules: CollectionRules, due_dates: Sequence[date]
) -> list[Period]:
    if method == TOKUCHO:
        return tokucho_plan(total, rules)
    if method == FUCHO:
        return fucho_plan(total, due_dates, rules.fucho_unit)
    return []


@dataclass(frozen=True)
class Difference:
    """One 期's change after a 更正 (negative: a reduction 収納 refunds or sets off)."""

    method: str
    period: int
    label: str
    due_date: date
    amount: int


#: the 期 of an amount a 更正 adds or returns when no 期 is left to carry it
EXTRA_PERIOD = 99


def correction(
    before: Mapping[tuple[str, int], Period],
    after: Sequence[tuple[str, Period]],
    new_total: int,
    *,
    on: date,
    unit: int,
    extra_due: date,
) -> list[Difference]:
    """The 期割 difference of a 更正 decided on `on`.

    `before` is what was charged per (徴収方法, 期) so far; `after` the new plan's 期 (its method
    may differ: a 退職 turns 特別徴収 into 普通徴収). 期 whose 納期限 has passed keep what was
    charged; the new 年税額 less that is spread over the new plan's 期 still to come (the first
    takes the remainder). With none left, or when the passed 期 already exceed the new total,
    the rest is one 随時 amount due `extra_due` (negative = 過誤納, refunded or set off by 収納)."""
    passed = sum(v.amount for v in before.values() if v.due_date < on)
    rest = new_total - passed
    coming_old = {k: v for k, v in before.items() if v.due_date >= on}
    coming_new = [(m, p) for m, p in after if p.due_date >= on]
    target: dict[tuple[str, int], Period] = {}
    if coming_new and rest >= 0:
        amounts = split(rest, len(coming_new), unit)
        for (method, p), amount in zip(coming_new, amounts, strict=True):
            target[(method, p.period)] = Period(p.period, p.label, p.due_date, amount)
        rest = 0
    out: list[Difference] = []
    for key in sorted(set(coming_old) | set(target), key=lambda k: (k[0], k[1])):
        old = coming_old.get(key)
        new = target.get(key)
        delta = (new.amount if new else 0) - (old.amount if old else 0)
        if delta:
            shown = new or old
            assert shown is not None
            out.append(Difference(key[0], key[1], shown.label, shown.due_date, delta))
    if rest:
        label = "随時" if rest > 0 else "過誤納（還付・充当）"
        method = after[0][0] if after else next(iter(before), (FUCHO, 0))[0]
        out.append(Difference(method, EXTRA_PERIOD, label, extra_due, rest))
    return out


def extra_due_date(on: date) -> date:
    """納期限 of a 随時 amount: the end of the month after the 更正 (a common 条例 rule)."""
    first_next = date(on.year + (on.month == 12), on.month % 12 + 1, 1)
    following = date(first_next.year + (first_next.month == 12), first_next.month % 12 + 1, 1)
    return following - timedelta(days=1)


def sum_by_period(rows: Iterable[tuple[str, Period]]) -> dict[tuple[str, int], Period]:
    """The 期割 in force per (徴収方法, 期): the first charge plus every later difference."""
    out: dict[tuple[str, int], Period] = {}
    for method, r in rows:
        prev = out.get((method, r.period))
        out[(method, r.period)] = Period(
            r.period, r.label, r.due_date, r.amount + (prev.amount if prev else 0)
        )
    return out


def notice_number(fiscal_year: int, atena_number: str) -> str:
    """通知書番号: the 年度 and the 宛名番号 (stable across 更正: the number names the taxpayer's
    notice for the year; the version says which)."""
    return f"{fiscal_year}{atena_number}"
