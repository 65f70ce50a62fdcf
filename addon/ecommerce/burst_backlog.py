"""What the Activity page shows of live sync's backlog: pushes waiting for a worker, records
at Mailchimp in bursts' batches, and the pace at which records are brought up to date."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.types import utcnow
from addon.ecommerce.burst_queue import backlog
from addon.ecommerce.models import BurstBatch, SyncRecord


class Backlog(BaseModel):
    """Pushes waiting for a worker, records at Mailchimp in batches, and the pace: records
    brought up to date in the last minute."""

    waiting: int
    in_batches: int
    applied_last_minute: int


async def backlog_of(session: AsyncSession, installation_id: int) -> Backlog:
    waiting = await backlog(session, installation_id)
    rows = await session.scalars(
        select(BurstBatch.records).where(BurstBatch.installation_id == installation_id)
    )
    in_batches = sum(len(records or {}) for records in rows)
    since = utcnow() - timedelta(minutes=1)
    applied = await session.scalar(
        select(func.count())
        .select_from(SyncRecord)
        .where(SyncRecord.installation_id == installation_id, SyncRecord.pushed_at >= since)
    )
    return Backlog(waiting=waiting, in_batches=in_batches, applied_last_minute=int(applied or 0))


__all__ = ["Backlog", "backlog_of"]
