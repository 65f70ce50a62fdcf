"""A worker's hourly upkeep of the jobs table: done jobs forgotten after their retention, and
jobs of a kind no worker of the deployment runs quarantined (`JobRepository.quarantine_unknown`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import timedelta

from addon import metrics
from addon.clock import Clock
from addon.db.engine import Database
from addon.jobs.repository import JobRepository

logger = logging.getLogger(__name__)

RETENTION = timedelta(days=7)  # how long done jobs (and their delivery ids) are kept
EVERY = timedelta(hours=1)
# A job of a kind no worker here runs, due this long, is quarantined: longer than any rolling
# deploy, in which old workers see the new version's kinds for minutes.
UNKNOWN_KIND_AFTER = timedelta(hours=24)


class Upkeep:
    def __init__(self, db: Database, clock: Clock, kinds: Callable[[], Collection[str]]) -> None:
        self.db = db
        self.clock = clock
        self.kinds = kinds  # the kinds this worker runs (its registry's, read at each round)
        self._last = clock.now() - EVERY

    async def if_due(self) -> None:
        now = self.clock.now()
        if now - self._last < EVERY:
            return
        self._last = now
        async with self.db.transaction() as session:
            jobs = JobRepository(session, self.clock)
            await jobs.prune_finished(now - RETENTION)
            unknown = await jobs.quarantine_unknown(self.kinds(), now - UNKNOWN_KIND_AFTER)
        for job_id, kind in unknown:
            metrics.job_ended(kind, "quarantined")
            logger.error(
                "Job %s (%s) quarantined: no worker of this deployment runs its kind", job_id, kind
            )
