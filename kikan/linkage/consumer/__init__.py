"""The linkage-consumer kit (ADR 0012): what a module needs to keep its own 宛名 replica from
庁内データ連携 over HTTP, exactly as another vendor's system would.

The only part of `kikan.linkage` a business module may import (import-linter): it talks to the
provider over HTTP and never imports the provider's service, store or API. Pieces:
`client` (token, retry, 全件/差分/as-of/records), `replica` (table mixins, upsert), `sync`
(the `Consumer` a module declares, pages with a committed cursor, the background loop),
`cli` (`kikan <module> connect|sync`) and `api` (the link endpoints).
"""

from __future__ import annotations

from kikan.linkage.consumer.client import (
    LinkageClient,
    LinkageError,
    LinkageUnavailable,
    ResyncRequired,
    RetryPolicy,
)
from kikan.linkage.consumer.replica import (
    FLAG_ITEM,
    AtenaReplicaMixin,
    LinkStateMixin,
    typed_columns,
    without_my_number,
)
from kikan.linkage.consumer.sync import (
    Applied,
    ClientOptions,
    Consumer,
    ConsumerSettings,
    PersonChange,
    SyncReport,
    apply_change,
    apply_full,
    as_of_records,
    audit_sync,
    credentials,
    link,
    restart,
    save_link,
    sync_tenant,
)

__all__ = [
    "FLAG_ITEM",
    "Applied",
    "AtenaReplicaMixin",
    "ClientOptions",
    "Consumer",
    "ConsumerSettings",
    "LinkStateMixin",
    "LinkageClient",
    "LinkageError",
    "LinkageUnavailable",
    "PersonChange",
    "ResyncRequired",
    "RetryPolicy",
    "SyncReport",
    "apply_change",
    "apply_full",
    "as_of_records",
    "audit_sync",
    "credentials",
    "link",
    "restart",
    "save_link",
    "sync_tenant",
    "typed_columns",
    "without_my_number",
]
