"""The initial-sync API: start options and the progress answer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from addon.db.types import utcnow
from addon.ecommerce.channel_state import RunStatus
from addon.initial_sync.models import Phase


def _in_utc(value: datetime) -> datetime:
    # At the calendar's edges a moment with an offset has no UTC form ("0001-01-01T00:00+14:00"):
    # refused here, not failing at the insert with a 500.
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is outside the years 1 to 9999 in UTC") from None


def _not_in_future(value: datetime) -> datetime:
    # As `addon initial-sync --orders-since` refuses it: a sync that could send no order.
    if value > utcnow():
        raise ValueError("is in the future: no order would be sent")
    return value


class StartRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Only orders placed at or after this moment (products and customers are always sent).
    # With its offset: a time without one names no moment (refused with a 422).
    orders_since: (
        Annotated[AwareDatetime, AfterValidator(_in_utc), AfterValidator(_not_in_future)] | None
    ) = None


class KindProgress(BaseModel):
    kind: str
    total: int | None  # Saleor's totalCount, known once the first page was read
    read: int
    skipped: int  # unchanged since a live push, not sold in the channel, drafts, …
    sent: int
    confirmed: int
    quarantined: int
    retried: int  # handed to live sync (transient failures, newer live changes)
    rate_per_second: float | None
    eta_seconds: float | None
    state: str = Field(description="waiting | sending | confirming | done | stopped")
    state_label: str = Field(description='e.g. "Waits until every product is confirmed …"')


class StepRetry(BaseModel):
    """The sync's step as the worker retries it after failed runs (a Mailchimp or Saleor
    outage, say): the sync goes on once the service answers again, or fails with the error
    when the retries are given up."""

    attempts: int = Field(description="Runs of the step so far, the failed ones included")
    retry_at: datetime = Field(description="When it is tried again (or was: it may be running)")
    last_error: str


class InitialSyncRead(BaseModel):
    id: int
    channel: str
    status: RunStatus
    phase: Phase
    orders_since: datetime | None
    started_at: datetime
    finished_at: datetime | None
    error: str | None
    batches_in_flight: int
    kinds: list[KindProgress]
    retrying: StepRetry | None = Field(
        default=None,
        description="Set while a running sync waits for the retry of a failed step (e.g. "
        "Mailchimp or Saleor not answering)",
    )
    throttled_until: datetime | None = Field(
        default=None,
        description="Set while a running sync waits because Mailchimp asked the app to slow "
        "down (its 429, e.g. the account's 500 pending batches): when it goes on by itself "
        "(null while `retrying` is set)",
    )
    summary: str = Field(
        description="The status line, derived from the kinds' states only (e.g. \"Sending "
        'products and customers; orders wait until every product is confirmed.")'
    )
