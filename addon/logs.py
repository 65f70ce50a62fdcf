"""Logging set-up. Secrets never reach a log: they travel as `SecretStr`, which prints masked,
and request lines lose their query values (an OAuth callback carries a code and a state)."""

from __future__ import annotations

import logging
import re

_QUERY_VALUE = re.compile(r"=([^&\s]*)")


def redact_query(path: str) -> str:
    """`/cb?code=abc&state=xyz` → `/cb?code=…&state=…`."""
    head, sep, query = path.partition("?")
    return head + sep + _QUERY_VALUE.sub("=…", query) if sep else path


class RedactQueryFilter(logging.Filter):
    """For uvicorn's access log, whose arguments are (client, method, path, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_query(args[2]), *args[3:])
        return True


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        force=True,
    )
    # httpx logs every request line at INFO; keep it for DEBUG runs only.
    logging.getLogger("httpx").setLevel(max(logging.getLevelName(level), logging.WARNING))
    logging.getLogger("uvicorn.access").addFilter(RedactQueryFilter())
