"""The activity API's response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from addon.ecommerce.cart_health import ChannelHealth
from addon.explain import Action
from addon.installations.schemas import PausedWebhook
from addon.jobs.models import JobStatus


class Waiting(BaseModel):
    """Why a pending job has not run yet."""

    code: Literal["due", "scheduled", "retrying", "behind_job", "not_connected", "app_inactive"]
    message: str
    until: datetime | None = Field(None, description="When it is due (show in local time).")
    behind_job_id: int | None = None


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
    subject: str = Field("", description='The record in words, e.g. "Customer ann@example.com".')
    handled_by: str = Field("", description='The part of the app, e.g. "E-commerce sync".')
    reason: str | None = Field(None, description="Why it failed or waits, in one sentence.")
    action: Action | None = None
    details: str | None = Field(None, description="The technical text (the last error).")
    note: str | None = Field(None, description="Why rows that look alike are separate.")
    waiting: Waiting | None = None


class StatusCounts(BaseModel):
    pending: int = 0
    running: int = 0
    done: int = 0
    quarantined: int = 0


class SyncBacklog(BaseModel):
    """E-commerce changes not yet in Mailchimp, and how long they should take to get there."""

    waiting: int = Field(0, description="Pushes due and waiting for a worker.")
    in_batches: int = Field(0, description="Records sent in Mailchimp batches, not yet applied.")
    applied_last_minute: int = Field(
        0, description="Records brought up to date in the last minute."
    )
    drain_seconds: float | None = Field(
        None,
        description="Seconds the backlog should take at the last minute's pace (None: no pace).",
    )


class ActivityList(BaseModel):
    items: list[ActivityItem]
    counts: StatusCounts
    status: JobStatus | None
    limit: int
    backlog: SyncBacklog = Field(default_factory=SyncBacklog)
    cart_health: list[ChannelHealth] = Field(
        default_factory=list,
        description="Tracked channels whose abandoned-cart e-mails cannot fire (the E-commerce "
        "page's health, as last checked).",
    )
    paused_webhooks: list[PausedWebhook] = Field(
        default_factory=list,
        description="The app's webhooks a staff member paused in Saleor, as last checked: "
        "their events reach nobody.",
    )
    delivery_key_problem: str | None = Field(
        None,
        description="Which lifecycle webhooks the app's delivery key cannot be added to (their "
        "custom headers with it are more than Saleor allows, or one Saleor refuses), why and "
        "what to do, as last checked; None: nothing to do.",
    )


class RetryResult(BaseModel):
    item: ActivityItem
    message: str
