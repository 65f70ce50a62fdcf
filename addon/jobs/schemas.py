"""What a job handler receives, and how it reports failures."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict


class ClaimedJob(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: int
    installation_id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    lapses: int = 0  # runs in a row before this one that ended without an outcome


Body = TypeVar("Body", bound=BaseModel)


class WebhookJob(BaseModel, Generic[Body]):
    """The payload of a `webhook.<slug>` job: Saleor's event name and its payload (the body
    the webhook inbox verified), typed by the handler's model of that payload."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    event: str = ""
    body: Body


class NoPayload(BaseModel):
    """The payload of a job kind that carries nothing (its handler reads what it needs)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class RetryLater(Exception):
    """Look again after `delay` seconds, never given up. Not a failure (e.g. to confirm what
    was seen, or a batch still running): the run is not counted among the job's attempts, so
    a job that waited many times still has all its attempts for a real failure. `counted`: a
    failure the kind never gives up on, backing off by its attempts (the next run's
    `job.attempts` is one more). Other failures are raised as they are; the kind's retry
    policy decides (`addon.jobs.retry`)."""

    def __init__(self, reason: str, delay: float, *, counted: bool = False) -> None:
        super().__init__(reason)
        self.delay = delay
        self.counted = counted


class PermanentFailure(Exception):
    """Retrying cannot help (bad data): quarantine now with this reason."""
