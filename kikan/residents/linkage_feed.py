"""What the residents module publishes to 庁内データ連携: standard-layout person rows.

The linkage layer may not read this module's tables (import-linter keeps modules independent), so
the composition root (kikan.app) hands these readers to it. Each returns `(record, protected)`
pairs: `record` is one row of the 住民記録 `person` group (item code → string), exactly what
`kikan export standard` writes to person.csv, except that 個人番号 is empty. It leaves only
through `person_my_numbers`, which the linkage layer calls for clients entitled to it (the
`my_number` scope, マイナンバー利用事務系 only) with exactly the persons it delivers, after
its 支援措置 filter, and audits as My Number access. `protected` says whether a 支援措置
(or 仮支援措置) protects the person right now; the linkage layer decides who may see such
rows (it owns the per-client entitlement) and turns it into the `support_measure` item of
the records it sends to entitled clients.

Callers open and close the unit of work and audit what they deliver; these functions only read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased

from kikan.platform.crypto import KeyRing
from kikan.platform.types import TRUSTED
from kikan.platform.uow import UnitOfWork
from kikan.residents.domain import Snapshot
from kikan.residents.export import latest_snapshots, person_record
from kikan.residents.service import protected_among
from kikan.residents.store import CurrentRow, HistoryRow

FeedRow = tuple[dict[str, str], bool]


def _with_protection(uow: UnitOfWork, records: list[dict[str, str]]) -> list[FeedRow]:
    protected = protected_among(uow, [r["atena_number"] for r in records])
    return [(r, r["atena_number"] in protected) for r in records]


def person_page(uow: UnitOfWork, *, after: str, limit: int) -> list[FeedRow]:
    """Up to `limit` persons with 宛名番号 > `after` ("" = from the start), in 宛名番号 order:
    one keyset page of 全件 (連携区分 1)."""
    records = [person_record(snap) for snap in latest_snapshots(uow, after=after, limit=limit)]
    return _with_protection(uow, records)


def person_page_as_of(uow: UnitOfWork, *, after: str, limit: int, valid_on: date) -> list[FeedRow]:
    """One keyset page of 全件 as of `valid_on`: per person the history row in force that day
    as the register knows it now — the rule of `residents.service.read_as_of` (latest
    `valid_from` <= day, then highest 履歴番号; a cancelled 異動 and the cancelling row are
    ignored) — in one query with a window function instead of a read per person. Persons with
    no row in force yet (born or moved in later) are left out; a person removed by then comes
    with the removed status, as in the current 全件. 支援措置 is today's (who may see a record is
    decided now, whatever day it describes)."""
    h = HistoryRow
    cancelling = aliased(HistoryRow)
    ranked = (
        select(
            h.atena_number,
            h.snapshot,
            func.row_number()
            .over(
                partition_by=h.atena_number,
                order_by=(h.valid_from.desc(), h.history_no.desc()),
            )
            .label("rank"),
        )
        .where(
            h.tenant_code == uow.tenant,
            h.atena_number > after,
            h.valid_from <= valid_on,
            h.cancels_history_no.is_(None),
            ~exists().where(
                cancelling.tenant_code == h.tenant_code,
                cancelling.atena_number == h.atena_number,
                cancelling.cancels_history_no == h.history_no,
            ),
        )
        .subquery()
    )
    stmt = (
        select(ranked.c.snapshot)
        .where(ranked.c.rank == 1)
        .order_by(ranked.c.atena_number)
        .limit(limit)
    )
    records = [
        person_record(Snapshot.model_validate(snap, context=TRUSTED))
        for snap in uow.session.scalars(stmt)
    ]
    return _with_protection(uow, records)


def person_records(uow: UnitOfWork, atena_numbers: Sequence[str]) -> list[FeedRow]:
    """The current rows of these persons (unknown numbers are left out), for 差分 records."""
    wanted = sorted(set(atena_numbers))
    if not wanted:
        return []
    records: list[dict[str, str]] = []
    for start in range(0, len(wanted), 500):  # bounded IN lists
        chunk = wanted[start : start + 500]
        records += [person_record(snap) for snap in latest_snapshots(uow, atena_numbers=chunk)]
    return _with_protection(uow, records)


def person_my_numbers(
    uow: UnitOfWork, keyring: KeyRing, atena_numbers: Sequence[str]
) -> dict[str, str]:
    """The current 個人番号 (12 digits) of these persons, decrypted with `keyring` (context =
    the tenant, as the export does); persons without one, and unknown numbers, are left out.

    Only the stored token is read (the snapshot's `my_number_token`), not the whole snapshot.
    The current one, also for a 全件 as of a day: a 個人番号 identifies the person; a 変更請求
    replaces the old number, which no consumer should match on any more. The caller audits the
    delivery as My Number access; nothing here logs."""
    wanted = sorted(set(atena_numbers))
    token_of = HistoryRow.snapshot["my_number_token"].as_string()
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):  # bounded IN lists
        chunk = wanted[start : start + 500]
        stmt = (
            select(CurrentRow.atena_number, token_of)
            .select_from(CurrentRow)
            .join(
                HistoryRow,
                and_(
                    HistoryRow.tenant_code == CurrentRow.tenant_code,
                    HistoryRow.atena_number == CurrentRow.atena_number,
                    HistoryRow.history_no == CurrentRow.history_no,
                ),
            )
            .where(CurrentRow.atena_number.in_(chunk))
        )
        for atena, token in uow.session.execute(stmt):
            if token:
                found[atena] = keyring.decrypt_my_number(token, context=uow.tenant).reveal()
    return found
