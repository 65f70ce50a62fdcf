"""One retry mechanism: handlers register with a payload model and a retry policy, and the
worker owns retries, backoff, quarantine and the error text; a job whose row vanished with its
installation ends quietly."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from addon.capabilities import register_job_handlers
from addon.clock import ManualClock
from addon.installations.models import Installation
from addon.jobs.models import Job, JobStatus
from addon.jobs.registry import HandlerRegistry
from addon.jobs.repository import JobRepository, Renewal
from addon.jobs.retry import ERROR_TEXT_LIMIT, Failure, RetryPolicy
from addon.jobs.schemas import ClaimedJob, PermanentFailure
from addon.jobs.worker import Worker
from addon.services import Services
from tests.factories import make_installation

pytestmark = pytest.mark.usefixtures("clock")


class Greeting(BaseModel):
    name: str
    times: int = 1


class Refused(Exception):
    """A service's refusal, with the wait it asked for."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


async def enqueue(services: Services, installation_id: int, kind: str, payload: dict) -> int:  # type: ignore[type-arg]
    async with services.db.transaction() as session:
        job_id = await JobRepository(session).enqueue(installation_id, kind, payload)
    assert job_id is not None
    return job_id


async def row(services: Services, job_id: int) -> Job | None:
    async with services.db.session() as session:
        return await session.get(Job, job_id)


async def make_due(services: Services, clock: ManualClock) -> None:
    async with services.db.transaction() as session:
        await session.execute(
            update(Job).where(Job.status == JobStatus.PENDING).values(run_after=clock.now())
        )


async def test_a_typed_handler_gets_its_payload_and_a_bad_payload_is_quarantined_at_once(
    services: Services,
) -> None:
    installation = await make_installation(services)
    seen: list[Greeting] = []

    async def greet(job: ClaimedJob, payload: Greeting, _: Services) -> None:
        seen.append(payload)

    services.handlers.register("test.greet", greet, payload=Greeting)
    good = await enqueue(services, installation, "test.greet", {"name": "Ann", "times": 2})
    bad = await enqueue(services, installation, "test.greet", {"times": "many"})
    await Worker(services).run_until_idle()
    assert seen == [Greeting(name="Ann", times=2)]
    done, refused = await row(services, good), await row(services, bad)
    assert done is not None and done.status is JobStatus.DONE
    # Running it again cannot help: quarantined on the first attempt, saying why.
    assert refused is not None and (refused.status, refused.attempts) == (
        JobStatus.QUARANTINED,
        1,
    )
    assert "Invalid test.greet payload" in (refused.last_error or "")
    assert "name" in (refused.last_error or "")


async def test_the_kinds_policy_decides_and_its_hook_records_each_decision(
    services: Services, clock: ManualClock
) -> None:
    installation = await make_installation(services)
    decisions: list[tuple[str, int, bool]] = []

    async def fail(job: ClaimedJob, payload: Greeting, _: Services) -> None:
        raise Refused("Mailchimp refused " + payload.name + "!" * 3000)

    async def note(
        session: AsyncSession, job: ClaimedJob, payload: Greeting, failure: Failure
    ) -> None:
        # Same transaction as the job's outcome: the job row reads as already written.
        written = await session.get(Job, job.id)
        assert written is not None and written.last_error == failure.reason
        decisions.append((payload.name, failure.attempts, failure.gave_up))

    policy = RetryPolicy(max_attempts=2, backoff_base=10.0, backoff_max=10.0, expected=(Refused,))
    services.handlers.register("test.fail", fail, payload=Greeting, retry=policy, on_failure=note)
    job_id = await enqueue(services, installation, "test.fail", {"name": "Ann"})
    worker = Worker(services)
    await worker.run_until_idle()
    job = await row(services, job_id)
    assert job is not None and job.status is JobStatus.PENDING
    # Backoff 10 s with jitter: between half of it and all of it.
    assert (
        clock.now() + timedelta(seconds=5) <= job.run_after <= clock.now() + timedelta(seconds=10)
    )
    # An expected failure is described by its message, cut to the limit.
    assert job.last_error is not None and job.last_error.startswith("Mailchimp refused Ann!")
    assert len(job.last_error) == ERROR_TEXT_LIMIT
    await make_due(services, clock)
    await worker.run_until_idle()
    job = await row(services, job_id)
    assert job is not None and (job.status, job.attempts) == (JobStatus.QUARANTINED, 2)
    assert decisions == [("Ann", 1, False), ("Ann", 2, True)]


async def test_a_wait_the_service_asked_for_wins_and_unexpected_errors_name_their_type(
    services: Services, clock: ManualClock
) -> None:
    installation = await make_installation(services)

    async def throttled(job: ClaimedJob, _: Services) -> None:
        raise Refused("slow down", retry_after=600.0)

    async def buggy(job: ClaimedJob, _: Services) -> None:
        raise KeyError("missing")

    services.handlers.register("test.throttled", throttled, retry=RetryPolicy(expected=(Refused,)))
    services.handlers.register("test.buggy", buggy, retry=RetryPolicy(max_attempts=1))
    throttled_id = await enqueue(services, installation, "test.throttled", {})
    buggy_id = await enqueue(services, installation, "test.buggy", {})
    await Worker(services).run_until_idle()
    waiting, broken = await row(services, throttled_id), await row(services, buggy_id)
    assert waiting is not None and waiting.run_after == clock.now() + timedelta(seconds=600)
    assert waiting.last_error == "slow down"
    assert broken is not None and broken.status is JobStatus.QUARANTINED
    assert broken.last_error == "KeyError: 'missing'"


@pytest.mark.parametrize("asked", [float("inf"), 1e12, 10 * 86_400.0])
async def test_a_wait_the_service_asked_for_is_at_most_the_longest_backoff(
    services: Services, clock: ManualClock, asked: float
) -> None:
    """Before, the worker took any wait a refusal carried: an infinite or far too long one
    overflowed the retry's date, the job ended without an outcome and ran again once its lease
    lapsed, over and over; a wait of days held the record that long."""
    installation = await make_installation(services)

    async def throttled(job: ClaimedJob, _: Services) -> None:
        raise Refused("slow down", retry_after=asked)

    services.handlers.register("test.throttled", throttled, retry=RetryPolicy(expected=(Refused,)))
    job_id = await enqueue(services, installation, "test.throttled", {})
    await Worker(services).run_until_idle()
    waiting = await row(services, job_id)
    longest = timedelta(seconds=services.settings.worker_backoff_max_seconds)
    assert waiting is not None and waiting.status is JobStatus.PENDING
    assert (waiting.attempts, waiting.run_after) == (1, clock.now() + longest)


async def test_a_permanent_failure_reaches_the_hook_as_given_up(services: Services) -> None:
    installation = await make_installation(services)
    decisions: list[Failure] = []

    async def refuse(job: ClaimedJob, payload: Greeting, _: Services) -> None:
        raise PermanentFailure("bad data")

    async def note(session: AsyncSession, job: ClaimedJob, _: Greeting, failure: Failure) -> None:
        decisions.append(failure)

    services.handlers.register("test.refuse", refuse, payload=Greeting, on_failure=note)
    await enqueue(services, installation, "test.refuse", {"name": "Bo"})
    await Worker(services).run_until_idle()
    assert [(f.reason, f.attempts, f.gave_up) for f in decisions] == [("bad data", 1, True)]


def test_a_kind_is_registered_once() -> None:
    registry = HandlerRegistry()

    async def handler(job: ClaimedJob, _: Services) -> None:
        return None

    registry.register("test.once", handler)
    with pytest.raises(ValueError, match="registered already"):
        registry.register("test.once", handler)
    assert registry.get("test.once") is not None and registry.get("test.other") is None


async def erase(services: Services, installation_id: int) -> None:
    async with services.db.transaction() as session:
        await session.execute(delete(Installation).where(Installation.id == installation_id))


async def test_a_job_that_erases_its_own_installation_ends_quietly(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    installation = await make_installation(services)

    async def uninstall(job: ClaimedJob, services: Services) -> None:
        await erase(services, job.installation_id)  # its job row goes with it (cascade)

    services.handlers.register("test.uninstall", uninstall)
    job_id = await enqueue(services, installation, "test.uninstall", {})
    with caplog.at_level(logging.DEBUG, logger="addon.jobs.worker"):
        assert await Worker(services).run_until_idle() == 1
    assert await row(services, job_id) is None
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_the_heartbeat_stops_renewing_a_vanished_job_without_stopping_it(
    services: Services,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    installation = await make_installation(services)
    erased, resume, finished = asyncio.Event(), asyncio.Event(), asyncio.Event()
    beats: list[Renewal] = []
    beaten = asyncio.Event()
    renew = JobRepository.renew

    async def watched(self: JobRepository, *args: Any) -> Renewal:
        beats.append(await renew(self, *args))
        beaten.set()
        return beats[-1]

    monkeypatch.setattr(JobRepository, "renew", watched)

    async def uninstall(job: ClaimedJob, services: Services) -> None:
        await erase(services, job.installation_id)
        erased.set()
        await resume.wait()  # the heartbeat beats meanwhile
        finished.set()

    services.handlers.register("test.uninstall", uninstall)
    job_id = await enqueue(services, installation, "test.uninstall", {})
    with caplog.at_level(logging.DEBUG, logger="addon.jobs.worker"):
        running = asyncio.create_task(Worker(services).run_once())
        await erased.wait()
        clock.advance(services.settings.worker_lease_seconds / 3)
        await beaten.wait()
        resume.set()
        assert await running == 1
    assert [(len(b.lost), len(b.gone)) for b in beats] == [(0, 1)]
    assert finished.is_set()  # not cancelled as if another worker had taken it over
    async with services.db.session() as session:
        assert (await session.execute(select(Job).where(Job.id == job_id))).first() is None
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_every_job_kind_has_a_payload_model() -> None:
    registry = HandlerRegistry()
    register_job_handlers(registry)
    untyped = [
        kind
        for kind in registry.kinds()
        if (found := registry.registration(kind)) is not None and found.payload is None
    ]
    assert registry.kinds() and untyped == []
