"""宛名管理's own settings (`KIKAN_ATENA_*`): the platform knows no module by name."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from kikan.linkage.consumer import ConsumerSettings


class AtenaSettings(ConsumerSettings):
    """`KIKAN_ATENA_SYNC_INTERVAL` and `KIKAN_ATENA_LINKAGE_URL` come from the consumer kit."""

    model_config = SettingsConfigDict(env_prefix="KIKAN_ATENA_", extra="ignore")

    sync_interval: float | None = Field(
        default=None, description="宛名管理: seconds between background 宛名 syncs (unset: off)"
    )
    linkage_url: str = Field(
        default="", description="宛名管理: linkage API base URL overriding the stored one"
    )
