"""Tables of 個人住民税 (its own; no other module reads them).

`juminzei_persons` is the module's own replica of the 宛名 it needs and `juminzei_link` its linkage
client and sync cursor: both filled only through 庁内データ連携 by the linkage-consumer kit
(ADR 0012), whose mixins give their columns. The rest is the tax itself:

- `juminzei_profile`: the tenant's own rules (指定都市, 級地, 超過課税, 普通徴収の納期).
- `juminzei_kijitsu` / `juminzei_kijitsu_runs`: who lived here on the 賦課期日 (1月1日), taken
  once per 年度 from the register *as of* that day over 庁内データ連携.
- `juminzei_batches` / `juminzei_rejects` / `juminzei_income`: income records (給与支払報告書,
  公的年金, 申告) with every input row accounted for (accepted, rejected with its reason).
- `juminzei_assessments`: one row per version of a taxpayer's 賦課 (当初, then each 更正): versions
  are never overwritten, `current` marks the one in force.
- `juminzei_installments`: the 期割 handed to 収納 (read over linkage, never written by it), in
  `id` order so a reader keeps a cursor.
- `juminzei_notice_runs` / `juminzei_notice_items`: the resumable notice batch.

Every table is tenant-owned (`TenantOwned`) and gets forced row-level security in the module's
migration (`kikan.platform.rls.enable_rls`); tests/platform/test_migrations.py checks that these
models match what the migrations build.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kikan.linkage.consumer.replica import AtenaReplicaMixin, LinkStateMixin
from kikan.platform.db import Base, TenantOwned, UTCDateTime, utcnow


class JuminzeiPersonRow(AtenaReplicaMixin, TenantOwned, Base):
    """宛名 replica: the latest record delivered for one 宛名番号 (the kit's columns)."""

    __tablename__ = "juminzei_persons"
    __table_args__ = (UniqueConstraint("tenant_code", "atena_number"),)


class JuminzeiLinkRow(LinkStateMixin, TenantOwned, Base):
    """This tenant's linkage client and where the sync stands (the kit's columns)."""

    __tablename__ = "juminzei_link"
    __table_args__ = (UniqueConstraint("tenant_code"),)


class ProfileRow(TenantOwned, Base):
    """The tenant's rules that are not national law: 指定都市, 級地, 超過課税 (`profile`, the
    calculation's MunicipalityProfile) and the 普通徴収 納期 (`due_dates`, "MM-DD" per 期)."""

    __tablename__ = "juminzei_profile"
    __table_args__ = (UniqueConstraint("tenant_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    due_dates: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(100))


class KijitsuRunRow(TenantOwned, Base):
    """That the 賦課期日 population of one 年度 was taken (once; a retake replaces it whole)."""

    __tablename__ = "juminzei_kijitsu_runs"
    __table_args__ = (UniqueConstraint("tenant_code", "fiscal_year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    kijitsu: Mapped[date] = mapped_column(Date)
    persons: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    taken_by: Mapped[str] = mapped_column(String(100))


class KijitsuRow(TenantOwned, Base):
    """One person who lived here on the 賦課期日 (1月1日) of `fiscal_year`, as the register
    stood that day. `match_key` is the normalised 氏名 + 生年月日 the intake matches on."""

    __tablename__ = "juminzei_kijitsu"
    __table_args__ = (
        UniqueConstraint("tenant_code", "fiscal_year", "atena_number"),
        Index("ix_juminzei_kijitsu_match", "tenant_code", "fiscal_year", "match_key"),
        Index("ix_juminzei_kijitsu_kana", "tenant_code", "fiscal_year", "kana_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    atena_number: Mapped[str] = mapped_column(String(15))
    name: Mapped[str] = mapped_column(String(200))
    kana: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[str] = mapped_column(String(20))
    sex: Mapped[str] = mapped_column(String(1))
    address: Mapped[str] = mapped_column(String(400))
    household: Mapped[str] = mapped_column(String(20))
    protected: Mapped[bool] = mapped_column(Boolean, default=False)
    match_key: Mapped[str] = mapped_column(String(240))
    kana_key: Mapped[str] = mapped_column(String(240))


class BatchRow(TenantOwned, Base):
    """One intake file: every row is counted in exactly one of accepted / rejected, and the
    accepted ones in matched or unmatched (the worklist). The same file twice is refused."""

    __tablename__ = "juminzei_batches"
    __table_args__ = (UniqueConstraint("tenant_code", "fiscal_year", "kind", "digest"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(200))
    digest: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    accepted: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    matched: Mapped[int] = mapped_column(Integer)
    unmatched: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))


class RejectRow(TenantOwned, Base):
    """A row of an intake file that was not taken, with the Japanese reason per fault."""

    __tablename__ = "juminzei_rejects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(Integer, index=True)
    row_no: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[list[str]] = mapped_column(JSON)


class IncomeRow(TenantOwned, Base):
    """One income record of one person for one 年度 (`kind`: kyuyo 給与支払報告書, nenkin 公的年金等
    支払報告書, shinkoku 申告). `figures` holds the amounts as read; `person` the identity as the
    payer wrote it. `atena_number` is empty until matched (then `match_state` matched / jutogai),
    and a row sent elsewhere is `forwarded` (回送). A corrected record (訂正) supersedes the
    earlier one: both stay, `active` marks the one in force."""

    __tablename__ = "juminzei_income"
    __table_args__ = (
        Index("ix_juminzei_income_person", "tenant_code", "fiscal_year", "atena_number"),
        Index("ix_juminzei_income_state", "tenant_code", "fiscal_year", "match_state"),
        Index("ix_juminzei_income_dup", "tenant_code", "fiscal_year", "kind", "dup_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    batch_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    row_no: Mapped[int] = mapped_column(Integer)
    payer_key: Mapped[str] = mapped_column(String(20))
    payer_name: Mapped[str] = mapped_column(String(200))
    person: Mapped[dict[str, Any]] = mapped_column(JSON)
    dup_key: Mapped[str] = mapped_column(String(300))
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    atena_number: Mapped[str] = mapped_column(String(15))
    match_state: Mapped[str] = mapped_column(String(20))
    match_note: Mapped[str] = mapped_column(String(400))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    supersedes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))


class AssessmentRow(TenantOwned, Base):
    """One version of one taxpayer's 賦課 for a 年度: the case the engine was given, its answer
    with every step, and how it is collected. Versions are appended (当初 1, 更正 2, 3 …)."""

    __tablename__ = "juminzei_assessments"
    __table_args__ = (
        UniqueConstraint(
            "tenant_code",
            "fiscal_year",
            "atena_number",
            "version",
            name="uq_juminzei_assessments_version",
        ),
        Index("ix_juminzei_assessments_current", "tenant_code", "fiscal_year", "current"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    atena_number: Mapped[str] = mapped_column(String(15))
    version: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(20))
    notice_no: Mapped[str] = mapped_column(String(20))
    case: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    sources: Mapped[list[int]] = mapped_column(JSON)
    annual_tax: Mapped[int] = mapped_column(BigInteger)
    city_total: Mapped[int] = mapped_column(BigInteger)
    pref_total: Mapped[int] = mapped_column(BigInteger)
    forest_tax: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(10))
    employer_key: Mapped[str] = mapped_column(String(20))
    employer_name: Mapped[str] = mapped_column(String(200))
    assessed_on: Mapped[date] = mapped_column(Date)
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))


class InstallmentRow(TenantOwned, Base):
    """One 期割 (or, after a 更正, one 期's difference): what 収納 collects. Append-only; `id`
    is the cursor 収納 reads after."""

    __tablename__ = "juminzei_installments"
    __table_args__ = (Index("ix_juminzei_installments_assessment", "tenant_code", "assessment_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    assessment_id: Mapped[int] = mapped_column(Integer)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    atena_number: Mapped[str] = mapped_column(String(15))
    notice_no: Mapped[str] = mapped_column(String(20))
    method: Mapped[str] = mapped_column(String(10))
    period: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(20))
    due_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(10))
    employer_key: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NoticeRunRow(TenantOwned, Base):
    """One notice batch for a 年度: resumable (items written are not written again)."""

    __tablename__ = "juminzei_notice_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    out_dir: Mapped[str] = mapped_column(String(500))
    total: Mapped[int] = mapped_column(Integer)
    written: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    started_by: Mapped[str] = mapped_column(String(100))


class NoticeItemRow(TenantOwned, Base):
    """One notice written by a run (the assessment version it shows and the file)."""

    __tablename__ = "juminzei_notice_items"
    __table_args__ = (UniqueConstraint("tenant_code", "run_id", "assessment_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(Integer, index=True)
    assessment_id: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(200))
    written_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
