"""The activity API's response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from addon.jobs.models import JobStatus


class ActivityItem(BaseModel):
    id: int
    kind: str
    # "event": a Saleor webhook delivery; "job": work the app scheduled itself.
    category: Literal["event", "job"]
    summary: str
    status: JobStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    run_after: datetime
    finished_at: datetime | None
    can_retry: bool


class StatusCounts(BaseModel):
    pending: int = 0
    running: int = 0
    done: int = 0
    quarantined: int = 0


class ActivityList(BaseModel):
    items: list[ActivityItem]
    counts: StatusCounts
    status: JobStatus | None
    limit: int


class RetryResult(BaseModel):
    item: ActivityItem
    message: str
