"""The leases of the jobs one worker holds (`addon.jobs.worker`): a heartbeat renews them every
third of a lease while the jobs run, and stops a job whose lease was lost (another worker took
it over after this one stalled) or would run out before renewing could succeed (the renewal
failed, or hung for half a beat: the database out of reach; another worker may run it then).
A stopped job's outcome is left to whoever holds it next.

A job whose lease lapsed (its worker died or stalled: out of memory, say) is claimed again by
one worker at a time, and runs in a worker that holds no other such job, on its own (not with
others of its kind): if it is what kills its worker, the jobs beside it are not taken down with
it each time, and only it reaches `WORKER_MAX_LAPSES` (`jobs.lapses`, see the worker)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from addon.clock import Clock
from addon.config import Settings
from addon.db.engine import Database
from addon.jobs.repository import JobRepository, Renewal
from addon.jobs.schemas import ClaimedJob

logger = logging.getLogger("addon.jobs.worker")  # the worker's own messages


class Leases:
    """What one worker knows of its leases: when each runs out, as it last set it."""

    def __init__(
        self, db: Database, worker_id: str, clock: Clock, settings: Callable[[], Settings]
    ) -> None:
        self.db = db
        self.worker_id = worker_id
        self.clock = clock
        self.settings = settings  # read at each use: tests replace the services' settings
        # At most: counted from before the statement that set it.
        self.until: dict[int, datetime] = {}
        self._lapsed_in_hand: set[int] = set()  # jobs whose last run lapsed, running here
        self._looked_at: datetime | None = None  # the last claim that looked for such jobs
        self._looking = False  # this claim looks (`lapsed_due`)
        self._found = False  # and the last look found one: look again as soon as it ends

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings().worker_lease_seconds)

    def taken(self, jobs: list[ClaimedJob], until: datetime) -> None:
        """These jobs were claimed, their leases running until `until` (at the latest)."""
        self.until.update((job.id, until) for job in jobs)
        if self._looking:
            self._looking = False
            self._found = any(job.lapses for job in jobs)

    def lapsed_due(self) -> bool:
        """Whether this claim also looks for a job whose lease lapsed (a statement of its own,
        taking one such job): not while one runs here (see the module's docstring); once a
        poll interval, not at every claim (at a steady rate of webhooks, one claim per
        webhook), unless the last look found one (a dead worker's jobs are taken one after
        another). Such a job is taken at most one interval after its lease, by some worker."""
        if self._lapsed_in_hand:
            return False
        now, looked = self.clock.now(), self._looked_at
        interval = timedelta(seconds=self.settings().worker_poll_interval_seconds)
        if looked is not None and now - looked < interval and not self._found:
            return False
        self._looked_at, self._looking = now, True
        return True

    def running(self, job: ClaimedJob, task: asyncio.Task[None]) -> None:
        """The job runs in `task`, on its own; if its last run lapsed, this worker takes no
        other such job until the task ends."""
        if job.lapses:
            self._lapsed_in_hand.add(job.id)
            task.add_done_callback(lambda _: self._lapsed_in_hand.discard(job.id))

    async def heartbeat(
        self, held: dict[int, ClaimedJob], tasks: dict[int, asyncio.Task[None]]
    ) -> None:
        """Renew the leases of the jobs in `held` (those whose outcome is not written yet)
        every third of a lease, stopping their `tasks` as the module's docstring says."""
        while True:
            await self.clock.sleep(self._interval)
            now = self.clock.now()
            for job_id in [i for i, until in self.until.items() if until < now and i not in held]:
                # Its outcome was written (a job claimed but not started yet is not in `held`
                # either, but its lease runs on).
                del self.until[job_id]
            if held:
                await self._beat(held, tasks)

    @property
    def _interval(self) -> float:
        """Between beats."""
        return self.settings().worker_lease_seconds / 3

    async def _beat(
        self, held: dict[int, ClaimedJob], tasks: dict[int, asyncio.Task[None]]
    ) -> None:
        renewing = list(held.values())
        until = self.clock.now() + self.lease
        renewal = asyncio.ensure_future(self._renew(renewing))
        # A renewal that hangs (the database out of reach) is given up after half a beat.
        timeout = asyncio.ensure_future(self.clock.sleep(self._interval / 2))
        try:
            await asyncio.wait([renewal, timeout], return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            renewal.cancel()  # the heartbeat stops (no job left in hand, or shutdown)
            raise
        finally:
            timeout.cancel()
        if not renewal.done():
            renewal.cancel()
            logger.error("Renewing the leases of worker %s takes too long", self.worker_id)
        try:
            lost, gone = await renewal
        except (Exception, asyncio.CancelledError):
            # Tried again at the next beat, unless a lease runs out before that could end.
            if not renewal.cancelled():
                logger.exception("Could not renew the leases of worker %s", self.worker_id)
            self._stop_lapsed(held, tasks)
            return
        self.until.update((job.id, until) for job in renewing)
        for job in gone:
            # Erased with its installation (maybe by the job itself): nothing to renew, and
            # nobody else will run it; it ends on its own.
            held.pop(job.id, None)
        for job in lost:
            if held.pop(job.id, None) is None:
                continue  # its outcome was written meanwhile: nothing was lost
            logger.warning(
                "Job %s (%s) lost its lease (another worker took it over): stopping it",
                job.id,
                job.kind,
            )
            tasks[job.id].cancel()

    async def _renew(self, jobs: list[ClaimedJob]) -> Renewal:
        async with self.db.transaction() as session:
            return await JobRepository(session, self.clock).renew(self.worker_id, jobs, self.lease)

    def _stop_lapsed(
        self, held: dict[int, ClaimedJob], tasks: dict[int, asyncio.Task[None]]
    ) -> None:
        """Stop the jobs whose leases will have run out before the next beat's renewal could
        end (a beat, then half a beat of waiting for it)."""
        next_beat = self.clock.now() + timedelta(seconds=self._interval * 1.5)
        for job in list(held.values()):
            if self.until.get(job.id, next_beat) > next_beat:
                continue
            held.pop(job.id)
            logger.warning(
                "Job %s (%s): its lease runs out before it can be renewed (another worker may "
                "run it then): stopping it",
                job.id,
                job.kind,
            )
            tasks[job.id].cancel()
