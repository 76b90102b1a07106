"""Declarative bases of a consumer's own tables: its 宛名 replica and its link (credentials and
cursor), plus the upsert of one feed record into the replica.

Why mixins and not one shared table: each module owns its tables (ARCHITECTURE.md, principle 2),
and a consumer may be another vendor's system with its own database. The mixins only fix the
columns every consumer needs, so seven modules do not invent seven spellings of 宛名番号 or of
a cursor; each module still declares `__tablename__`, its unique constraints and RLS.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy import JSON, Boolean, Date, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from kikan.platform.db import UTCDateTime, utcnow
from kikan.platform.uow import UnitOfWork

#: The 支援措置 flag the linkage API puts on every record it sends to a `support_measure` client
#: ("1" protected now, "0" not; docs/linkage.md §3, §6).
FLAG_ITEM = "support_measure"
#: 個人番号: filled only for a consumer holding the `my_number` scope (docs/linkage.md §3). A
#: replica never stores it (`upsert` drops it); the sync hands it to `react` as a `MyNumber`.
MY_NUMBER_ITEM = "my_number"
#: The current 住所 items merged into each record (docs/linkage.md §3), in writing order.
ADDRESS_ITEMS = ("prefecture", "city", "town", "banchi")
IN_CHUNK = 500  # bounded IN lists


class LinkStateMixin:
    """One tenant's linkage client for one consumer and where its sync stands.

    The HS256 secret must be kept as issued (HMAC needs it); RLS and database access control
    protect it, as on the provider's side. `cursor` is the last 差分 seq applied;
    `full_cursor`/`full_done` track the 全件 load, resumable page by page; `full_as_of` is the
    差分 position the 全件 run started at. Declare `UniqueConstraint("tenant_code")`."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    base_url: Mapped[str] = mapped_column(String(300))
    client_id: Mapped[str] = mapped_column(String(32))
    client_secret: Mapped[str] = mapped_column(String(64))
    cursor: Mapped[int] = mapped_column(Integer, default=0)
    full_done: Mapped[bool] = mapped_column(Boolean, default=False)
    full_cursor: Mapped[str | None] = mapped_column(String(600), nullable=True)
    full_as_of: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def restart(self) -> None:
        """Start again from 全件 (a new client, or a cursor the provider no longer knows); the
        replica is refreshed in place, nothing of the module's own data is dropped."""
        self.cursor, self.full_done, self.full_cursor, self.full_as_of = 0, False, None, None
        self.updated_at = utcnow()


class AtenaReplicaMixin:
    """The latest record delivered for one 宛名番号, whole (`record`, item code → string, as the
    feed sent it) and in the columns modules search and show.

    `birth_date` is text: the register's storage form keeps 不詳 dates (e.g. "S55-00-00"), which
    no date column can hold. `valid_from` is the 異動日 of the last 差分 event applied (None when
    the person is known from 全件 only). `gone`: no longer published (e.g. a cancelled 転入).
    Declare `UniqueConstraint("tenant_code", "atena_number")`."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    atena_number: Mapped[str] = mapped_column(String(15))
    record: Mapped[dict[str, str]] = mapped_column(JSON)
    protected: Mapped[bool] = mapped_column(Boolean, default=False)  # 支援措置
    gone: Mapped[bool] = mapped_column(Boolean, default=False)
    seq: Mapped[int] = mapped_column(Integer, default=0)  # last event applied (0: 全件)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    name: Mapped[str] = mapped_column(String(200), default="")
    name_kana: Mapped[str] = mapped_column(String(200), default="")
    birth_date: Mapped[str] = mapped_column(String(20), default="")
    sex: Mapped[str] = mapped_column(String(1), default="")
    address: Mapped[str] = mapped_column(String(400), default="")
    resident_status: Mapped[str] = mapped_column(String(2), default="")
    valid_from: Mapped[date | None] = mapped_column(Date, nullable=True)


R = TypeVar("R", bound=AtenaReplicaMixin)


def _text(record: Mapping[str, object], key: str) -> str:
    value = record.get(key)
    return value if isinstance(value, str) else ""


def _joined(first: str, second: str) -> str:
    return f"{first}　{second}".strip("　")


def address_of(record: Mapping[str, object]) -> str:
    """住所 as the 住民票 writes it: 都道府県・市区郡町村・町字・番地号, then 方書 after a
    full-width space. A record with a ready-made `address` item (another vendor's feed) is
    taken as it is."""
    if isinstance(record.get("address"), str):
        return _text(record, "address")
    base = "".join(_text(record, k) for k in ADDRESS_ITEMS)
    katagaki = _text(record, "katagaki")
    return f"{base}　{katagaki}" if katagaki else base


def without_my_number(record: Mapping[str, str]) -> dict[str, str]:
    """The record as a replica may keep it: without the 個人番号 item (present, empty or
    filled). A 宛名 replica is a copy outside the provider's encryption; 個人番号 there would be
    plain text in a table a module searches and shows."""
    return {k: v for k, v in record.items() if k != MY_NUMBER_ITEM}


def typed_columns(record: Mapping[str, object]) -> dict[str, str]:
    """The replica's searchable columns of one record (each cut to its column's width). None
    is derived from 個人番号, and the item is never copied into one."""
    return {
        "name": _joined(_text(record, "family_name"), _text(record, "given_name"))[:200],
        "name_kana": _joined(_text(record, "family_name_kana"), _text(record, "given_name_kana"))[
            :200
        ],
        "birth_date": _text(record, "birth_date")[:20],
        "sex": _text(record, "sex")[:1],
        "address": address_of(record)[:400],
        "resident_status": _text(record, "status")[:2],
    }


def support_flag(record: Mapping[str, object]) -> bool | None:
    """The record's 支援措置 flag; None when it has none (a client without the scope never
    receives protected persons at all, so nothing is to be learnt then)."""
    value = record.get(FLAG_ITEM)
    if value in ("0", "1"):
        return value == "1"
    return None


def known_rows(uow: UnitOfWork, table: type[R], atena_numbers: Iterable[str]) -> dict[str, R]:
    """The replica rows of these persons, in bounded queries."""
    wanted = sorted(set(atena_numbers))
    found: dict[str, R] = {}
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        for row in uow.session.scalars(select(table).where(table.atena_number.in_(chunk))):
            found[row.atena_number] = row
    return found


def upsert(
    uow: UnitOfWork,
    table: type[R],
    known: dict[str, R],
    atena_number: str,
    record: Mapping[str, str] | None,
    *,
    protected: bool | None,
    seq: int,
    valid_from: date | None = None,
) -> R | None:
    """Apply one delivered state: `record` None = no longer published. Writes nothing when
    nothing changed (a re-run of the same page is cheap); returns the row (None: unknown person
    without a record, nothing to keep). The 個人番号 item is dropped before anything is kept
    (`without_my_number`), whoever calls this."""
    record = without_my_number(record) if record is not None else None
    row = known.get(atena_number)
    if row is None:
        if record is None:
            return None
        row = table()
        row.atena_number, row.record, row.seq = atena_number, dict(record), seq
        uow.session.add(row)
        known[atena_number] = row
    typed = typed_columns(record) if record is not None else {}
    changed = (
        (record is not None and row.record != dict(record))
        or row.gone != (record is None)
        or (protected is not None and row.protected != protected)
        or any(getattr(row, k) != v for k, v in typed.items())
        or (valid_from is not None and row.valid_from != valid_from)
    )
    if not changed and row.id is not None:
        return row
    if record is not None:
        row.record = dict(record)
        for key, value in typed.items():
            setattr(row, key, value)
    row.gone = record is None
    if protected is not None:
        row.protected = protected
    if valid_from is not None:
        row.valid_from = valid_from
    row.seq = seq
    row.updated_at = utcnow()
    return row
