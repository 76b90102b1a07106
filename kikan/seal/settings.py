"""印鑑登録's own settings (`KIKAN_SEAL_*`): the platform knows no module by name.

The names are the operator interface (README); they were platform fields before ADR 0011 and
kept their environment variables. The fields are the linkage-consumer kit's (ADR 0012).
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from kikan.linkage.consumer import ConsumerSettings


class SealSettings(ConsumerSettings):
    model_config = SettingsConfigDict(env_prefix="KIKAN_SEAL_", extra="ignore")

    sync_interval: float | None = Field(
        default=None,
        description="印鑑登録: seconds between background 宛名 syncs (unset: off)",
    )
    linkage_url: str = Field(
        default="", description="印鑑登録: linkage API base URL overriding the stored one"
    )
