"""Logging set-up. Secrets never reach a log: they travel as `SecretStr`, which prints masked."""

from __future__ import annotations

import logging


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        force=True,
    )
    # httpx logs every request line at INFO; keep it for DEBUG runs only.
    logging.getLogger("httpx").setLevel(max(logging.getLevelName(level), logging.WARNING))
