"""個人住民税's own settings (`KIKAN_JUMINZEI_*`): the platform knows no module by name."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from kikan.linkage.consumer import ConsumerSettings


class JuminzeiSettings(ConsumerSettings):
    """`KIKAN_JUMINZEI_SYNC_INTERVAL` and `KIKAN_JUMINZEI_LINKAGE_URL` come from the kit."""

    model_config = SettingsConfigDict(env_prefix="KIKAN_JUMINZEI_", extra="ignore")

    page_size: int = Field(
        default=500, ge=1, le=1000, description="個人住民税: 賦課期日の全件を読む1頁の件数"
    )
