"""庁内データ連携 (DOMAIN §8.2): PULL REST API for other standard systems.

Clients authenticate with `client_secret_jwt` (RFC 7523, HS256) and pull a tenant's change feed
(連携区分 2 差分) from the platform outbox. The module knows the platform, never other modules.
"""
