"""How 宛名管理 learns about residents: the linkage-consumer kit over HTTP (ADR 0012).

The module never imports the resident register: it pulls the 宛名 through 庁内データ連携 (全件,
then 差分, each page committed with its cursor), exactly as another vendor's system would. The
kit keeps `AtenaResidentRow` up to date; `react` turns each delivered person into 宛名管理's own
consequences, in the page's transaction:

* a changed name, birth date, sex or address becomes a new state (`atena_states`): history, the
  "as of" answer, and the candidate search over former names and addresses;
* **住民宛名番号引継ぎ**: a resident who moved out, died or was removed keeps the same 宛名番号
  as a 住登外者 (a 住登外者 entry under that number), so tax and insurance history stays on one
  number; a person who becomes a resident again under that number closes the entry;
* a new or changed resident is compared with the 住登外者 (one query per 100 persons of a
  page, and the page's states and entries read at once): plausible pairs
  go to the 名寄せ worklist, and the rules' automatic link happens here too;
* a 個人番号 delivered (clients with the `my_number` scope) is kept encrypted and gets the
  person's 団体内統合宛名番号.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kikan.atena import domain
from kikan.atena.module import FUNCTIONS
from kikan.atena.service import nayose, search
from kikan.atena.service.common import (
    SYNC_ACTOR,
    current_states,
    ensure_togo,
    identity,
    jutogai_rows,
    log,
    my_number_indexes,
    record_state,
    same_facts,
    store_my_number,
)
from kikan.atena.settings import AtenaSettings
from kikan.atena.store import (
    JUTOGAI,
    RESIDENT,
    AtenaLinkRow,
    AtenaResidentRow,
    JutogaiRow,
    StateRow,
)
from kikan.linkage.consumer import Consumer, PersonChange
from kikan.linkage.consumer.sync import TOPIC
from kikan.platform.context import Context
from kikan.platform.crypto import KeyRing, load_keyring
from kikan.platform.db import utcnow
from kikan.platform.settings import get_settings
from kikan.platform.uow import UnitOfWork

INHERIT_GYOMU = "031"

#: the keyring `react` encrypts delivered 個人番号 with. The kit's hook has no context of its
#: own, so it is loaded as every entry point loads it (`load_keyring`), once; `use_keyring`
#: sets it explicitly (tests, an embedding application).
_KEYRING: dict[str, KeyRing | None] = {}


def use_keyring(keyring: KeyRing | None) -> None:
    _KEYRING["ring"] = keyring


def _context() -> Context:
    if "ring" not in _KEYRING:
        _KEYRING["ring"] = load_keyring(get_settings())
    return Context(actor=SYNC_ACTOR, keyring=_KEYRING["ring"])


def react(uow: UnitOfWork, changes: Sequence[PersonChange], /) -> Iterable[str]:
    ctx = _context()
    labels: list[str] = []
    compare: list[tuple[str, domain.Facts]] = []
    numbers = [c.atena_number for c in changes if c.record is not None]
    states = current_states(uow, numbers)  # one read per page, not per person
    jutogais = jutogai_rows(uow, numbers)
    for change in changes:
        if change.record is None:
            continue
        record = change.record
        items = domain.items_of_resident(record)
        facts = domain.facts_of_items(items)
        number = change.atena_number
        state = states.get(number)
        jutogai = jutogais.get(number)
        left = domain.has_left(record)
        if left and (jutogai is None or not jutogai.active):
            labels.append(
                _inherit(uow, ctx, change, items=items, facts=facts, jutogai=jutogai, state=state)
            )
        elif not left:
            if jutogai is not None and jutogai.active:
                jutogai.active = False
                jutogai.updated_at, jutogai.updated_by = utcnow(), SYNC_ACTOR.id
                log(uow, SYNC_ACTOR, "atena.audit.register", "update", subjects=[number],
                    detail={"reason": "住民となったため住登外者の記録を終了"})  # fmt: skip
                labels.append("住登外者の終了")
            if state is None or state.source != RESIDENT or not same_facts(state, facts):
                record_state(uow, atena_number=number, source=RESIDENT, items=items,
                             facts=facts, valid_from=change.valid_from, version=change.seq,
                             operator=SYNC_ACTOR.id, reason=change.kind, known=state)  # fmt: skip
                compare.append((number, facts))
        if change.my_number is not None and ctx.keyring is not None:
            index = store_my_number(uow, ctx, number, change.my_number)
            ensure_togo(uow, ctx, number, JUTOGAI if left else RESIDENT, index)
    # new or changed residents against the 住登外者: one query per chunk of the page
    found = search.find_many(uow, compare, sources=[JUTOGAI])
    indexes = my_number_indexes(uow, [n for n, _f in compare]) if compare else {}
    for number, facts in compare:
        candidates = found.get(number, [])
        if number in indexes:  # a 個人番号 may find more (and allows an automatic link)
            candidates = search.find(uow, facts, my_number_index=indexes[number],
                                     exclude=[number], sources=[JUTOGAI])  # fmt: skip
        if candidates:
            labels.extend(nayose.offer_pairs(uow, ctx, number, candidates))
    return labels


def _inherit(
    uow: UnitOfWork,
    ctx: Context,
    change: PersonChange,
    *,
    items: dict[str, str],
    facts: domain.Facts,
    jutogai: JutogaiRow | None,
    state: StateRow | None,
) -> str:
    """住民宛名番号引継ぎ: the same 宛名番号 goes on as a 住登外者."""
    number = change.atena_number
    status = str(change.record.get("status", "")) if change.record else ""
    reason = f"住民宛名番号引継ぎ（{domain.LEFT_REASONS.get(status, '消除')}）"
    items = {**items, "gyomu_id": INHERIT_GYOMU}
    if jutogai is None:
        jutogai = JutogaiRow(
            tenant_code=uow.tenant,
            atena_number=number,
            version=1,
            origin="inherited",
            active=True,
            gyomu_id=INHERIT_GYOMU,
            items=items,
            valid_from=change.valid_from,
            created_by=SYNC_ACTOR.id,
            updated_by=SYNC_ACTOR.id,
        )
        uow.session.add(jutogai)
    else:
        jutogai.version += 1
        jutogai.items, jutogai.active, jutogai.valid_from = items, True, change.valid_from
        jutogai.updated_at, jutogai.updated_by = utcnow(), SYNC_ACTOR.id
    record_state(uow, atena_number=number, source=JUTOGAI, items=items, facts=facts,
                 valid_from=change.valid_from, version=jutogai.version,
                 operator=SYNC_ACTOR.id, reason=reason[:40], known=state)  # fmt: skip
    ident = identity(uow, number, JUTOGAI)
    ident.source = JUTOGAI
    log(uow, SYNC_ACTOR, "atena.audit.register", "create", subjects=[number],
        detail={"origin": "inherited", "reason": reason})  # fmt: skip
    return "住民宛名番号引継ぎ"


CONSUMER = Consumer(
    name="atena",
    title="宛名管理",
    link=AtenaLinkRow,
    replica=AtenaResidentRow,
    settings=AtenaSettings,
    actor=SYNC_ACTOR,
    functions=FUNCTIONS,
    react=react,
    client_name="宛名管理システム",
    # 個人番号 for 名寄せ and 団体内統合宛名 (マイナンバー利用事務系 only)
    scopes=(TOPIC, "support_measure", "my_number"),
)
