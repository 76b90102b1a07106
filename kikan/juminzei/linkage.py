"""How 個人住民税 learns about persons: the linkage-consumer kit over HTTP (ADR 0012).

The module never imports the resident register nor 宛名管理: it reads them over 庁内データ連携
with this tenant's linkage client, exactly as another vendor's tax system would —

* the kit keeps `JuminzeiPersonRow` (the 宛名 replica) up to date (`kikan juminzei sync`);
* `as_of_records` reads the register *as of the 賦課期日* (`/linkage/full/residents?as_of=`), the
  list a 年度's taxpayers are matched against;
* `atena_query` opens 宛名管理's published interface (AtenaQuery: who is 宛名番号 X as of a day,
  and the 付番 API for 住登外課税) with the same client (scopes `atena.query`,
  `atena.fuban.010`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date

from kikan.juminzei import domain
from kikan.juminzei.module import FUNCTIONS
from kikan.juminzei.settings import JuminzeiSettings
from kikan.juminzei.store import JuminzeiLinkRow, JuminzeiPersonRow
from kikan.linkage import consumer as kit
from kikan.linkage.consumer import ClientOptions, Consumer, PersonChange
from kikan.linkage.consumer.atena import AtenaQuery
from kikan.linkage.consumer.sync import TOPIC
from kikan.platform import audit
from kikan.platform.uow import Database, Scope, UnitOfWork

SYNC_ACTOR = audit.Actor(kind="system", id="juminzei-sync")


def react(uow: UnitOfWork, changes: Sequence[PersonChange], /) -> Iterable[str]:
    """個人住民税 changes nothing when a person moves or dies during the year: the tax of a 年度
    follows the 賦課期日 (1月1日), which is read as of that day. The replica serves the current
    address for mail; this only counts who stopped being published."""
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
    scopes=(TOPIC, "support_measure", *domain.ATENA_SCOPES),
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
    """The register as it stood on `as_of` (the 賦課期日), read over HTTP with this tenant's
    client (`kikan juminzei connect`)."""
    return kit.as_of_records(
        db, CONSUMER, tenant, as_of, base_url=base_url, page_size=page_size, options=options
    )


@contextmanager
def atena_query(
    db: Database,
    tenant: Scope | str,
    base_url: str | None = None,
    options: ClientOptions | None = None,
) -> Iterator[AtenaQuery]:
    """宛名管理's published interface with this tenant's linkage client."""
    url, client_id, secret = kit.credentials(db, CONSUMER, tenant)
    opts = options or ClientOptions()
    with opts.client(base_url or url, client_id, secret) as api:
        yield AtenaQuery(api)
