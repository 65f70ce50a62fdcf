"""The worker's continuous loop: up to `worker_batch_size` tasks in hand (a batch of jobs run
together counts by its size, see `slots`), more claimed as soon as one ends, so a long job (an
engagement collection, a slow Mailchimp batch) never holds up the rest of the queue behind it, as
a claim-a-batch-and-wait-for-all round did (the initial sync's steps waited minutes behind one
collection).

Each task's jobs stay in `held` until their outcome is written; one heartbeat renews their
leases for as long as the loop runs. A task that ends without writing its jobs' outcome (the
database failed while recording it) leaves them to their lease; at shutdown the tasks in hand
get the grace period, then those still running are stopped and their jobs released.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from addon.clock import Clock
from addon.config import Settings
from addon.jobs.schemas import ClaimedJob
from addon.jobs.wakeup import Wakeup

logger = logging.getLogger(__name__)

# A task of jobs run together (up to `worker.JOBS_TOGETHER`, 250) takes a slot of the worker's
# `worker_batch_size` per this many of its jobs: with the default 20 slots a worker holds two
# full batches at most. Counted as one slot each, one worker could take twenty batches (5,000
# webhooks) at once, leaving none to the other workers.
TOGETHER_PER_SLOT = 25


def slots(jobs: list[ClaimedJob]) -> int:
    """The slots a task holding these jobs takes."""
    return max(1, -(-len(jobs) // TOGETHER_PER_SLOT))


class FlowWorker(Protocol):
    """What the loop uses of `addon.jobs.worker.Worker`."""

    worker_id: str
    clock: Clock
    wakeup: Wakeup

    @property
    def settings(self) -> Settings: ...

    async def claim(self, limit: int) -> list[ClaimedJob]: ...

    def start(
        self,
        claimed: list[ClaimedJob],
        held: dict[int, ClaimedJob],
        tasks: dict[int, asyncio.Task[None]],
    ) -> list[asyncio.Task[None]]: ...

    async def heartbeat(
        self, held: dict[int, ClaimedJob], tasks: dict[int, asyncio.Task[None]]
    ) -> None: ...

    async def release(self, jobs: list[ClaimedJob], *, started: bool = True) -> None: ...

    async def prune_if_due(self) -> None: ...


class Flow:
    def __init__(self, worker: FlowWorker) -> None:
        self.worker = worker
        self.held: dict[int, ClaimedJob] = {}
        self.tasks: dict[int, asyncio.Task[None]] = {}  # by job id
        self.running: dict[asyncio.Task[None], list[ClaimedJob]] = {}  # by task
        self.stopped: list[ClaimedJob] = []  # to release
        self.heartbeat: asyncio.Task[None] | None = None

    async def run(self, stop: asyncio.Event) -> None:
        worker = self.worker
        try:
            while not stop.is_set():
                # Read before looking for work: a wake while claiming is not missed.
                seen = worker.wakeup.generation
                if self.stopped:
                    await self._release_stopped()
                free = worker.settings.worker_batch_size - sum(map(slots, self.running.values()))
                if free > 0 and await self._claim(free, stop) >= free:
                    continue  # more may be due, and some ran together: look again at once
                await self._wait(stop, seen)
            await self._stop()
        finally:
            tasks = [*self.running, *([self.heartbeat] if self.heartbeat else [])]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._rest()

    async def _claim(self, free: int, stop: asyncio.Event) -> int:
        """Claim and start up to `free` jobs (and those that run with them); how many."""
        try:
            claimed = await self.worker.claim(free)
        except Exception:
            # The database may be briefly unreachable: keep the worker alive.
            logger.exception("Worker round failed; retrying")
            return 0
        if stop.is_set():
            # The stop came while claiming (the claim may even hold jobs committed after it):
            # a stopping worker starts nothing new, another one runs them at once.
            await self.worker.release(claimed, started=False)
            return 0
        try:
            await self.worker.prune_if_due()
        except Exception:
            # Not a reason to leave the claimed jobs unstarted (they would wait out their
            # leases, an attempt counted): pruning comes round again.
            logger.exception("Pruning finished jobs failed; trying again later")
        for task in self.worker.start(claimed, self.held, self.tasks):
            self.running[task] = [job for job in claimed if self.tasks[job.id] is task]
            task.add_done_callback(self._ended)
        if self.running and self.heartbeat is None:
            # Only while jobs are in hand: an idle worker sleeps on nothing but its poll.
            self.heartbeat = asyncio.create_task(self.worker.heartbeat(self.held, self.tasks))
        return len(claimed)

    def _rest(self) -> None:
        """No job in hand: the heartbeat stops."""
        if self.heartbeat is not None:
            self.heartbeat.cancel()
            self.heartbeat = None

    def _ended(self, task: asyncio.Task[None]) -> None:
        jobs = self.running.pop(task, [])
        for job in jobs:
            self.tasks.pop(job.id, None)
            # Not written: stopped (the others of a batch one of which lost its lease) are
            # released; after a failure recording it, no more renewals: its lease lapses.
            if self.held.pop(job.id, None) is not None and task.cancelled():
                self.stopped.append(job)
        if not self.running:
            self._rest()
        if not task.cancelled() and (error := task.exception()) is not None:
            logger.error(
                "Worker task failed; its jobs are due again after their lease", exc_info=error
            )

    async def _wait(self, stop: asyncio.Event, seen: int) -> None:
        """Until work is committed (generation past `seen`), a task ends, the poll interval
        passes (the fallback) or the stop."""
        worker = self.worker
        waits = [
            asyncio.ensure_future(stop.wait()),
            asyncio.ensure_future(worker.wakeup.wait(seen)),
            asyncio.ensure_future(worker.clock.sleep(worker.settings.worker_poll_interval_seconds)),
        ]
        try:
            await asyncio.wait([*waits, *self.running], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()

    async def _stop(self) -> None:
        """The jobs in hand get the shutdown grace period; those still running are stopped
        and released (due at once for another worker, the attempt not counted)."""
        if not self.running:
            return
        worker = self.worker
        logger.info(
            "Worker %s stopping: %d job(s) in hand get %gs to end",
            worker.worker_id,
            len(self.held),
            worker.settings.worker_shutdown_grace_seconds,
        )
        grace = asyncio.ensure_future(
            worker.clock.sleep(worker.settings.worker_shutdown_grace_seconds)
        )
        try:
            while self.running and not grace.done():
                await asyncio.wait([grace, *self.running], return_when=asyncio.FIRST_COMPLETED)
                await asyncio.sleep(0)  # the ended tasks' callbacks run
        finally:
            grace.cancel()
        for task in list(self.running):
            task.cancel()
        await asyncio.gather(*self.running, return_exceptions=True)
        await asyncio.sleep(0)  # their callbacks run: the jobs in hand are `stopped`
        await self._release_stopped()

    async def _release_stopped(self) -> None:
        stopped, self.stopped = self.stopped, []
        if stopped:
            await self.worker.release(stopped)
