"""The `jobs` table: verified webhook deliveries and the work they cause."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from addon.db.base import Base
from addon.db.types import StrEnumType, UTCDateTime, utcnow

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer, "sqlite")


# Upkeep scheduled by the app itself: it runs while the installation's processing is paused
# (the lifecycle check is what notices a reactivation or an uninstall when Saleor sends no
# webhook) and is not listed among the jobs a store admin sees (nothing there to act on).
# "installation.webhooks" keeps the installation's webhooks as the app's documents say
# ("installation.saleor_version_known" is its name in versions before, kept for jobs queued
# then). "installation.uninstall" cleans up in Mailchimp after an uninstall, then erases.
HOUSEKEEPING_KINDS = frozenset(
    {
        "installation.check",
        "installation.webhooks",
        "installation.saleor_version_known",
        "installation.uninstall",
    }
)


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    QUARANTINED = "quarantined"


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        # The same Saleor delivery arriving twice is stored (and processed) once.
        UniqueConstraint("installation_id", "dedupe_key"),
        # At most one pending job per coalescing key: later work merges into it.
        Index(
            "uq_jobs_pending_coalesce_key",
            "installation_id",
            "coalesce_key",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        # Each state a job waits in, in the order it is taken (migration 0019; a claim reads
        # pending jobs through it up to its limit, see `statements.NO_SORT`).
        *(
            Index(
                name,
                *keys,
                sqlite_where=text(f"status = '{status}'"),
                postgresql_where=text(f"status = '{status}'"),
            )
            for name, keys, status in (
                ("ix_jobs_due", ("run_after", "id"), "pending"),
                ("ix_jobs_lapsed", ("locked_until",), "running"),
                ("ix_jobs_finished", ("finished_at",), "done"),
            )
        ),
        Index("ix_jobs_lane", "installation_id", "lane", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # No index of its own: `ix_jobs_lane` starts with it (migration 0020).
    installation_id: Mapped[int] = mapped_column(ForeignKey("installations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[JobStatus] = mapped_column(StrEnumType(JobStatus), default=JobStatus.PENDING)
    dedupe_key: Mapped[str | None] = mapped_column(String(128), nullable=True)
    coalesce_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # Jobs sharing a lane run one at a time, in id order (e.g. all events of one order).
    lane: Mapped[str | None] = mapped_column(String(255), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Runs in a row that ended without an outcome (their lease lapsed): counted when such a
    # job is claimed again, cleared when a run writes one (`WORKER_MAX_LAPSES`, migration 0023).
    lapses: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
