"""The commands and queries of 個人住民税's use cases: one immutable object per call (ADR 0013)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class SetProfile:
    """The tenant's 指定都市・級地・超過課税 (a calc MunicipalityProfile as JSON) and 納期."""

    profile: Mapping[str, Any]
    due_dates: tuple[str, ...]


@dataclass(frozen=True)
class GetProfile:
    """The tenant's profile (defaults when none was set)."""


@dataclass(frozen=True)
class TakeKijitsu:
    """Keep who lived here on the 賦課期日 of `fiscal_year`: `records` are the register as of that
    day (read over 庁内データ連携 by the caller, before the transaction)."""

    fiscal_year: int
    records: tuple[Mapping[str, str], ...]


@dataclass(frozen=True)
class LoadIncome:
    """One CSV file of income records (給与支払報告書 kyuyo / 公的年金等支払報告書 nenkin)."""

    fiscal_year: int
    kind: str
    filename: str
    content: bytes


@dataclass(frozen=True)
class ListBatches:
    fiscal_year: int


@dataclass(frozen=True)
class BatchQuery:
    batch_id: int


@dataclass(frozen=True)
class Worklist:
    fiscal_year: int
    limit: int = 100


@dataclass(frozen=True)
class IncomeQuery:
    income_id: int


@dataclass(frozen=True)
class Assign:
    """Match an income record to a 宛名番号. `jutogai`: the caller confirmed with 宛名管理 that
    the number is a 住登外者 (住登外課税); otherwise it must be on the 賦課期日 list."""

    income_id: int
    atena_number: str
    jutogai: bool = False


@dataclass(frozen=True)
class Forward:
    """Close an income record as not this municipality's (回送 to where the person lived)."""

    income_id: int
    note: str


@dataclass(frozen=True)
class FileReturn:
    """A 申告 (or a 修正申告, which supersedes the earlier one) of one person for a 年度."""

    fiscal_year: int
    atena_number: str
    figures: Mapping[str, Any]
    jutogai: bool = False


@dataclass(frozen=True)
class AssessYear:
    """賦課 of a 年度: at most `limit` persons per call (the caller commits each call: a long run
    resumes where it stopped). `on` is the 賦課 (or 更正) day."""

    fiscal_year: int
    on: date
    after: str = ""
    limit: int = 500


@dataclass(frozen=True)
class AssessPerson:
    fiscal_year: int
    atena_number: str
    on: date


@dataclass(frozen=True)
class TaxpayerQuery:
    fiscal_year: int
    atena_number: str


@dataclass(frozen=True)
class AssessmentQuery:
    assessment_id: int


@dataclass(frozen=True)
class InstallmentsAfter:
    """期割 for 収納 after the cursor `after` (an installment id), oldest first."""

    after: int
    limit: int = 500


@dataclass(frozen=True)
class StartNoticeRun:
    fiscal_year: int
    out_dir: str


@dataclass(frozen=True)
class NoticeRunStep:
    """Write up to `limit` notices of a run not yet written (resumable)."""

    run_id: int
    limit: int = 50
    on: date | None = None


@dataclass(frozen=True)
class NoticeRunQuery:
    run_id: int


@dataclass(frozen=True)
class Calculate:
    """試算: the engine on a case, nothing stored (the JSON of docs/juminzei-calc.md)."""

    fiscal_year: int
    case: Mapping[str, Any]
    profile: Mapping[str, Any] | None = field(default=None)
