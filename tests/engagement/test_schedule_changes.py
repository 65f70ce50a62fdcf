"""A changed schedule moves the pending periodic collection, and the page shows its real time."""

from __future__ import annotations

from sqlalchemy import select

from addon.engagement.jobs import PERIODIC_KEY
from addon.engagement.models import EngagementSettings
from addon.jobs.models import Job, JobStatus
from addon.jobs.statements import in_state
from addon.jobs.worker import Worker
from tests.engagement.conftest import ALICE, Engagement


async def _periodic_due(e: Engagement) -> object:
    async with e.services.db.session() as session:
        return await session.scalar(
            select(Job.run_after).where(
                Job.installation_id == e.installation_id,
                Job.coalesce_key == PERIODIC_KEY,
                in_state(JobStatus.PENDING),
            )
        )


async def test_shortened_schedule_runs_at_the_time_the_page_shows(e: Engagement) -> None:
    """Before, the pending periodic job was merged with plain `coalesce`, which keeps its
    original time: the page said "in 15 minutes" and the run came a day later."""
    await e.update_settings(activity_interval_days=30, schedule_minutes=1440)
    await e.collect()  # the next periodic run: a day from now
    e.clock.advance(60)
    run = await e.update_settings(activity_interval_days=30, schedule_minutes=15)
    shown = run.next_run_at
    assert shown is not None and shown <= e.at(minutes=15)
    assert shown == await _periodic_due(e)

    campaign = e.send("Flash sale", e.at(minutes=-1))
    e.activity(campaign, (ALICE, "open", e.at(seconds=-30)))
    e.clock.advance(16 * 60)
    await Worker(e.services).run_until_idle()

    async with e.services.db.session() as session:
        settings = await session.get(EngagementSettings, e.installation_id)
    assert settings is not None and settings.last_finished_at is not None
    assert settings.last_finished_at >= shown  # it ran by itself, as the page said


async def test_lengthened_schedule_shows_the_pending_runs_time(e: Engagement) -> None:
    """A longer schedule leaves the sooner pending run where it is; before, the page showed
    the new schedule's time, not the pending job's."""
    await e.update_settings(activity_interval_days=30, schedule_minutes=15)
    await e.collect()  # the next periodic run: 15 minutes from now
    due = await _periodic_due(e)
    e.clock.advance(60)
    run = await e.update_settings(activity_interval_days=30, schedule_minutes=1440)
    assert run.next_run_at == due == await _periodic_due(e)
