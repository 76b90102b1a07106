"""庁内データ連携 (DOMAIN §8.2): PULL REST API for other standard systems.

Clients authenticate with `client_secret_jwt` (RFC 7523, HS256) and pull a tenant's change feed
(連携区分 2 差分) from the platform outbox. The module knows the platform, never other modules.

Decisions of this slice: client ids carry the 団体コード (`<6 digits><26 hex>`) and access tokens
the same prefix, so a request finds its tenant without a cross-tenant table; access tokens live
10 minutes and only their SHA-256 is stored; assertion ids (`jti`) are single use until the
assertion's `exp`; persons under 支援措置 reach only clients with the `support_measure` scope.
全件 (連携区分 1) and the current records attached to each 差分 come from readers the composition
root registers (`register_full_provider`); `push` relays the outbox to NATS JetStream. The API
for other vendors is docs/linkage.md; the decisions are ADR 0006.
"""
