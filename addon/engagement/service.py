"""What the Reports page and the Audiences page ask of engagement: a collection now, and the
activity interval and schedule settings."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.types import utcnow
from addon.engagement import store
from addon.engagement.jobs import periodic_due, schedule
from addon.engagement.models import RunState
from addon.engagement.repository import run_status
from addon.engagement.views import EngagementRun
from addon.errors import Unprocessable
from addon.jobs.completion import complete_in
from addon.jobs.registry import HandlerRegistry
from addon.jobs.schemas import ClaimedJob, NoPayload
from addon.services import Services

INTERVAL_DAYS = (1, 365)
SCHEDULE_MINUTES = (15, 1440)


async def request_sync(session: AsyncSession, installation_id: int) -> EngagementRun:
    """Queue a collection now; while one is queued or running, nothing more is queued."""
    settings = await store.settings_row(session, installation_id)
    if settings.state not in (RunState.QUEUED, RunState.RUNNING):
        if not await periodic_due(session, installation_id):
            await schedule(session, installation_id, now=True)
        settings.state = RunState.QUEUED
    await _start_schedule(session, installation_id)
    await session.flush()
    return await run_status(session, installation_id)


async def start(session: AsyncSession, installation_id: int) -> None:
    """Audiences were imported: collecting starts by itself (a first collection now, then the
    schedule) unless it has started already; nothing waits for the Reports page to be opened."""
    settings = await store.settings_row(session, installation_id)
    if settings.next_run_at is None:
        await request_sync(session, installation_id)


async def _start_schedule(session: AsyncSession, installation_id: int) -> None:
    settings = await store.settings_row(session, installation_id)
    if settings.next_run_at is None:
        settings.next_run_at = await schedule(
            session,
            installation_id,
            at=utcnow() + timedelta(minutes=settings.schedule_minutes),
        )


async def update_settings(
    session: AsyncSession,
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
    settings = await store.settings_row(session, installation_id)
    settings.activity_interval_days = activity_interval_days
    changed = settings.schedule_minutes != schedule_minutes or settings.next_run_at is None
    settings.schedule_minutes = schedule_minutes
    if changed:
        # The next periodic run follows the new schedule (merged into the pending one,
        # which keeps the earlier of the two times: `jobs.schedule`).
        settings.next_run_at = await schedule(
            session, installation_id, at=utcnow() + timedelta(minutes=schedule_minutes)
        )
    await session.flush()
    return await run_status(session, installation_id)


async def handle_audiences_imported(job: ClaimedJob, _: NoPayload, services: Services) -> None:
    """Handler of audiences' `audiences.imported` event job: see `start`."""
    async with services.db.transaction() as session:
        await start(session, job.installation_id)
        await complete_in(session)


def register(registry: HandlerRegistry[Services]) -> None:
    from addon.audiences.service import IMPORTED_KIND

    registry.register(IMPORTED_KIND, handle_audiences_imported, payload=NoPayload)
