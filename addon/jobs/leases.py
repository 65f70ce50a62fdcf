"""The leases of the jobs one worker holds (`addon.jobs.worker`): a heartbeat renews them every
third of a lease while the jobs run, and stops a job whose lease was lost (another worker took
it over after this one stalled), or is about to run out unrenewed (`MARGIN` before its end: the
renewals fail, or hang, the database out of reach; another worker may run it then). A renewal
that is only slow (SQLite's write turn, a lock) is waited for as long as the leases allow, and
a failed one is tried again sooner than the next beat. A stopped job's outcome is left to
whoever holds it next.

Jobs whose lease lapsed (their worker died or stalled) are claimed again: at their first lapse in
a row as many as a claim takes (a worker is most often killed for reasons of its own: a deploy,
the machine), each run on its own (not with others of its kind); a job that lapsed again is a
suspect, taken one at a time by a worker that holds no other suspect, the fewest lapses first.
If one of them is what kills its worker (out of memory, say), the jobs beside it are not taken
down with it each time, and only it reaches `WORKER_MAX_LAPSES` (`jobs.lapses`, see the
worker).
"""

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
from addon.jobs.statements import Lapsed

logger = logging.getLogger("addon.jobs.worker")  # the worker's own messages

# A job's run after a lapse that makes it a suspect (see the module's docstring): `lapses` is
# counted at the claim, so its first lapse in a row runs with 1.
SUSPECT = 2


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
        self._suspects: set[int] = set()  # running here (see `lapsed_due`)
        self._looked_at: datetime | None = None  # the last claim that looked for lapsed jobs
        self._looking: frozenset[Lapsed] = frozenset()  # what this claim looks for
        # The last look for any found one (a suspect may wait): look again at the next claim.
        self._found = False

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings().worker_lease_seconds)

    @property
    def _interval(self) -> float:
        """Between beats."""
        return self.settings().worker_lease_seconds / 3

    @property
    def _margin(self) -> timedelta:
        """How long before its lease runs out, unrenewed, a job is stopped: another worker's
        claim looks for lapsed leases at any time after."""
        return timedelta(seconds=self._interval / 2)

    def taken(self, jobs: list[ClaimedJob], until: datetime) -> None:
        """These jobs were claimed, their leases running until `until` (at the latest)."""
        self.until.update((job.id, until) for job in jobs)
        found = any(job.lapses for job in jobs)
        if Lapsed.AGAIN in self._looking:
            self._found = found
        elif self._looking:
            self._found = self._found or found  # suspects were not looked for
        self._looking = frozenset()

    def lapsed_due(self) -> frozenset[Lapsed]:
        """Which jobs whose lease lapsed this claim looks for (`statements.Lapsed`): once a
        poll interval, not at every claim (a statement each; at a steady rate of webhooks, one
        claim per webhook), unless the last look found one (a dead worker's jobs are taken one
        after another); a suspect only while none runs here. Such a job is taken at most one
        interval after its lease, by some worker."""
        now, looked = self.clock.now(), self._looked_at
        interval = timedelta(seconds=self.settings().worker_poll_interval_seconds)
        waited = looked is None or now - looked >= interval
        if not waited and (self._suspects or not self._found):
            return frozenset()
        self._looked_at = now
        self._looking = frozenset({Lapsed.FIRST} if self._suspects else Lapsed)
        return self._looking

    def running(self, job: ClaimedJob, task: asyncio.Task[None]) -> None:
        """The job runs in `task`, on its own; a suspect keeps this worker from taking
        another until the task ends."""
        if job.lapses >= SUSPECT:
            self._suspects.add(job.id)
            task.add_done_callback(lambda _: self._suspects.discard(job.id))

    async def heartbeat(
        self, held: dict[int, ClaimedJob], tasks: dict[int, asyncio.Task[None]]
    ) -> None:
        """Renew the leases of the jobs in `held` (those whose outcome is not written yet)
        every third of a lease, stopping their `tasks` as the module's docstring says."""
        delay = self._interval
        while True:
            await self.clock.sleep(delay)
            now = self.clock.now()
            for job_id in [i for i, until in self.until.items() if until < now and i not in held]:
                # Its outcome was written (a job claimed but not started yet is not in `held`
                # either, but its lease runs on).
                del self.until[job_id]
            delay = self._interval
            if held and not await self._beat(held, tasks):
                delay /= 3  # tried again soon, while the leases still run

    async def _beat(
        self, held: dict[int, ClaimedJob], tasks: dict[int, asyncio.Task[None]]
    ) -> bool:
        """One renewal of every job in `held`; False: it failed (or hung until a lease was
        about to run out)."""
        renewing = list(held.values())
        until = self.clock.now() + self.lease
        renewal = asyncio.ensure_future(self._renew(renewing))
        timeout = asyncio.ensure_future(self.clock.sleep(self._time_left(renewing)))
        try:
            await asyncio.wait([renewal, timeout], return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            renewal.cancel()  # the heartbeat stops (no job left in hand, or shutdown)
            raise
        finally:
            timeout.cancel()
        if not renewal.done():
            logger.error("Renewing the leases of worker %s takes too long", self.worker_id)
            renewal.cancel()
            # Its clean-up (the connection invalidated); a cancel of the heartbeat itself
            # still reaches it here.
            await asyncio.wait([renewal])
        if renewal.cancelled() or (error := renewal.exception()) is not None:
            if not renewal.cancelled():
                logger.error(
                    "Could not renew the leases of worker %s", self.worker_id, exc_info=error
                )
            self._stop_lapsed(held, tasks)
            return False
        lost, gone = renewal.result()
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
        return True

    async def _renew(self, jobs: list[ClaimedJob]) -> Renewal:
        async with self.db.transaction() as session:
            return await JobRepository(session, self.clock).renew(self.worker_id, jobs, self.lease)

    def _deadline(self, job: ClaimedJob) -> datetime:
        """When the job is stopped if its lease is not renewed by then (`_margin`)."""
        return self.until.get(job.id, self.clock.now() + self.lease) - self._margin

    def _time_left(self, jobs: list[ClaimedJob]) -> float:
        """How long a renewal of `jobs` is waited for: until the first of them is due to stop
        (a slow renewal still renews them; one that hangs is given up in time)."""
        earliest = min(self._deadline(job) for job in jobs)
        return max(0.0, (earliest - self.clock.now()).total_seconds())

    def _stop_lapsed(
        self, held: dict[int, ClaimedJob], tasks: dict[int, asyncio.Task[None]]
    ) -> None:
        """Stop the jobs whose leases are about to run out, unrenewed (`_deadline`)."""
        now = self.clock.now()
        for job in list(held.values()):
            if self._deadline(job) > now:
                continue
            held.pop(job.id)
            logger.warning(
                "Job %s (%s): its lease is about to run out unrenewed (another worker may run "
                "it then): stopping it",
                job.id,
                job.kind,
            )
            tasks[job.id].cancel()
