"""Configuration from `KIKAN_*` environment variables.

Operators and scripts outside the project depend on these names: add, never rename without a
deprecation path. Every setting has a safe default for the embedded (SQLite) demo.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_VAR_DIR = PROJECT_ROOT / "var"


class Settings(BaseSettings):
    """Runtime settings. Read once per process; tests build their own instances."""

    model_config = SettingsConfigDict(env_prefix="KIKAN_", extra="ignore")

    var_dir: Path = Field(
        default=DEFAULT_VAR_DIR, description="Directory for the embedded database and keys"
    )
    database_url: str = Field(
        default="",
        description="Application connection (SQLAlchemy URL). Default: SQLite file under var/.",
    )
    migration_database_url: str = Field(
        default="",
        description="Owner connection for `kikan db upgrade`; defaults to database_url.",
    )
    db_app_role: str = Field(
        default="kikan_app",
        description="PostgreSQL role the application connects as; granted table rights on upgrade.",
    )
    allow_rls_bypass: bool = Field(
        default=False,
        description="Allow the application to run as a role that bypasses row-level security "
        "(never in production; only for emergency maintenance).",
    )
    db_pool_size: int = Field(
        default=10, ge=1, description="Connections kept open per process (server worker)."
    )
    db_max_overflow: int = Field(
        default=5, ge=0, description="Extra connections a worker may open under load."
    )
    db_pool_timeout: float = Field(
        default=30.0, gt=0, description="Seconds a request waits for a free connection (then 503)."
    )
    mynumber_keys: str | None = Field(default=None, description='"kid:BASE64,kid2:BASE64"')
    mynumber_key_file: Path | None = Field(default=None, description="File with 'kid BASE64' lines")
    mynumber_active_key_id: str | None = None
    token_ttl_minutes: int = 60
    session_idle_minutes: int = 30
    session_absolute_minutes: int = 480
    lockout_threshold: int = Field(
        default=5,
        ge=1,
        description="Failed logins per account before backoff starts (no hard lock, see ADR 0009).",
    )
    lockout_minutes: int = Field(
        default=15, ge=1, description="Longest backoff wait of a throttled login, in minutes."
    )
    login_address_threshold: int = Field(
        default=50,
        ge=0,
        description="Failed logins per client address before backoff starts (0: off).",
    )
    verify_per_minute: int = Field(
        default=30,
        ge=1,
        description="Anonymous certificate verifications per client address and minute.",
    )
    cookie_secure: bool = True
    log_level: str = "INFO"
    environment: str = Field(default="development", description="development | production")
    nats_url: str = Field(
        default="",
        description="庁内データ連携の PUSH 先 NATS (JetStream), e.g. nats://127.0.0.1:4222. "
        "Empty: no push, the pull API only.",
    )
    nats_subject_prefix: str = Field(
        default="kikan", description="NATS subjects are <prefix>.<団体コード>.<topic>"
    )
    nats_stream: str = Field(default="KIKAN_LINKAGE", description="JetStream stream name")

    @property
    def engine_options(self) -> dict[str, Any]:
        """Pool settings for the application's engine. Each server worker runs at most
        pool_size + max_overflow blocking requests at once (see kikan.app), so requests queue
        in the worker instead of timing out on the pool."""
        return {
            "pool_size": self.db_pool_size,
            "max_overflow": self.db_max_overflow,
            "pool_timeout": self.db_pool_timeout,
        }

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'kikan.db'}"

    @property
    def effective_migration_url(self) -> str:
        return self.migration_database_url or self.effective_database_url

    @property
    def effective_key_file(self) -> Path:
        return self.mynumber_key_file or (self.var_dir / "mynumber.keys")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
