"""The initial-sync API: start options and the progress answer."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from addon.initial_sync.models import Phase, RunStatus


class StartRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Only orders placed at or after this moment (products and customers are always sent).
    orders_since: datetime | None = None


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
