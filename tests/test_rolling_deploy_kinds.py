"""A worker claims only the kinds of job it has a handler for (`HandlerRegistry.claimable`).

In a rolling deploy old and new `addon worker`s run side by side: the new version's web process
queues a job of a kind it added, and an old worker that claimed it quarantined it at once ("no
handler for job kind"), though a new worker would have run it a moment later."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from addon.capabilities import create_services
from addon.clock import ManualClock
from addon.config import Settings
from addon.installations.checks import schedule_check
from addon.jobs.models import Job, JobStatus
from addon.jobs.registry import HandlerRegistry
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob
from addon.jobs.statements import claim_statement
from addon.jobs.worker import Worker
from addon.services import Services
from tests.factories import make_installation, recorded_kind

NEW_KIND = "webhook.some-event-added-in-this-release"


async def test_an_old_worker_leaves_a_kind_it_does_not_know_to_a_new_one(
    services: Services, settings: Settings, outbound: Any
) -> None:
    ran: list[int] = []

    async def handler(job: ClaimedJob, _: Services) -> None:
        ran.append(job.id)

    old = create_services(settings, transport=outbound)  # the version before: no such kind
    old.db = services.db
    old.handlers.register("test.known", handler)
    services.handlers.register("test.known", handler)
    services.handlers.register(NEW_KIND, handler)  # the new version
    installation = await make_installation(services)
    async with services.db.transaction() as session:
        job_id = await JobRepository(session).enqueue(installation, NEW_KIND, {})
        known = await JobRepository(session).enqueue(installation, "test.known", {})
    assert await Worker(old, worker_id="old").run_until_idle() == 1  # the kind it knows
    assert ran == [known]
    async with services.db.session() as session:
        waiting = await session.get(Job, job_id)
    assert waiting is not None
    assert (waiting.status, waiting.attempts, waiting.last_error) == (JobStatus.PENDING, 0, None)

    assert await Worker(services, worker_id="new").run_until_idle() == 1
    assert ran == [known, job_id]
    async with services.db.session() as session:
        status = await session.scalar(select(Job.status).where(Job.id == job_id))
    assert status is JobStatus.DONE


async def test_a_paused_installation_still_gets_the_housekeeping_kinds_a_worker_knows(
    services: Services, settings: Settings
) -> None:
    """Housekeeping (the lifecycle check) runs while processing is paused, as before."""
    paused = await make_installation(services, active=False)
    async with services.db.transaction() as session:
        await schedule_check(session, settings, paused, soon=True)
        await JobRepository(session).enqueue(paused, "ecommerce.push", {})
        claimed = await JobRepository(session).claim(
            "w", 10, timedelta(seconds=30), claimable=services.handlers.claimable
        )
    assert [job.kind for job in claimed] == ["installation.check"]


def test_the_claim_condition_is_built_once_per_registry_and_shared_by_equal_ones() -> None:
    """The claim statements are built once, cached by the condition's identity (issue 15):
    a registry answers one condition until a kind is registered, and registries of the same
    kinds and pause condition (every process's, each test's) answer the same one."""

    async def handler(job: ClaimedJob, _: object) -> None: ...

    first: HandlerRegistry[Any] = HandlerRegistry()
    second: HandlerRegistry[Any] = HandlerRegistry()
    for registry in (first, second):
        registry.register("test.a", handler)
    condition = first.claimable
    assert first.claimable is condition and second.claimable is condition
    assert claim_statement(condition, False) is claim_statement(first.claimable, False)
    first.register("test.b", handler)
    assert first.claimable is not condition  # built again, with the new kind
    assert first.claimable is first.claimable


async def test_after_a_rollback_a_kind_no_worker_knows_stops_holding_its_lane(
    services: Services, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A newer version queued a job of a kind this one does not know, then was rolled back:
    no worker will ever run it, and each later job of its lane would wait behind it for good.
    Due for a day (longer than any rolling deploy, in which a new worker runs it at once), it
    is quarantined, saying why; the lane goes on, and Activity's Retry runs it once a version
    that knows its kind is deployed again."""
    ran = recorded_kind(services, "test.known")
    installation = await make_installation(services)
    async with services.db.transaction() as session:
        jobs = JobRepository(session)
        stranded = await jobs.enqueue(installation, NEW_KIND, {}, lane="contact:ann")
        behind = await jobs.enqueue(installation, "test.known", {}, lane="contact:ann")
    assert stranded is not None and behind is not None
    worker = Worker(services, worker_id="rolled-back")
    await worker.prune_if_due()  # due for less than a day: left alone
    assert await worker.run_until_idle() == 0  # the lane waits
    clock.advance(timedelta(hours=23).total_seconds())
    await worker.prune_if_due()
    assert await worker.run_until_idle() == 0

    clock.advance(timedelta(hours=1, seconds=1).total_seconds())
    quarantined = {"kind": NEW_KIND, "outcome": "quarantined"}
    before = REGISTRY.get_sample_value("saleor_mailchimp_jobs_total", quarantined) or 0.0
    await worker.prune_if_due()
    after = REGISTRY.get_sample_value("saleor_mailchimp_jobs_total", quarantined)
    assert after == before + 1  # counted as the worker's quarantines are
    assert await worker.run_until_idle() == 1
    assert ran == [behind]
    async with services.db.session() as session:
        job = await session.get(Job, stranded)
    assert job is not None and job.status is JobStatus.QUARANTINED
    assert f"kind '{NEW_KIND}'" in (job.last_error or "") and "retry" in (job.last_error or "")
    assert f"Job {stranded} ({NEW_KIND}) quarantined" in caplog.text

    ran_new = recorded_kind(services, NEW_KIND)  # the newer version, deployed again
    async with services.db.transaction() as session:
        assert await JobRepository(session).retry(installation, stranded) is not None
    assert await Worker(services, worker_id="new").run_until_idle() == 1
    assert ran_new == [stranded]
