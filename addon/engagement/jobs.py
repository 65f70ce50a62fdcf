"""The collection job: run on a schedule (re-queued by each run for the next), and on demand.

Two pending jobs at most per installation: the periodic one and one asked for now (a "now"
merged into a periodic one an hour away would wait the hour: see installations/checks.py).
Two collections never run at once (the running job holds the run, `_take_run`; another looks
again a minute later; not a lane: a lane would hold the run asked for now behind the periodic
one scheduled later); the worker's retry policy retries
a failed run (it resumes where its last committed page left off) and, once it gives up, the
run is marked failed with a plain sentence and the next periodic run is queued anyway.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from addon.connection.service import NotConnected
from addon.db.repository import insert_for
from addon.db.types import utcnow
from addon.engagement import store
from addon.engagement.collector import Collector
from addon.engagement.models import EngagementSettings, RunState
from addon.jobs.completion import complete_in
from addon.jobs.models import Job, JobStatus
from addon.jobs.registry import HandlerRegistry
from addon.jobs.repository import JobRepository
from addon.jobs.retry import Failure, RetryPolicy
from addon.jobs.schemas import ClaimedJob, RetryLater
from addon.jobs.statements import in_state
from addon.mailchimp import MailchimpError
from addon.saleor.client import SaleorError
from addon.services import Services

logger = logging.getLogger(__name__)

COLLECT_JOB = "engagement.collect"
PERIODIC_KEY = COLLECT_JOB
NOW_KEY = COLLECT_JOB + ".now"
BUSY_RETRY_SECONDS = 60.0


class CollectRequest(BaseModel):
    requested: bool = False  # asked for now (the Reports page), not the schedule


async def schedule(
    session: AsyncSession, installation_id: int, *, at: datetime | None = None, now: bool = False
) -> datetime:
    """Queue a collection: now, or the periodic one at `at`; merged into a pending one, which
    keeps the sooner of the two times (a shortened schedule must bring the next run forward).
    Answers when the pending job runs: what the Reports page shows as the next run."""
    when = utcnow() if now or at is None else at
    job_id = await JobRepository(session).enqueue(
        installation_id,
        COLLECT_JOB,
        CollectRequest(requested=now).model_dump(),
        coalesce_key=NOW_KEY if now else PERIODIC_KEY,
        run_after=when,
        sooner=True,
    )
    due = await session.scalar(select(Job.run_after).where(Job.id == job_id))
    return due or when


async def periodic_due(session: AsyncSession, installation_id: int) -> bool:
    """Whether the periodic run is due already (a run asked for now would only repeat it)."""
    found = await session.scalar(
        select(Job.id).where(
            Job.installation_id == installation_id,
            Job.coalesce_key == PERIODIC_KEY,
            in_state(JobStatus.PENDING),
            Job.run_after <= utcnow(),
        )
    )
    return found is not None


async def _next(session: AsyncSession, installation_id: int) -> None:
    """Queue the next periodic run a schedule's length from now. A pending periodic run is
    moved there (a run just made makes it early), not merged (which keeps the earlier time)."""
    settings = await store.settings_row(session, installation_id)
    at = utcnow() + timedelta(minutes=settings.schedule_minutes)
    await session.execute(
        update(Job)
        .where(
            Job.installation_id == installation_id,
            Job.coalesce_key == PERIODIC_KEY,
            in_state(JobStatus.PENDING),
        )
        .values(run_after=at)
    )
    settings.next_run_at = await schedule(session, installation_id, at=at)


async def _take_run(services: Services, job: ClaimedJob) -> bool:
    """Make `job` the installation's running collection, unless another running job holds it.
    Of two jobs claimed together (the periodic one and one asked for now), the first to lock
    the settings row takes the run and the other finds it held; before, each found the other
    running, both were put off by the same minute, and so on for ever. A lock, then a read:
    one UPDATE whose condition reads the jobs would, on PostgreSQL, recheck a row another
    transaction changed meanwhile against the jobs it read before (and both would take it)."""
    async with services.db.transaction() as session:
        insert = insert_for(session.get_bind().dialect.name, EngagementSettings)
        await session.execute(  # the row, once (two first runs at once may both add it)
            insert.values(
                installation_id=job.installation_id, list_cursors={}
            ).on_conflict_do_nothing(index_elements=["installation_id"])
        )
        holder = await session.scalar(
            select(EngagementSettings.run_job_id)
            .where(EngagementSettings.installation_id == job.installation_id)
            .with_for_update()
        )
        if holder is not None and holder != job.id:
            running = await session.scalar(
                select(Job.id).where(  # the kind too: SQLite may give a purged job's id again
                    Job.id == holder,
                    Job.kind == COLLECT_JOB,
                    in_state(JobStatus.RUNNING),
                    Job.locked_until > utcnow(),
                )
            )
            if running is not None:
                return False
        await session.execute(
            update(EngagementSettings)
            .where(EngagementSettings.installation_id == job.installation_id)
            .values(run_job_id=job.id)
        )
    return True


async def handle_collect(job: ClaimedJob, request: CollectRequest, services: Services) -> None:
    if not await _take_run(services, job):
        raise RetryLater("Another engagement collection is running", BUSY_RETRY_SECONDS)
    figures = await Collector(services, job.installation_id).run()
    async with services.db.transaction() as session:
        settings = await store.settings_row(session, job.installation_id)
        settings.state = RunState.IDLE
        settings.last_finished_at = utcnow()
        settings.last_error = None
        settings.run_job_id = None
        await _next(session, job.installation_id)
        await complete_in(session)
    written = figures.written
    logger.info(
        "Engagement collected: %d Mailchimp pages, %d members seen, %d customers written",
        figures.mailchimp_pages,
        figures.members_seen,
        written.customers if written else 0,
    )


def _sentence(error: BaseException) -> str:
    if isinstance(error, NotConnected):
        return "Mailchimp is not connected. Connect it on the Connection page."
    if isinstance(error, MailchimpError):
        return f"Mailchimp did not answer as expected: {error}"[:1000]
    if isinstance(error, SaleorError):
        return f"Saleor did not answer as expected: {error}"[:1000]
    return "The collection stopped on an unexpected error; it is retried at the next run."


async def record_failure(
    session: AsyncSession, job: ClaimedJob, request: CollectRequest, failure: Failure
) -> None:
    settings = await store.settings_row(session, job.installation_id)
    settings.last_error = _sentence(failure.error)
    if failure.gave_up:
        settings.state = RunState.FAILED
        settings.last_finished_at = utcnow()
        await _next(session, job.installation_id)


def register(registry: HandlerRegistry[Services]) -> None:
    registry.register(
        COLLECT_JOB,
        handle_collect,
        payload=CollectRequest,
        retry=RetryPolicy(expected=(MailchimpError, SaleorError, NotConnected)),
        on_failure=record_failure,
    )


__all__ = ["COLLECT_JOB", "periodic_due", "register", "schedule"]
