"""What the Reports page and the Audiences page ask of engagement: a collection now, and the
activity interval and schedule settings."""

from __future__ import annotations

from datetime import timedelta

from addon.db.types import utcnow
from addon.engagement import store
from addon.engagement.jobs import periodic_due, schedule
from addon.engagement.models import RunState
from addon.engagement.repository import run_status
from addon.engagement.views import EngagementRun
from addon.errors import Unprocessable
from addon.services import Services

INTERVAL_DAYS = (1, 365)
SCHEDULE_MINUTES = (15, 1440)


async def request_sync(services: Services, installation_id: int) -> EngagementRun:
    """Queue a collection now; while one is queued or running, nothing more is queued."""
    async with services.db.transaction() as session:
        settings = await store.settings_row(session, installation_id)
        if settings.state not in (RunState.QUEUED, RunState.RUNNING):
            if not await periodic_due(session, installation_id):
                await schedule(session, installation_id, now=True)
            settings.state = RunState.QUEUED
        if settings.next_run_at is None:
            # The first collection also starts the schedule.
            settings.next_run_at = await schedule(
                session,
                installation_id,
                at=utcnow() + timedelta(minutes=settings.schedule_minutes),
            )
        await session.flush()
        return await run_status(session, installation_id)


async def update_settings(
    services: Services,
    installation_id: int,
    *,
    activity_interval_days: int,
    schedule_minutes: int,
) -> EngagementRun:
    """Change the activity update interval (days) and the schedule (minutes between runs)."""
    low, high = INTERVAL_DAYS
    if not low <= activity_interval_days <= high:
        raise Unprocessable(f"The activity update interval must be {low} to {high} days.")
    low, high = SCHEDULE_MINUTES
    if not low <= schedule_minutes <= high:
        raise Unprocessable(f"Collection must run every {low} to {high} minutes.")
    async with services.db.transaction() as session:
        settings = await store.settings_row(session, installation_id)
        settings.activity_interval_days = activity_interval_days
        changed = settings.schedule_minutes != schedule_minutes or settings.next_run_at is None
        settings.schedule_minutes = schedule_minutes
        if changed:
            # The next periodic run follows the new schedule (merged into the pending one,
            # which keeps the earlier of the two times).
            settings.next_run_at = await schedule(
                session, installation_id, at=utcnow() + timedelta(minutes=schedule_minutes)
            )
        await session.flush()
        return await run_status(session, installation_id)
