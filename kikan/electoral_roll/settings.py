"""選挙人名簿管理's own settings (`KIKAN_ELECTORAL_ROLL_*`); the platform knows no module."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from kikan.linkage.consumer import ConsumerSettings


class ElectoralRollSettings(ConsumerSettings):
    """`KIKAN_ELECTORAL_ROLL_SYNC_INTERVAL` and `_LINKAGE_URL` come from the consumer kit."""

    model_config = SettingsConfigDict(env_prefix="KIKAN_ELECTORAL_ROLL_", extra="ignore")

    page_size: int = Field(
        default=500, ge=1, le=1000, description="選挙人名簿管理: 基準日の全件を読む1頁の件数"
    )
