"""Initial-sync tables: one row per sync run of a channel, one per Mailchimp batch it submitted.

Both are account-scoped: they describe what was sent to one Mailchimp account's store.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from addon.connection.account_data import account_scoped
from addon.db.base import Base
from addon.db.types import StrEnumType, UTCDateTime, utcnow
from addon.ecommerce.channel_state import RunStatus


class Phase(StrEnum):
    """Kinds in the order Mailchimp needs them (orders reference products), then done."""

    PRODUCTS = "products"
    CUSTOMERS = "customers"
    ORDERS = "orders"
    DONE = "done"


class BatchStatus(StrEnum):
    QUEUED = "queued"  # operations to resend (failed transiently), not submitted yet
    # Being sent, or sent with an unknown outcome: Mailchimp may hold it under an id not known;
    # queued again once Mailchimp lists no unfinished batch it may be (`unknown.py`).
    UNKNOWN = "unknown"
    SUBMITTED = "submitted"  # Mailchimp has it; results not applied yet
    APPLIED = "applied"  # every operation's outcome is in the ledger


@account_scoped
class InitialSync(Base):
    """One initial sync of one channel; at most one is running per channel."""

    __tablename__ = "initial_syncs"
    __table_args__ = (
        Index("ix_initial_syncs_channel", "installation_id", "channel_slug"),
        # Set while running, NULL after (NULLs never conflict): one running sync per channel,
        # enforced by the database even when two starts race.
        UniqueConstraint("installation_id", "active_channel", name="uq_initial_syncs_active"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    installation_id: Mapped[int] = mapped_column(ForeignKey("installations.id", ondelete="CASCADE"))
    channel_slug: Mapped[str] = mapped_column(String(255))
    active_channel: Mapped[str | None] = mapped_column(String(255), nullable=True)
    status: Mapped[RunStatus] = mapped_column(StrEnumType(RunStatus), default=RunStatus.RUNNING)
    # The first kind not read completely (kinds are read side by side where they may be).
    phase: Mapped[Phase] = mapped_column(StrEnumType(Phase), default=Phase.PRODUCTS)
    # kind → {slices: [{start, end, cursor: Saleor's end cursor of the last page sent, done}],
    # done: every page of every slice was read} (see `slices`; before slices: {cursor, done})
    streams: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    orders_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Whether the Mailchimp store's is_syncing flag was set and not yet cleared.
    store_flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    # kind → {total, read, skipped, sent, confirmed, quarantined, retried}
    progress: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The watchdog's stall time counts from here; the end of a wait Mailchimp asked for (a 429's
    # Retry-After) may set it ahead of now (`Step._throttled`).
    last_progress_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When every batch was applied and the sync began waiting for the pushes it handed to live
    # sync (`handoff.py`); None before.
    draining_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


@account_scoped
class InitialSyncBatch(Base):
    """A Mailchimp batch of one sync, with what each operation means for the ledger."""

    __tablename__ = "initial_sync_batches"
    __table_args__ = (Index("ix_initial_sync_batches_sync", "sync_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    installation_id: Mapped[int] = mapped_column(ForeignKey("installations.id", ondelete="CASCADE"))
    sync_id: Mapped[int] = mapped_column(ForeignKey("initial_syncs.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    mailchimp_batch_id: Mapped[str] = mapped_column(String(64))  # "" while queued or unknown
    status: Mapped[BatchStatus] = mapped_column(
        StrEnumType(BatchStatus), default=BatchStatus.SUBMITTED
    )
    # operation id → {saleor_id, mailchimp_id, hash, children}
    operations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # When the Saleor pages were read: a live push after this is newer than the batch.
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When it was submitted (unknown: when the send began).
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    polls: Mapped[int] = mapped_column(Integer, default=0)
    next_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The operations as sent (zlib-compressed JSON), kept until applied to resend failed ones.
    bodies: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    # 1 for a first submission, n for the n-th time its operations are sent.
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
