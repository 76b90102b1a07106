"""Pure rules of 選挙人名簿管理: who is on the roll as of a day, and in which 投票区.

No database, no framework, no HTTP: every function is a function of its arguments, so the rules
are tested at their edges on their own (tests/electoral_roll/test_eligibility.py) and cannot
drift between the API, the CLI and a batch.

The law's figures (選挙権年齢, 3箇月, 4箇月, the 定時登録 months) are data
(`data/rules.toml`, versioned by the day they took effect, with their source); the engine picks
the rule set in force on the day it judges and never branches on a year literal.

Periods are counted as the law counts them (民法第143条, 年齢計算ニ関スル法律): a period of
n months or years from a start day ends on the day before the corresponding day n months or
years later, or on the last day of that month when it has no corresponding day.

* **Age**: counted from the day of birth (年齢計算ニ関スル法律): a person reaches 18 on the day
  the 18-year period ends, the day before the 18th birthday (born 2008-06-02 → 18 on
  2026-06-01; born 2008-02-29 → 18 on 2026-02-28). Eligible when that day ≤ the election day
  (定時登録: the base date).
* **3 months** (第21条第1項「引き続き三箇月以上」): counted from the 転入 day (住民となった年月日,
  the register records the person from that day). The period must have ended *before* the
  base date: moved in 2026-03-01 → the period ends 2026-05-31 → eligible on base date 6/1;
  moved in 2026-03-02 → ends 6/1 → not yet on 6/1. A person who moved in on the base date is
  never eligible.
* **4 months** (第28条第2号「住所を有しなくなつた日後四箇月を経過するに至つたとき」): counted
  from the day after the move-out; the entry is struck (抹消) on the day after the period ends:
  moved out 2026-01-10 → the period 1/11–5/10 → still on the roll (表示) on 5/10, 抹消 on 5/11.
* **不詳 dates**: a birth date the register holds as 不詳 (頃, 月日不詳, a range …) is judged by
  the *latest* day it may mean, so nobody who might be under 18 is registered; 年月日不詳
  registers nobody automatically (staff decide; the reason `birth-unknown` says why). The same
  conservative reading applies to a 不詳 住民となった年月日 (latest day).
"""

from __future__ import annotations

import calendar
import re
import tomllib
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import resources

from kikan.calendar import RegisterDate
from kikan.errors import DomainError, Kind

#: 住民種別 1 日本人住民 (the only kind with the right to vote: 公職選挙法 第9条)
JAPANESE = "1"
#: 住民状態 (kikan/standard/data/codes/resident_status.toml)
STATUS_RESIDENT, STATUS_LEAVING, STATUS_MOVED_OUT, STATUS_DEAD, STATUS_REMOVED = (
    "10",
    "11",
    "20",
    "21",
    "22",
)
#: 消除の事由 25 職権消除（国籍喪失） (kikan/standard/data/codes/idou_jiyu.toml)
REASON_NATIONALITY_LOST = "25"

#: roll marks: on the roll, or on it with the 表示 of a move-out (第27条第1項)
REGISTERED, MARKED = "登録", "表示"
#: roll kinds
REGULAR, ELECTION = "定時登録", "選挙時登録"

#: why a person is not on a roll (stable codes → Japanese)
NOT_ON_ROLL: Mapping[str, str] = {
    "not-japanese": "日本国民（日本人住民）ではありません",
    "under-age": "選挙権年齢に達していません",
    "birth-unknown": "生年月日が年月日不詳のため自動では登録しません",
    "not-yet-recorded": "基準日に住民基本台帳に記録されていません",
    "too-short": "住民基本台帳に引き続き記録されている期間が足りません",
    "residence-unknown": "住民となった年月日が分からないため自動では登録しません",
    "gone": "死亡・職権消除等により住民基本台帳から消除されています",
    "moved-out-long-ago": "転出後の期間を経過しています",
    "moved-out-before-registration": "転出までに名簿に登録される機会がありませんでした",
}


class ElectoralRollRuleError(DomainError, ValueError):
    """A refused request; `code` is stable, `message` Japanese, `item` the offending field.

    A `kikan.errors.DomainError` of kind ``invalid``: the platform's one mapping turns it into a
    422 problem without echoing the value (ADR 0013)."""

    kind = Kind.INVALID


# ---------------------------------------------------------------- the rules as data


@dataclass(frozen=True)
class Rules:
    """One version of the law's figures (data/rules.toml)."""

    effective_from: date
    voting_age: int
    residence_months: int
    removal_months_after_move_out: int
    regular_months: tuple[int, ...]
    regular_day: int
    note: str = ""


@dataclass(frozen=True)
class RuleBook:
    version: str
    source: str
    rules: tuple[Rules, ...]  # by effective_from, ascending

    def on(self, day: date) -> Rules:
        """The rule set in force on `day`."""
        found = [r for r in self.rules if r.effective_from <= day]
        if not found:
            raise ElectoralRollRuleError(
                "no-rules",
                f"{day.isoformat()}に適用する選挙人名簿の規則がありません。",
                "base_date",
            )
        return found[-1]


@cache
def rule_book() -> RuleBook:
    """data/rules.toml, read once."""
    text = resources.files("kikan.electoral_roll").joinpath("data", "rules.toml").read_text("utf-8")
    raw = tomllib.loads(text)
    rules = sorted(
        (
            Rules(
                effective_from=date.fromisoformat(str(r["effective_from"])),
                voting_age=int(r["voting_age"]),
                residence_months=int(r["residence_months"]),
                removal_months_after_move_out=int(r["removal_months_after_move_out"]),
                regular_months=tuple(int(m) for m in r["regular_months"]),
                regular_day=int(r["regular_day"]),
                note=str(r.get("note", "")),
            )
            for r in raw["rules"]
        ),
        key=lambda r: r.effective_from,
    )
    return RuleBook(version=str(raw["version"]), source=str(raw["source"]), rules=tuple(rules))


# ---------------------------------------------------------------- periods (民法第143条)


def period_end(start: date, *, months: int = 0, years: int = 0) -> date:
    """The last day of a period of `years` years and `months` months whose first day is `start`:
    the day before the corresponding day, or the last day of the month without one."""
    total = start.month - 1 + months + 12 * years
    year, month = start.year + total // 12, total % 12 + 1
    last = calendar.monthrange(year, month)[1]
    if start.day > last:
        return date(year, month, last)
    return date(year, month, start.day) - timedelta(days=1)


def age_reached_on(birth: date, age: int) -> date:
    """The day a person born on `birth` reaches `age` (the day before the birthday)."""
    return period_end(birth, years=age)


def residence_complete_on(moved_in: date, rules: Rules) -> date:
    """The last day of the 3-month period from the 転入 day; eligible on a base date after it."""
    return period_end(moved_in, months=rules.residence_months)


def strike_on(moved_out: date, rules: Rules) -> date:
    """The day a 表示 entry is struck: the day after the 4 months following the move-out."""
    return period_end(moved_out + timedelta(days=1), months=rules.removal_months_after_move_out) + (
        timedelta(days=1)
    )


def is_regular_base_date(day: date, rules: Rules) -> bool:
    return day.month in rules.regular_months and day.day == rules.regular_day


def regular_base_dates_after(day: date, rules: Rules) -> date:
    """The first 定時登録 base date strictly after `day`."""
    for year in (day.year, day.year + 1):
        for month in rules.regular_months:
            candidate = date(year, month, rules.regular_day)
            if candidate > day:
                return candidate
    raise AssertionError("regular_months is empty")  # pragma: no cover - data is checked


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def latest_day(text: str) -> date | None:
    """The latest real day a register date may mean (storage form, e.g. "H20-04-??"; the feed
    sends 異動 days such as 消除の年月日 as ISO days, "2026-12-08"); None for empty text,
    年月日不詳 or a value that is not a date."""
    if not text:
        return None
    if _ISO_DAY.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    try:
        days = RegisterDate.from_storage(text).possible_days()
    except ValueError:
        return None
    return None if days is None else days[1]


# ---------------------------------------------------------------- a person as the feed gives them


@dataclass(frozen=True)
class Person:
    """The items of one feed record the roll needs (item codes of the residents layout)."""

    atena_number: str
    resident_kind: str
    status: str
    birth_date: str
    became_resident_date: str
    move_out_planned_date: str
    removal_date: str
    removal_reason: str
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    sex: str
    household_number: str
    prefecture: str
    city: str
    town: str
    banchi: str
    katagaki: str

    @classmethod
    def of(cls, record: Mapping[str, str]) -> Person:
        return cls(**{name: str(record.get(name, "") or "") for name in cls.__dataclass_fields__})

    @property
    def name(self) -> str:
        return f"{self.family_name}　{self.given_name}".strip("　")

    @property
    def kana(self) -> str:
        return f"{self.family_name_kana}　{self.given_name_kana}".strip("　")

    @property
    def address(self) -> str:
        return f"{self.prefecture}{self.city}{self.town}{self.banchi}" + (
            f"　{self.katagaki}" if self.katagaki else ""
        )

    def moved_out_on(self) -> date | None:
        """The day the person stopped living here (転出), or None (still here, or gone
        otherwise). 転出予定 counts from the planned day once it is reached."""
        if self.status == STATUS_MOVED_OUT:
            return latest_day(self.removal_date) or latest_day(self.move_out_planned_date)
        if self.status == STATUS_LEAVING:
            return latest_day(self.move_out_planned_date)
        return None


@dataclass(frozen=True)
class Judgement:
    """Whether a person is on the roll as of a base date: `mark` 登録/表示, or None with the
    reason code (`NOT_ON_ROLL`); `moved_out` and `strike` for a 表示."""

    mark: str | None
    reason: str = ""
    moved_out: date | None = None
    strike: date | None = None

    @property
    def on_roll(self) -> bool:
        return self.mark is not None


def judge(  # noqa: PLR0911 - one answer per rule, in the law's order
    person: Person, *, base_date: date, election_day: date | None = None
) -> Judgement:
    """Is `person` (their record as of `base_date`) on the roll of `base_date`?

    `election_day` is the day the age is judged on (選挙時登録); for 定時登録 it is the base
    date itself. The rule set is the one in force on the day judged."""
    age_day = election_day or base_date
    rules = rule_book().on(age_day)
    if person.status in (STATUS_DEAD, STATUS_REMOVED):
        return Judgement(None, "gone")
    if person.resident_kind != JAPANESE:
        return Judgement(None, "not-japanese")
    birth = latest_day(person.birth_date)
    if birth is None:
        return Judgement(None, "birth-unknown")
    if age_reached_on(birth, rules.voting_age) > age_day:
        return Judgement(None, "under-age")
    moved_in = latest_day(person.became_resident_date)
    if moved_in is None:
        return Judgement(None, "residence-unknown")
    if moved_in >= base_date:
        return Judgement(None, "not-yet-recorded")
    complete = residence_complete_on(moved_in, rules)
    moved_out = person.moved_out_on()
    if moved_out is None or moved_out > base_date:
        if person.status not in (STATUS_RESIDENT, STATUS_LEAVING):
            return Judgement(None, "gone")
        if complete >= base_date:
            return Judgement(None, "too-short")
        return Judgement(REGISTERED)
    # moved out on or before the base date: the old-address rule (this city is the old address)
    if complete >= moved_out:
        return Judgement(None, "too-short")
    if regular_base_dates_after(complete, rules) >= moved_out:
        return Judgement(None, "moved-out-before-registration")
    strike = strike_on(moved_out, rules)
    if base_date >= strike:
        return Judgement(None, "moved-out-long-ago")
    return Judgement(MARKED, moved_out=moved_out, strike=strike)


def strike_reason(person: Person) -> str | None:
    """Why an entry is struck at once after a 異動 (死亡, 国籍喪失, 職権消除), or None."""
    if person.status == STATUS_DEAD:
        return "死亡"
    if person.resident_kind and person.resident_kind != JAPANESE:
        return "国籍喪失"
    if person.status == STATUS_REMOVED:
        return "国籍喪失" if person.removal_reason == REASON_NATIONALITY_LOST else "職権消除"
    return None


# ---------------------------------------------------------------- 投票区


@dataclass(frozen=True)
class DistrictRange:
    """One row of the 投票区 table: a 町字, optionally a range of 番地 (both ends included;
    `to` None: open-ended), and the district it belongs to."""

    district: str
    name: str
    town: str
    banchi_from: int | None = None
    banchi_to: int | None = None

    def span(self) -> str:
        if self.banchi_from is None:
            return f"{self.town}（全域）"
        end = "" if self.banchi_to is None else str(self.banchi_to)
        return f"{self.town} {self.banchi_from}〜{end}番地"


@dataclass(frozen=True)
class DistrictProblem:
    code: str  # gap | overlap | bad-range | empty
    message: str


class DistrictTableError(DomainError, ValueError):
    """A 投票区 table with gaps or overlaps: refused whole, every problem listed."""

    kind = Kind.INVALID

    def __init__(self, problems: Sequence[DistrictProblem]) -> None:
        self.problems = tuple(problems)
        text = "投票区の区域表に誤りがあります: " + "；".join(p.message for p in self.problems)
        super().__init__("district-table", text, "districts")


def validate_districts(  # noqa: PLR0912 - one branch per kind of problem
    rows: Sequence[DistrictRange],
) -> tuple[DistrictRange, ...]:
    """The table as stored, or DistrictTableError with every gap and overlap and its exact ranges.

    Per 町字 either one row for the whole town or ranges that start at 1, follow each other
    without a hole and end open (the last `to` empty), so every address has exactly one district."""
    problems: list[DistrictProblem] = []
    if not rows:
        problems.append(DistrictProblem("empty", "区域が1件もありません"))
    by_town: dict[str, list[DistrictRange]] = {}
    for row in rows:
        by_town.setdefault(row.town, []).append(row)
        if not row.town or not row.district:
            problems.append(DistrictProblem("bad-range", "町字と投票区は必須です"))
        if row.banchi_from is None and row.banchi_to is not None:
            problems.append(DistrictProblem("bad-range", f"{row.town}: 番地の始まりがありません"))
        if (
            row.banchi_from is not None
            and row.banchi_to is not None
            and (row.banchi_from < 1 or row.banchi_to < row.banchi_from)
        ):
            problems.append(DistrictProblem("bad-range", f"{row.span()}: 番地の範囲が逆です"))
    for town, group in by_town.items():
        whole = [r for r in group if r.banchi_from is None]
        if whole and len(group) > 1:
            others = "、".join(r.span() for r in group if r is not whole[0])
            problems.append(
                DistrictProblem("overlap", f"{town}（全域）と {others} が重なっています")
            )
            continue
        if whole:
            continue
        ordered = sorted(group, key=lambda r: (r.banchi_from or 0, r.banchi_to or 10**9))
        expected = 1
        for i, row in enumerate(ordered):
            start = row.banchi_from or 0
            if start > expected:
                problems.append(
                    DistrictProblem(
                        "gap", f"{town} {expected}〜{start - 1}番地がどの投票区にもありません"
                    )
                )
            elif start < expected:
                prev = ordered[i - 1]
                problems.append(
                    DistrictProblem("overlap", f"{prev.span()} と {row.span()} が重なっています")
                )
            if row.banchi_to is None:
                if i != len(ordered) - 1:
                    nxt = ordered[i + 1]
                    problems.append(
                        DistrictProblem("overlap", f"{row.span()} と {nxt.span()} が重なっています")
                    )
                    break
                expected = 10**9
            else:
                expected = max(expected, row.banchi_to + 1)
        else:
            last = ordered[-1]
            if last.banchi_to is not None:
                problems.append(
                    DistrictProblem(
                        "gap", f"{town} {last.banchi_to + 1}番地以降がどの投票区にもありません"
                    )
                )
    if problems:
        raise DistrictTableError(problems)
    return tuple(rows)


_LEADING_NUMBER = re.compile(r"\s*(\d+)")
_KANJI_DIGITS = str.maketrans("〇一二三四五六七八九", "0123456789")


def banchi_number(banchi: str) -> int | None:
    """The 番地 number an address text starts with ("１２番地の３" → 12, "12-3" → 12)."""
    text = unicodedata.normalize("NFKC", banchi).translate(_KANJI_DIGITS)
    found = _LEADING_NUMBER.match(text)
    return int(found.group(1)) if found else None


def district_of(table: Sequence[DistrictRange], town: str, banchi: str) -> str:
    """The district of an address, or "" when the table does not cover it (reported to staff)."""
    number = banchi_number(banchi)
    for row in table:
        if row.town != town:
            continue
        if row.banchi_from is None:
            return row.district
        if number is None:
            continue
        if row.banchi_from <= number and (row.banchi_to is None or number <= row.banchi_to):
            return row.district
    return ""


@dataclass(frozen=True)
class Judged:
    """The register as of a base date, judged: who is on the roll (with the judgement) and how
    many are not, per reason. Computed before any transaction is opened (the register is read
    over HTTP; on SQLite a write transaction held meanwhile would block the provider)."""

    base_date: date
    election_day: date
    entries: tuple[tuple[Person, Judgement], ...]
    not_on_roll: Mapping[str, int]


def judge_all(
    records: Iterable[Mapping[str, str]], *, base_date: date, election_day: date
) -> Judged:
    """Judge every record (read once); only the persons on the roll are kept."""
    kept: list[tuple[Person, Judgement]] = []
    refused: Counter[str] = Counter()
    for record in records:
        person = Person.of(record)
        if not person.atena_number:
            continue
        judged = judge(person, base_date=base_date, election_day=election_day)
        if judged.mark is None:
            refused[judged.reason] += 1
        else:
            kept.append((person, judged))
    return Judged(base_date, election_day, tuple(kept), dict(refused))
