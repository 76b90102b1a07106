"""How 選挙人名簿管理 learns about residents: the linkage-consumer kit over HTTP (ADR 0012).

The module never imports the resident register. Two reads, both 庁内データ連携:

* the kit's sync keeps `ElectoralRollPersonRow` current and calls `react` with each page's
  異動: for a person on the living register, a 転出 (予定) becomes a 表示 with the move-out
  day, a 死亡, a 国籍喪失 or another 職権消除 an immediate 抹消, a return (転出の取消し) takes
  the 表示 back, and a new address re-derives the 投票区 — each a historied step;
* `as_of_records` reads the 全件 *as of a base date* (`GET /linkage/full/residents?as_of=`), so a
  roll is computed from the register as it stood that day, whenever it is computed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date

from kikan.electoral_roll import domain
from kikan.electoral_roll.module import FUNCTIONS
from kikan.electoral_roll.service import (
    STRUCK,
    add_history,
    district_table,
    person_columns,
    register_rows,
    strike_entry,
)
from kikan.electoral_roll.settings import ElectoralRollSettings
from kikan.electoral_roll.store import ElectoralRollLinkRow, ElectoralRollPersonRow
from kikan.linkage.consumer import ClientOptions, Consumer, PersonChange
from kikan.linkage.consumer import as_of_records as kit_as_of_records
from kikan.platform import audit
from kikan.platform.context import JST
from kikan.platform.db import utcnow
from kikan.platform.uow import Database, Scope, UnitOfWork

SYNC_ACTOR = audit.Actor(kind="system", id="electoral_roll-sync")


def _today() -> date:
    """処理日 in Japan (the platform's rule, `Context.today`), not the server's local day."""
    return utcnow().astimezone(JST).date()


def _effective(person: domain.Person, change: PersonChange) -> date:
    return (
        domain.latest_day(person.removal_date)
        or change.valid_from
        or domain.latest_day(person.move_out_planned_date)
        or _today()
    )


def react(uow: UnitOfWork, changes: Sequence[PersonChange], /) -> Iterable[str]:
    """表示 and 抹消 of the persons on the living register, from one page's 異動."""
    known = register_rows(uow, [c.atena_number for c in changes])
    if not known:
        return []
    labels: list[str] = []
    table: tuple[domain.DistrictRange, ...] | None = None
    actor = SYNC_ACTOR.id
    for change in changes:
        row = known.get(change.atena_number)
        if row is None or row.state == STRUCK:
            continue
        if change.record is None:  # no longer published: the 転入 was cancelled
            day = change.valid_from or row.registered_on
            strike_entry(uow, actor, row, "登録の誤り（住民票の記載の取消し）", day)
            labels.append("抹消")
            continue
        person = domain.Person.of(change.record)
        reason = domain.strike_reason(person)
        if reason is not None:
            strike_entry(uow, actor, row, reason, _effective(person, change))
            labels.append("抹消")
            continue
        moved_out = person.moved_out_on()
        if moved_out is not None and (row.state != domain.MARKED or row.moved_out != moved_out):
            rules = domain.rule_book().on(moved_out)
            row.state, row.moved_out = domain.MARKED, moved_out
            row.strike_on = domain.strike_on(moved_out, rules)
            kind = "転出予定" if person.status == domain.STATUS_LEAVING else "転出"
            add_history(uow, actor, row, "表示", moved_out, kind,
                        strike_on=row.strike_on.isoformat())  # fmt: skip
            labels.append("表示")
            continue
        if moved_out is None and row.state == domain.MARKED:
            row.state, row.moved_out, row.strike_on = domain.REGISTERED, None, None
            add_history(uow, actor, row, "表示の取消し", change.valid_from or _today(),
                        "転出の取消し")  # fmt: skip
            labels.append("表示の取消し")
        if (person.town, person.banchi) != (row.town, row.banchi) and moved_out is None:
            if table is None:
                table = district_table(uow)[1]
            before = row.district
            for name, value in person_columns(person, domain.district_of(
                    table, person.town, person.banchi)).items():  # fmt: skip
                setattr(row, name, value)
            if row.district != before:
                add_history(uow, actor, row, "投票区の変更", change.valid_from or _today(),
                            "転居", before=before, after=row.district)  # fmt: skip
                labels.append("投票区の変更")
    return labels


CONSUMER = Consumer(
    name="electoral_roll",
    title="選挙人名簿管理",
    link=ElectoralRollLinkRow,
    replica=ElectoralRollPersonRow,
    settings=ElectoralRollSettings,
    actor=SYNC_ACTOR,
    functions=FUNCTIONS,
    react=react,
    client_name="選挙人名簿管理システム",
)


def as_of_records(
    db: Database,
    tenant: Scope | str,
    as_of: date,
    *,
    base_url: str | None = None,
    page_size: int = 500,
    options: ClientOptions | None = None,
) -> Iterator[Mapping[str, str]]:
    """The register as it stood on `as_of`, person by person in 宛名番号 order, read page by page
    over HTTP with this tenant's linkage client (`kikan electoral_roll connect`)."""
    return kit_as_of_records(
        db, CONSUMER, tenant, as_of, base_url=base_url, page_size=page_size, options=options
    )
