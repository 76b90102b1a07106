"""戸籍の附票's own settings (`KIKAN_FUHYO_*`): the platform knows no module by name."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from kikan.linkage.consumer import ConsumerSettings


class FuhyoSettings(ConsumerSettings):
    """`KIKAN_FUHYO_SYNC_INTERVAL` and `KIKAN_FUHYO_LINKAGE_URL` come from the consumer kit."""

    model_config = SettingsConfigDict(env_prefix="KIKAN_FUHYO_", extra="ignore")

    page_size: int = Field(default=100, ge=1, le=1000, description="戸籍の附票: 一覧の件数")
    #: 本籍 names this tenant also keeps 附票 for, besides its own name (tenant data):
    #: per 団体コード a list of "都道府県/市区町村名" (e.g. a name before a 合併 still written
    #: in 戸籍), as JSON:
    #: KIKAN_FUHYO_HONSEKI_NAMES='{"992011": ["架空県/旧日和町"]}'
    honseki_names: dict[str, list[str]] = Field(default_factory=dict)
