"""庁内データ連携's own settings (`KIKAN_LINKAGE_*`): the platform knows no module by name.

The names are the operator interface (README, docs/linkage.md); `push_in_server` was a platform
field before ADR 0011 and kept its environment variable KIKAN_LINKAGE_PUSH_IN_SERVER.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class LinkageSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KIKAN_LINKAGE_", extra="ignore")

    push_in_server: bool = Field(
        default=True,
        description="With KIKAN_NATS_URL set, `kikan serve` also runs the push relay in the "
        "background (set false when a separate `kikan linkage push` worker does it).",
    )
