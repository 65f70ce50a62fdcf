"""The worker: drains the jobs table with retries, backoff and quarantine.

On SQLite one worker runs inside the server process; on PostgreSQL any number of `addon worker`
processes run side by side, each claiming different rows (`FOR UPDATE SKIP LOCKED`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from addon.db.types import utcnow
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob, PermanentFailure, RetryLater

if TYPE_CHECKING:
    from addon.services import Services

logger = logging.getLogger(__name__)

JobHandler = Callable[[ClaimedJob, "Services"], Awaitable[None]]

RETENTION = timedelta(days=7)  # how long done jobs (and their delivery ids) are kept
PRUNE_EVERY = timedelta(hours=1)


class HandlerRegistry:
    """Job kind → handler. Each capability registers the kinds it processes."""

    def __init__(self) -> None:
        self._handlers: dict[str, JobHandler] = {}

    def register(self, kind: str, handler: JobHandler) -> None:
        if kind in self._handlers:
            raise ValueError(f"a handler for job kind {kind!r} is registered already")
        self._handlers[kind] = handler

    def get(self, kind: str) -> JobHandler | None:
        return self._handlers.get(kind)


def backoff_delay(attempts: int, base: float, maximum: float) -> float:
    """Exponential backoff with jitter: ~base·2^(n-1), capped, never below half of it."""
    delay = min(maximum, base * 2 ** max(0, attempts - 1))
    return float(delay * random.uniform(0.5, 1.0))


class Worker:
    def __init__(self, services: Services, *, worker_id: str | None = None) -> None:
        self.services = services
        self.settings = services.settings
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._last_prune = utcnow() - PRUNE_EVERY

    async def run_once(self) -> int:
        """Claim one batch of due jobs and process them; return how many were claimed."""
        async with self.services.db.transaction() as session:
            jobs = await JobRepository(session).claim(
                self.worker_id,
                self.settings.worker_batch_size,
                timedelta(seconds=self.settings.worker_lease_seconds),
            )
            claimed = [ClaimedJob.model_validate(job) for job in jobs]
        if claimed:
            await asyncio.gather(*(self._process(job) for job in claimed))
        return len(claimed)

    async def run_until_idle(self, max_rounds: int = 1000) -> int:
        """Process until nothing is due (tests and one-off runs)."""
        total = 0
        for _ in range(max_rounds):
            count = await self.run_once()
            if not count:
                break
            total += count
        return total

    async def run(self, stop: asyncio.Event) -> None:
        logger.info("Worker %s started", self.worker_id)
        while not stop.is_set():
            try:
                claimed = await self.run_once()
                await self._prune_if_due()
            except Exception:
                # The database may be briefly unreachable: keep the worker alive.
                logger.exception("Worker round failed; retrying")
                claimed = 0
            if not claimed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.settings.worker_poll_interval_seconds)
        logger.info("Worker %s stopped", self.worker_id)

    async def _process(self, job: ClaimedJob) -> None:
        handler = self.services.handlers.get(job.kind)
        try:
            if handler is None:
                raise PermanentFailure(f"no handler for job kind {job.kind!r}")
            await handler(job, self.services)
        except RetryLater as exc:
            await self._reschedule(job, str(exc), exc.delay)
        except PermanentFailure as exc:
            await self._quarantine(job, str(exc))
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            if job.attempts >= self.settings.worker_max_attempts:
                await self._quarantine(job, reason)
            else:
                logger.warning("Job %s (%s) failed, will retry: %s", job.id, job.kind, reason)
                delay = backoff_delay(
                    job.attempts,
                    self.settings.worker_backoff_base_seconds,
                    self.settings.worker_backoff_max_seconds,
                )
                await self._reschedule(job, reason, delay)
        else:
            async with self.services.db.transaction() as session:
                await JobRepository(session).complete(job.id, self.worker_id)

    async def _reschedule(self, job: ClaimedJob, reason: str, delay: float) -> None:
        async with self.services.db.transaction() as session:
            await JobRepository(session).reschedule(
                job.id, self.worker_id, reason, utcnow() + timedelta(seconds=delay)
            )

    async def _quarantine(self, job: ClaimedJob, reason: str) -> None:
        logger.error(
            "Job %s (%s) quarantined after %s attempts: %s", job.id, job.kind, job.attempts, reason
        )
        async with self.services.db.transaction() as session:
            await JobRepository(session).quarantine(job.id, self.worker_id, reason)

    async def _prune_if_due(self) -> None:
        now = utcnow()
        if now - self._last_prune < PRUNE_EVERY:
            return
        self._last_prune = now
        async with self.services.db.transaction() as session:
            await JobRepository(session).prune_finished(now - RETENTION)
