"""The leases of the jobs one worker holds (`addon.jobs.worker`): a heartbeat renews them every
third of a lease while the jobs run, and stops a job whose lease was lost (another worker took
it over after this one stalled) or ran out while renewing failed (the database unreachable for
a whole lease: another worker may run it now). A stopped job's outcome is left to whoever holds
it next."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from addon.clock import Clock
from addon.config import Settings
from addon.db.engine import Database
from addon.jobs.repository import JobRepository
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

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings().worker_lease_seconds)

    def taken(self, jobs: list[ClaimedJob], until: datetime) -> None:
        """These jobs were claimed, their leases running until `until` (at the latest)."""
        self.until.update((job.id, until) for job in jobs)

    async def heartbeat(
        self, held: dict[int, ClaimedJob], tasks: dict[int, asyncio.Task[None]]
    ) -> None:
        """Renew the leases of the jobs in `held` (those whose outcome is not written yet)
        every third of a lease, stopping their `tasks` as the module's docstring says."""
        while True:
            await self.clock.sleep(self.settings().worker_lease_seconds / 3)
            for job_id in self.until.keys() - held.keys():
                del self.until[job_id]  # its outcome was written
            if held:
                await self._beat(held, tasks)

    async def _beat(
        self, held: dict[int, ClaimedJob], tasks: dict[int, asyncio.Task[None]]
    ) -> None:
        renewing = list(held.values())
        until = self.clock.now() + self.lease
        try:
            async with self.db.transaction() as session:
                lost, gone = await JobRepository(session, self.clock).renew(
                    self.worker_id, renewing, self.lease
                )
        except Exception:
            # Tried again at the next beat, unless a lease runs out before it.
            logger.exception("Could not renew the leases of worker %s", self.worker_id)
            self._stop_lapsed(held, tasks)
            return
        self.taken(renewing, until)
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

    def _stop_lapsed(
        self, held: dict[int, ClaimedJob], tasks: dict[int, asyncio.Task[None]]
    ) -> None:
        """Stop the jobs whose leases will have run out, unrenewed, by the next beat."""
        next_beat = self.clock.now() + self.lease / 3
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
