"""Process-wide logging: one format, and My Numbers redacted from every record."""

from __future__ import annotations

import logging

from kikan.platform.crypto import install_log_redaction


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLevelName(level.upper())))
    install_log_redaction()
