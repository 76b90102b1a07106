"""What the residents module publishes to 庁内データ連携: standard-layout person rows.

The linkage layer may not read this module's tables (import-linter keeps modules independent), so
the composition root (kikan.app) hands these readers to it. Each returns `(record, protected)`
pairs: `record` is one row of the 住民記録 `person` group (item code → string), exactly what
`kikan export standard` writes to person.csv, except that 個人番号 is always empty — it never
leaves over linkage. `protected` says whether a 支援措置 (or 仮支援措置) protects the person right
now; the linkage layer decides who may see such rows (it owns the per-client entitlement) and
turns it into the `support_measure` item of the records it sends to entitled clients.

Callers open and close the unit of work and audit what they deliver; these functions only read.
"""

from __future__ import annotations

from collections.abc import Sequence

from kikan.platform.uow import UnitOfWork
from kikan.residents.export import latest_snapshots, person_record
from kikan.residents.service import protected_among

FeedRow = tuple[dict[str, str], bool]


def _with_protection(uow: UnitOfWork, records: list[dict[str, str]]) -> list[FeedRow]:
    protected = protected_among(uow, [r["atena_number"] for r in records])
    return [(r, r["atena_number"] in protected) for r in records]


def person_page(uow: UnitOfWork, *, after: str, limit: int) -> list[FeedRow]:
    """Up to `limit` persons with 宛名番号 > `after` ("" = from the start), in 宛名番号 order:
    one keyset page of 全件 (連携区分 1)."""
    records = [person_record(snap) for snap in latest_snapshots(uow, after=after, limit=limit)]
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
