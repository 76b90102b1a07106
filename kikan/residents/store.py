"""Tables of the resident register. Only `kikan.residents` reads or writes them.

- `residents_history`: one row per person per change (宛名番号 + 履歴番号), the full snapshot as
  JSON plus the columns the bitemporal queries and search need. Rows are only ever inserted.
- `residents_current`: the latest snapshot's search columns per person (a projection kept in the
  same transaction), with the optimistic `version`.
- `residents_name_keys`: every name a person can be found by (氏名, 通称, 旧氏, 外国人氏名).
- `residents_households`: per 世帯番号 the current head (NULL = 世帯主不在) and a `version`.
- `residents_support_measures`: 支援措置 with period and the listed 加害者.
- `residents_suppressions`: 抑止 (異動・発行・照会) per person or household, with level, period,
  explicit end and temporary release.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from kikan.platform.db import Base, TenantOwned, UTCDateTime, utcnow

#: Search keys compare by code point: prefix LIKE can use a btree index under any database
#: collation, and katakana keys sort in 五十音 order. (SQLite compares by code point anyway.)
SEARCH_KEY = String(400).with_variant(String(400, collation="C"), "postgresql")


#: The persons still on the register (Status.is_active), as the unique indexes' predicate.
CURRENT = "status IN ('resident', 'moving_out')"
CURRENT_WITH_MYNUMBER = f"{CURRENT} AND mynumber_index <> ''"
CURRENT_WITH_JUMINHYO_CODE = f"{CURRENT} AND juminhyo_code <> ''"


class HistoryRow(TenantOwned, Base):
    __tablename__ = "residents_history"
    __table_args__ = (
        UniqueConstraint("tenant_code", "atena_number", "history_no"),
        Index("ix_residents_history_valid", "tenant_code", "atena_number", "valid_from"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    atena_number: Mapped[str] = mapped_column(String(15))
    history_no: Mapped[int] = mapped_column(Integer)
    household_number: Mapped[str] = mapped_column(String(15))
    status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(String(30))
    valid_from: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    notified_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    operator: Mapped[str] = mapped_column(String(100))
    terminal: Mapped[str] = mapped_column(String(200))
    place: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text, default="")
    cancels_history_no: Mapped[int | None] = mapped_column(Integer, nullable=True)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)


class CurrentRow(TenantOwned, Base):
    __tablename__ = "residents_current"
    __table_args__ = (
        # keys use the "C" collation on PostgreSQL (see SEARCH_KEY): one btree index serves both
        # the prefix match and the ordered, paginated result list
        Index("ix_residents_current_name_key", "tenant_code", "name_key", "atena_number"),
        Index("ix_residents_current_kana_key", "tenant_code", "kana_key", "atena_number"),
        Index("ix_residents_current_household", "tenant_code", "household_number"),
        Index("ix_residents_current_birth", "tenant_code", "birth_sort"),
        # duplicate-person checks of bulk loads (移行) and 再転入 lookups by 住民票コード/個人番号
        Index("ix_residents_current_juminhyo", "tenant_code", "juminhyo_code"),
        Index("ix_residents_current_mynumber", "tenant_code", "mynumber_index"),
        # a My Number / 住民票コード belongs to one current resident (migration 0013); former
        # residents keep theirs in the projection, so the rule is partial
        Index(
            "uq_residents_current_mynumber",
            "tenant_code",
            "mynumber_index",
            unique=True,
            sqlite_where=text(CURRENT_WITH_MYNUMBER),
            postgresql_where=text(CURRENT_WITH_MYNUMBER),
        ),
        Index(
            "uq_residents_current_juminhyo",
            "tenant_code",
            "juminhyo_code",
            unique=True,
            sqlite_where=text(CURRENT_WITH_JUMINHYO_CODE),
            postgresql_where=text(CURRENT_WITH_JUMINHYO_CODE),
        ),
    )

    tenant_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    atena_number: Mapped[str] = mapped_column(String(15), primary_key=True)
    history_no: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    household_number: Mapped[str] = mapped_column(String(15))
    status: Mapped[str] = mapped_column(String(12))
    resident_kind: Mapped[str] = mapped_column(String(1))
    full_name: Mapped[str] = mapped_column(String(200))
    full_kana: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(SEARCH_KEY)
    kana_key: Mapped[str] = mapped_column(SEARCH_KEY)
    address_key: Mapped[str] = mapped_column(String(400))
    address_text: Mapped[str] = mapped_column(String(400))
    birth_sort: Mapped[date] = mapped_column(Date)
    birth_display: Mapped[str] = mapped_column(String(40))
    sex: Mapped[str] = mapped_column(String(1))
    zokugara: Mapped[str] = mapped_column(String(40))
    juminhyo_code: Mapped[str] = mapped_column(String(11), default="")
    mynumber_index: Mapped[str] = mapped_column(String(64), default="")


class NameKeyRow(TenantOwned, Base):
    """Every name a person can be searched by (spec 2.1.3): 氏名, 通称, 旧氏＋名, 外国人氏名.

    One row per (person, kind); replaced whenever the person's snapshot changes.
    """

    __tablename__ = "residents_name_keys"
    __table_args__ = (Index("ix_residents_name_keys_key", "tenant_code", "key", "atena_number"),)

    tenant_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    atena_number: Mapped[str] = mapped_column(String(15), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    key: Mapped[str] = mapped_column(SEARCH_KEY)


class HouseholdRow(TenantOwned, Base):
    __tablename__ = "residents_households"

    tenant_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    household_number: Mapped[str] = mapped_column(String(15), primary_key=True)
    head_atena: Mapped[str | None] = mapped_column(String(15), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class SupportMeasureRow(TenantOwned, Base):
    __tablename__ = "residents_support_measures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    atena_number: Mapped[str] = mapped_column(String(15), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # "support" 支援措置 | "provisional" 仮支援措置
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    perpetrators: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    ended_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # spec 1.1.16 仮支援措置の開始年月日, kept when a 仮支援措置 is confirmed as 支援措置
    provisional_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    # 延長: the current period starts the day after the previous end (spec 3.4); NULL = start_date
    period_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    extensions: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # 終了: 申出 | 期間経過 | 必要性なし
    end_reason: Mapped[str] = mapped_column(String(20), default="", server_default=text("''"))
    ended_by: Mapped[str] = mapped_column(String(100), default="", server_default=text("''"))


class SuppressionRow(TenantOwned, Base):
    """One 抑止 setting (spec 3.1). Several may exist per person or household, each with its own
    processes and level. It applies from `start_date` until staff end it (`ended_on`): the end
    date is informational, because the spec forbids automatic expiry. `released_until` is a
    temporary release (一時解除) after which it applies again without anyone acting."""

    __tablename__ = "residents_suppressions"
    __table_args__ = (
        Index("ix_residents_suppressions_target", "tenant_code", "target_kind", "target_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    target_kind: Mapped[str] = mapped_column(String(10))  # "person" | "household"
    target_number: Mapped[str] = mapped_column(String(15))  # 宛名番号 | 世帯番号
    suppress_change: Mapped[bool] = mapped_column(Boolean)
    suppress_issue: Mapped[bool] = mapped_column(Boolean)
    suppress_inquiry: Mapped[bool] = mapped_column(Boolean)
    level: Mapped[str] = mapped_column(String(10))  # "error" | "alert"
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    ended_by: Mapped[str] = mapped_column(String(100), default="")
    end_note: Mapped[str] = mapped_column(Text, default="")
    released_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    released_by: Mapped[str] = mapped_column(String(100), default="")
    release_note: Mapped[str] = mapped_column(Text, default="")

    @property
    def kinds(self) -> list[str]:
        """The suppressed processes as `ProcessKind` values, in a fixed order."""
        flags = (
            ("change", self.suppress_change),
            ("issue", self.suppress_issue),
            ("inquiry", self.suppress_inquiry),
        )
        return [kind for kind, on in flags if on]


class HonninTsuuchiRow(TenantOwned, Base):
    """本人通知制度: a person registered to be told when a 第三者 or 代理人 obtains a certificate
    about them. Ended registrations are kept (`ended_on`) as the record of the consent."""

    __tablename__ = "residents_honnin_tsuuchi"
    __table_args__ = (Index("ix_residents_honnin_tsuuchi_person", "tenant_code", "atena_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    atena_number: Mapped[str] = mapped_column(String(15))
    registered_on: Mapped[date] = mapped_column(Date)
    send_to: Mapped[str] = mapped_column(Text, default="")  # 通知先（空欄なら住民票の住所）
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    ended_by: Mapped[str] = mapped_column(String(100), default="")


class HonninNoticeRow(TenantOwned, Base):
    """One notice owed to a registered person: which certificate (発行番号) a 第三者 or 代理人
    obtained, recorded in the same transaction as the issue. `sent_on` is set when mailed."""

    __tablename__ = "residents_honnin_notices"
    __table_args__ = (Index("ix_residents_honnin_notices_person", "tenant_code", "atena_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    registration_id: Mapped[int] = mapped_column(Integer)
    atena_number: Mapped[str] = mapped_column(String(15))
    issue_number: Mapped[str] = mapped_column(String(24))
    form_name: Mapped[str] = mapped_column(String(100))
    requester_kind: Mapped[str] = mapped_column(String(20))
    issued_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class CertifierSettingsRow(TenantOwned, Base):
    """認証者 settings beyond the mayor kept on the tenant (spec 1.3.7, 1.3.9, 5.6): the
    職務代理者 with the period in which certificates switch to them, their 公印, and the fixed
    phrase printed by the seal."""

    __tablename__ = "residents_certifier_settings"

    tenant_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    deputy_title: Mapped[str] = mapped_column(String(40), default="")
    deputy_name: Mapped[str] = mapped_column(String(100), default="")
    deputy_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    deputy_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    deputy_seal_png: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    notice: Mapped[str] = mapped_column(String(100), default="")
