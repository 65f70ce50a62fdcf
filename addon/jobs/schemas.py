"""What a job handler receives, and how it reports failures."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class ClaimedJob(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: int
    installation_id: int
    kind: str
    payload: dict[str, Any]
    attempts: int


class RetryLater(Exception):
    """Try again after `delay` seconds (e.g. Mailchimp asked us to slow down)."""

    def __init__(self, reason: str, delay: float) -> None:
        super().__init__(reason)
        self.delay = delay


class PermanentFailure(Exception):
    """Retrying cannot help (bad data): quarantine now with this reason."""
