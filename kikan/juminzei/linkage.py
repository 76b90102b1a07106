"""How 個人住民税 learns about residents: the linkage-consumer kit over HTTP (ADR 0012).

The module never imports the resident register: it pulls the 宛名 through 庁内データ連携 (全件,
then 差分, each page committed with its cursor), exactly as another vendor's system would. The
kit keeps `JuminzeiPersonRow` up to date; `react` is where the module's own consequences of a
delivered change go (in the page's transaction, never committing).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kikan.juminzei.module import FUNCTIONS
from kikan.juminzei.settings import JuminzeiSettings
from kikan.juminzei.store import JuminzeiLinkRow, JuminzeiPersonRow
from kikan.linkage.consumer import Consumer, PersonChange
from kikan.platform import audit
from kikan.platform.uow import UnitOfWork

SYNC_ACTOR = audit.Actor(kind="system", id="juminzei-sync")


def react(uow: UnitOfWork, changes: Sequence[PersonChange], /) -> Iterable[str]:
    """The module's consequences of one page's persons: one label per consequence (counted in
    the sync report). The example only names who stopped being published; replace it with the
    module's rules (e.g. a death ends an entitlement)."""
    return ["宛名の削除" for change in changes if change.record is None and change.before]


CONSUMER = Consumer(
    name="juminzei",
    title="個人住民税",
    link=JuminzeiLinkRow,
    replica=JuminzeiPersonRow,
    settings=JuminzeiSettings,
    actor=SYNC_ACTOR,
    functions=FUNCTIONS,
    react=react,
    client_name="個人住民税システム",
)
