"""How 戸籍の附票 learns about this city's residents: the linkage-consumer kit over HTTP (ADR 0012).

The module never imports the resident register: it pulls the 宛名 through 庁内データ連携 (全件,
then 差分, each page committed with its cursor), exactly as another vendor's system would. `react`
is the 住所地's duty of DOMAIN.md §4 seen from the 本籍地: a Japanese resident whose 本籍 is in
this city has their 附票 entry follow the register, in the page's transaction:

* 転入・転居 (or any change of 氏名, 住所, 住所を定めた年月日, 生年月日, 男女の別, 住民票コード):
  a new version of the entry (the former stays);
* a person whose 本籍 is here but who has no entry yet: the 附票 of their 戸籍 is found (or
  created: the register's 本籍・筆頭者 are the 戸籍's) and they are entered ("住民記録から記載",
  visible in the entry's source and reason for staff to check against the 戸籍);
* 本籍 moved away (転籍 out of the city): the entry is removed ("本籍の変更"); moved here: entered
  on the new 戸籍's 附票;
* 転出 (20) changes nothing here: the new 住所地 sends the 附票記載事項通知 after the 転入
  (the intake API). 死亡 and 消除 change nothing either: the 附票 entry is removed when the
  戸籍 removes the person (staff's 消除), not by the resident register.

Reactions are state-based (compare, then write only differences), so a 全件 resync is safe.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kikan.fuhyo import domain
from kikan.fuhyo.module import FUNCTIONS
from kikan.fuhyo.service import records
from kikan.fuhyo.settings import FuhyoSettings
from kikan.fuhyo.store import FuhyoLinkRow, FuhyoPersonRow
from kikan.linkage.consumer import Consumer, PersonChange
from kikan.platform import audit
from kikan.platform.context import Context
from kikan.platform.uow import UnitOfWork

SYNC_ACTOR = audit.Actor(kind="system", id="fuhyo-sync")

#: statuses whose address the 附票 follows (住民, 転出予定)
FOLLOWED = (domain.STATUS_RESIDENT, domain.STATUS_LEAVING)


def react(uow: UnitOfWork, changes: Sequence[PersonChange], /) -> Iterable[str]:
    ctx = Context(actor=SYNC_ACTOR)
    places: list[tuple[str, str]] | None = None
    labels: list[str] = []
    for change in changes:
        record = change.record
        if record is None or record.get("resident_kind") != domain.JAPANESE:
            continue
        if record.get("status") not in FOLLOWED:
            continue
        if places is None:
            places = records.own_places(uow)
        labels.extend(apply_person(uow, ctx, change, places))
    return labels


def _reason(change: PersonChange, changed: list[str]) -> str:
    """The history's reason: 転居 when the person was already a resident here, 転入 when they
    were not (the feed carries states, not 異動事由), else the items that changed."""
    if "address" in changed or "address_set_date" in changed:
        before = change.before or {}
        moved = "転居" if before.get("status") in FOLLOWED else "転入"
        return f"住所地からの反映（{moved}）"
    return f"住所地からの反映（記載事項の変更：{'・'.join(changed)}）"


def apply_person(
    uow: UnitOfWork, ctx: Context, change: PersonChange, places: list[tuple[str, str]]
) -> list[str]:
    """One delivered resident's consequences on the 附票 (a step of `react`)."""
    assert change.record is not None
    values = change.record
    honseki = domain.honseki_of(values)
    own = domain.is_own_honseki(honseki, places)
    labels: list[str] = []
    existing = records.entries_of_person(uow, atena_number=change.atena_number)
    for entry in existing:
        record = records.record_row(uow, entry.record_id, for_update=True)
        if own and honseki is not None and record.honseki_key == honseki.key:
            facts = domain.facts_of_feed(values, zaigai_note=entry.zaigai_note)
            changed = domain.changed_items(records.facts_of_row(entry), facts)
            if changed:
                records.write_entry(
                    uow,
                    ctx,
                    record,
                    facts,
                    entry_no=entry.entry_no,
                    source=domain.SOURCE_LINKAGE,
                    reason=_reason(change, changed),
                )
                _log(uow, change.atena_number, record.id, entry.entry_no, changed)
                labels.append("附票の記載の変更")
            own = False  # handled: the person is on their 戸籍's 附票
        else:
            records.write_entry(
                uow,
                ctx,
                record,
                records.facts_of_row(entry),
                entry_no=entry.entry_no,
                source=domain.SOURCE_LINKAGE,
                reason="本籍の変更（住民記録から）",
                removed_on=change.valid_from or ctx.today,
            )
            _log(uow, change.atena_number, record.id, entry.entry_no, ["removed"])
            labels.append("附票の記載の消除（本籍の変更）")
    if own and honseki is not None:
        target = records.open_record(uow, honseki)
        if target is None:
            target = records.new_record(uow, ctx, honseki, reason="住民記録から作成")
            labels.append("附票の作成")
        facts = domain.facts_of_feed(values)
        row = records.write_entry(
            uow,
            ctx,
            target,
            facts,
            entry_no=None,
            source=domain.SOURCE_LINKAGE,
            reason="住民記録から記載",
            atena_number=change.atena_number,
        )
        _log(uow, change.atena_number, target.id, row.entry_no, ["created"])
        labels.append("附票への記載")
    return labels


def _log(uow: UnitOfWork, atena: str, record_id: int, entry_no: int, items: list[str]) -> None:
    records.log(
        uow,
        SYNC_ACTOR,
        "fuhyo.audit.linkage",
        "update",
        subjects=[atena],
        detail={"record_id": record_id, "entry_no": entry_no, "items": items},
    )


CONSUMER = Consumer(
    name="fuhyo",
    title="戸籍の附票",
    link=FuhyoLinkRow,
    replica=FuhyoPersonRow,
    settings=FuhyoSettings,
    actor=SYNC_ACTOR,
    functions=FUNCTIONS,
    react=react,
    client_name="戸籍の附票システム",
)
