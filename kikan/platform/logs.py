"""Process-wide logging: one format, My Numbers redacted from every record, and no query strings
in the access log.

Why no query strings: a URL's query can carry personal data (a GET search for 氏名 and 生年月日,
a 宛名番号, a date of birth) that redaction by pattern cannot recognise. The access log keeps
the method, path and status, which is what operations need from it.
"""

from __future__ import annotations

import logging
import re

from kikan.platform.crypto import install_log_redaction

#: The access loggers of the servers Kikan runs under (uvicorn, also inside gunicorn workers).
ACCESS_LOGGERS = ("uvicorn.access",)
#: What stands in the access log where a query string was.
QUERY_OMITTED = "?…"
_QUERY = re.compile(r"\?[^\s\"]*")


def _without_query(value: object) -> object:
    if isinstance(value, str) and "?" in value:
        return _QUERY.sub(QUERY_OMITTED, value)
    return value


class DropQueryStrings(logging.Filter):
    """Rewrites an access-log record so no query string reaches a handler.

    uvicorn logs ``'%s - "%s %s HTTP/%s" %d'`` with the path and query as the third argument; a
    formatter may read ``args`` directly (uvicorn's AccessFormatter does), so the arguments are
    rewritten, not only the message. It never drops a record.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(_without_query(arg) for arg in record.args)
        else:
            record.msg = _without_query(record.msg)
        return True


def install_access_log_privacy() -> None:
    """Put `DropQueryStrings` on the access loggers (idempotent). A logger's own filters see
    every record logged on it, whatever handlers a server's logging configuration installs;
    call it from the application factory, which runs in every worker process."""
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, DropQueryStrings) for f in logger.filters):
            logger.addFilter(DropQueryStrings())


def protect_server_logs() -> None:
    """Redaction and the access-log filter for a server process. uvicorn's workers are fresh
    processes that never ran the CLI's `configure_logging`, so the application factory calls
    this in each of them (idempotent)."""
    install_log_redaction()
    install_access_log_privacy()


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLevelName(level.upper())))
    protect_server_logs()
