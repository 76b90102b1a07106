"""Tables of 宛名管理 (its own; no other module reads them).

What is kept, and why in these shapes:

* `atena_residents` / `atena_link`: the residents' 宛名 as 庁内データ連携 delivers it, and the
  linkage client with its cursor — the linkage-consumer kit's tables (ADR 0012). 宛名管理 never
  reads the resident register's tables.
* `atena_jutogai`: the 住登外者 register, one row per 宛名番号 with its current items;
  `atena_states` every state ever recorded of every person the module knows (住登外者 versions
  and the residents' delivered states): the full history, the "as of" answer and the index the
  candidate search runs on (current **and** historical names and addresses).
* `atena_my_numbers`: 個人番号 encrypted (token) with its blind index, for both kinds of person;
  the number itself is in no other table and in no log.
* `atena_identities`: per 宛名番号 its 名寄せ state (名寄せ先宛名番号, 代表宛名) and its
  団体内統合宛名番号; `atena_candidates` the staff worklist; `atena_nayose_events` the 名寄せ履歴
  (with the state before each event, so 名寄せ解除 restores it exactly).
* `atena_togo`: one 団体内統合宛名番号 per 個人番号 (by blind index) — issued once per person.
* `atena_offers`: the candidates a 付番 request was shown, so that 処理区分 2 can only choose one
  of them.

Every table is tenant-owned with forced RLS (migrations/atena_0001_initial.py).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kikan.linkage.consumer.replica import AtenaReplicaMixin, LinkStateMixin
from kikan.platform.db import Base, TenantOwned, UTCDateTime, utcnow

#: `source` of a state / identity: the standard's 宛名区分 codes of the `togo` layout group
RESIDENT, JUTOGAI = "1", "2"


class AtenaResidentRow(AtenaReplicaMixin, TenantOwned, Base):
    """宛名 replica: the latest record delivered for one resident's 宛名番号 (the kit's columns)."""

    __tablename__ = "atena_residents"
    __table_args__ = (UniqueConstraint("tenant_code", "atena_number"),)


class AtenaLinkRow(LinkStateMixin, TenantOwned, Base):
    """This tenant's linkage client and where the sync stands (the kit's columns)."""

    __tablename__ = "atena_link"
    __table_args__ = (UniqueConstraint("tenant_code"),)


class JutogaiRow(TenantOwned, Base):
    """One 住登外者: the current items (`items`, layout item code → value, without 個人番号).

    `origin`: "registered" (numbered by 宛名管理) or "inherited" (a resident who moved out or
    died keeps the 宛名番号 as a 住登外者). `active` turns False when the person is a resident
    again under the same number (the register speaks for them then); the row and its history
    stay. `version` is the optimistic-lock counter of staff edits."""

    __tablename__ = "atena_jutogai"
    __table_args__ = (UniqueConstraint("tenant_code", "atena_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    atena_number: Mapped[str] = mapped_column(String(15))
    version: Mapped[int] = mapped_column(Integer, default=1)
    origin: Mapped[str] = mapped_column(String(10), default="registered")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    gyomu_id: Mapped[str] = mapped_column(String(3))
    items: Mapped[dict[str, str]] = mapped_column(JSON)
    valid_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64))


class StateRow(TenantOwned, Base):
    """One recorded state of one person (住登外者 version or delivered resident state).

    `valid_from` None: in force since before anything known (a resident known from 全件 only);
    `current` marks each person's latest state. The key columns are `kikan.moji` search keys
    (異体字 and kana folded, spaces removed) and `birth_day` the ISO day of an exact birth date
    ("" for 不詳 forms, found through the name keys instead)."""

    __tablename__ = "atena_states"
    __table_args__ = (
        Index("ix_atena_states_person", "tenant_code", "atena_number", "valid_from"),
        Index("ix_atena_states_name_key", "tenant_code", "name_key", "birth_day"),
        Index("ix_atena_states_kana_key", "tenant_code", "kana_key", "birth_day"),
        Index("ix_atena_states_birth", "tenant_code", "birth_day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    atena_number: Mapped[str] = mapped_column(String(15))
    source: Mapped[str] = mapped_column(String(1))
    version: Mapped[int] = mapped_column(Integer, default=1)
    valid_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    operator: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200), default="")
    kana: Mapped[str] = mapped_column(String(200), default="")
    birth: Mapped[str] = mapped_column(String(40), default="")
    sex: Mapped[str] = mapped_column(String(1), default="")
    address: Mapped[str] = mapped_column(String(400), default="")
    name_key: Mapped[str] = mapped_column(String(200), default="")
    kana_key: Mapped[str] = mapped_column(String(200), default="")
    birth_day: Mapped[str] = mapped_column(String(10), default="")
    items: Mapped[dict[str, Any]] = mapped_column(JSON)


class MyNumberRow(TenantOwned, Base):
    """個人番号 of one 宛名番号: encrypted (`token`, context = tenant) and its blind index."""

    __tablename__ = "atena_my_numbers"
    __table_args__ = (
        UniqueConstraint("tenant_code", "atena_number"),
        Index("ix_atena_my_numbers_index", "tenant_code", "blind_index"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    atena_number: Mapped[str] = mapped_column(String(15))
    token: Mapped[str] = mapped_column(String(200))
    blind_index: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdentityRow(TenantOwned, Base):
    """名寄せ and 団体内統合宛名 state of one 宛名番号 (a resident's or a 住登外者's).

    `nayose_target` is the 名寄せ先宛名番号 (the group's 代表宛名; "" when not linked);
    `representative` is the 代表宛名フラグ. Linking never renumbers: only these columns move."""

    __tablename__ = "atena_identities"
    __table_args__ = (
        UniqueConstraint("tenant_code", "atena_number"),
        Index("ix_atena_identities_target", "tenant_code", "nayose_target"),
        Index("ix_atena_identities_togo", "tenant_code", "togo_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    atena_number: Mapped[str] = mapped_column(String(15))
    source: Mapped[str] = mapped_column(String(1))
    nayose_target: Mapped[str] = mapped_column(String(15), default="")
    representative: Mapped[bool] = mapped_column(Boolean, default=False)
    togo_number: Mapped[str] = mapped_column(String(15), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)


class CandidateRow(TenantOwned, Base):
    """One pair on the 名寄せ worklist (`atena_a` < `atena_b`), with the evidence as assessed.

    `status`: open → linked | dismissed (a decision), or superseded (the pair was linked by
    another decision). `version` guards the decision: two staff deciding one pair at once, one
    wins and the other is told (409)."""

    __tablename__ = "atena_candidates"
    __table_args__ = (
        UniqueConstraint("tenant_code", "atena_a", "atena_b"),
        Index("ix_atena_candidates_status", "tenant_code", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    atena_a: Mapped[str] = mapped_column(String(15))
    atena_b: Mapped[str] = mapped_column(String(15))
    score: Mapped[int] = mapped_column(Integer)
    verdict: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(200))
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    rules_version: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    note: Mapped[str] = mapped_column(String(400), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)


class NayoseEventRow(TenantOwned, Base):
    """名寄せ履歴: one link, automatic link, 代表宛名 change or 名寄せ解除.

    `before`/`after`: per affected 宛名番号 its [名寄せ先宛名番号, 代表宛名フラグ] — 名寄せ解除
    writes `before` back, and only while `after` is still what is stored (a later event on the
    same persons must be undone first)."""

    __tablename__ = "atena_nayose_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action: Mapped[str] = mapped_column(String(20))
    atena_a: Mapped[str] = mapped_column(String(15))
    atena_b: Mapped[str] = mapped_column(String(15))
    representative: Mapped[str] = mapped_column(String(15))
    before: Mapped[dict[str, list[Any]]] = mapped_column(JSON)
    after: Mapped[dict[str, list[Any]]] = mapped_column(JSON)
    candidate_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    undoes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    undone_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str] = mapped_column(String(400), default="")
    operator: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TogoRow(TenantOwned, Base):
    """One 団体内統合宛名番号, issued once per 個人番号 (found by its blind index)."""

    __tablename__ = "atena_togo"
    __table_args__ = (
        UniqueConstraint("tenant_code", "togo_number"),
        UniqueConstraint("tenant_code", "blind_index"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    togo_number: Mapped[str] = mapped_column(String(15))
    blind_index: Mapped[str] = mapped_column(String(100))
    issued_on: Mapped[date] = mapped_column(Date)
    issued_by: Mapped[str] = mapped_column(String(64))


class OfferRow(TenantOwned, Base):
    """The candidates one 付番 request was shown (`search_id`), for 処理区分 2 and for 0 after
    candidates: only an offered 宛名番号 may be chosen, and only by the client it was shown to."""

    __tablename__ = "atena_offers"
    __table_args__ = (UniqueConstraint("tenant_code", "search_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    search_id: Mapped[str] = mapped_column(String(40))
    client_id: Mapped[str] = mapped_column(String(64))
    gyomu_id: Mapped[str] = mapped_column(String(3))
    candidates: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used: Mapped[bool] = mapped_column(Boolean, default=False)
