"""Storing deliveries as jobs in group commits: one writer per database and process.

Each webhook waits until its job is durable before it is answered. Written one transaction
each, concurrent deliveries queue for the write (on SQLite one writer at a time) and each pays
its own BEGIN, installation check, INSERT and COMMIT. Here a delivery joins a queue; one task
writes everything queued in one transaction (the installations checked in one query, the jobs
added in one statement) and answers each delivery, while the next deliveries queue for the
next group. Under load the groups grow and each delivery's share of the work shrinks; alone,
a delivery is written at once, as before.

A delivery whose installation is gone is answered `InstallationGone`; when the group's
transaction fails, each of its deliveries is written again on its own, so one bad delivery
fails only itself.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass, field

from sqlalchemy import select

from addon.db.engine import Database
from addon.installations.models import Installation
from addon.jobs.repository import JobRepository, NewJob

logger = logging.getLogger(__name__)

GROUP_LIMIT = 200  # deliveries per transaction: bounds a group's statement and its wait


class InstallationGone(Exception):
    """The delivery's installation was erased before its job could be stored."""


@dataclass
class _Queued:
    job: NewJob
    answer: asyncio.Future[int | None] = field(repr=False)


class Intake:
    """The queue and writer of one database in this process (see the module's docstring).

    Holds no task while idle: a writer task starts with the first delivery of a quiet queue
    and ends when the queue is empty (tests run many event loops in one process)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._queue: list[_Queued] = []
        self._writer: asyncio.Task[None] | None = None

    async def store(self, job: NewJob) -> int | None:
        """Store `job` durably; answer its id, or None when its `dedupe_key` was stored before.
        Raises `InstallationGone`, or the database's error."""
        loop = asyncio.get_running_loop()
        queued = _Queued(job, loop.create_future())
        self._queue.append(queued)
        if self._writer is None or self._writer.done() or self._writer.get_loop() is not loop:
            self._writer = loop.create_task(self._write_all())
        # Shielded: a caller that goes away (client disconnect) does not stop the group.
        return await asyncio.shield(queued.answer)

    async def _write_all(self) -> None:
        while self._queue:
            group, self._queue = self._queue[:GROUP_LIMIT], self._queue[GROUP_LIMIT:]
            try:
                await self._write(group)
            except Exception as exc:
                if len(group) == 1:
                    self._fail(group[0], exc)
                    continue
                logger.warning("A group of %s deliveries failed; storing each alone", len(group))
                for queued in group:
                    try:
                        await self._write([queued])
                    except Exception as exc:
                        self._fail(queued, exc)
            except BaseException:
                # Cancelled (the loop is closing): nobody will write these.
                for queued in [*group, *self._queue]:
                    if not queued.answer.done():
                        queued.answer.cancel()
                self._queue = []
                raise

    @staticmethod
    def _fail(queued: _Queued, exc: Exception) -> None:
        if not queued.answer.done():
            queued.answer.set_exception(exc)

    async def _write(self, group: list[_Queued]) -> None:
        async with self.database.transaction() as session:
            # Erased since their keys were read? Only the ids: a row would decrypt its token.
            wanted = {queued.job.installation_id for queued in group}
            found = select(Installation.id).where(Installation.id.in_(wanted))
            present = set((await session.execute(found)).scalars())
            kept = [queued for queued in group if queued.job.installation_id in present]
            ids = await JobRepository(session).enqueue_deduplicated([queued.job for queued in kept])
        for queued, job_id in zip(kept, ids, strict=True):
            if not queued.answer.done():
                queued.answer.set_result(job_id)
        for queued in group:
            if queued.job.installation_id not in present and not queued.answer.done():
                queued.answer.set_exception(InstallationGone(queued.job.installation_id))


_intakes: weakref.WeakKeyDictionary[Database, Intake] = weakref.WeakKeyDictionary()


def intake_for(database: Database) -> Intake:
    """The process's intake for `database`."""
    intake = _intakes.get(database)
    if intake is None:
        intake = _intakes[database] = Intake(database)
    return intake
