"""Scheduling the per-installation lifecycle check (the job itself: `lifecycle.check_job`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from addon.config import Settings
from addon.db.types import utcnow
from addon.installations.models import LifecycleSignal
from addon.jobs.repository import JobRepository

CHECK_KIND = "installation.check"
# The periodic check and a check asked for now (after a refused call) are separate pending jobs:
# coalescing keeps the earlier schedule, which would hold a "now" back by up to an interval.
PERIODIC_KEY = CHECK_KIND
SOON_KEY = CHECK_KIND + ".soon"


class CheckPayload(BaseModel):
    signal: LifecycleSignal = LifecycleSignal.PERIODIC_CHECK


async def schedule_check(
    session: AsyncSession,
    settings: Settings,
    installation_id: int,
    *,
    soon: bool = False,
    signal: LifecycleSignal = LifecycleSignal.PERIODIC_CHECK,
    at: datetime | None = None,
) -> None:
    """Queue the installation's next check (merged into a pending one of the same schedule)."""
    now = utcnow()
    interval = timedelta(seconds=settings.installation_check_interval_seconds)
    run_after = now if soon else min(at or now + interval, now + interval)
    await JobRepository(session).enqueue(
        installation_id,
        CHECK_KIND,
        CheckPayload(signal=signal).model_dump(mode="json"),
        coalesce_key=SOON_KEY if soon else PERIODIC_KEY,
        run_after=run_after,
    )
