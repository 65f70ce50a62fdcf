"""Storing deliveries as jobs in group commits: one writer per database and process.

Each webhook waits until its job is durable before it is answered. Written one transaction
each, concurrent deliveries queue for the write (on SQLite one writer at a time) and each pays
its own BEGIN, INSERT and COMMIT. Here a delivery joins a queue; one task writes everything
queued in one transaction (the jobs added in one statement) and answers each delivery, while
the next deliveries queue for the next group. Under load the groups grow and each delivery's
share of the work shrinks; alone, a delivery is written at once, as before.

When the group's transaction fails, each of its deliveries is written again on its own, so one
bad delivery fails only itself. A delivery whose installation is gone (erased since its keys
were read) fails on the jobs' foreign key and is answered `InstallationGone`.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from addon.db.engine import Database
from addon.db.write_turn import urgent
from addon.installations.models import Installation
from addon.jobs.inserts import NewJob
from addon.jobs.repository import JobRepository

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
        with urgent():  # Saleor waits on these: they write before the worker's transactions
            await self._write_queued()

    async def _write_queued(self) -> None:
        while self._queue:
            group, self._queue = self._queue[:GROUP_LIMIT], self._queue[GROUP_LIMIT:]
            try:
                await self._write(group)
            except Exception as exc:
                if len(group) == 1:
                    await self._fail(group[0], exc)
                    continue
                # One delivery broke the group (its installation is gone, say): each alone.
                for queued in group:
                    await self._write_alone(queued)
            except BaseException:
                # Cancelled (the loop is closing): nobody will write these.
                for queued in [*group, *self._queue]:
                    if not queued.answer.done():
                        queued.answer.cancel()
                self._queue = []
                raise

    async def _write_alone(self, queued: _Queued) -> None:
        try:
            await self._write([queued])
        except Exception as exc:
            await self._fail(queued, exc)

    async def _fail(self, queued: _Queued, exc: Exception) -> None:
        if isinstance(exc, IntegrityError):
            try:
                if not await self._installed(queued.job):
                    exc = InstallationGone(queued.job.installation_id)
            except Exception:
                logger.exception(
                    "Could not tell whether installation %s is gone", queued.job.installation_id
                )
        if not queued.answer.done():
            queued.answer.set_exception(exc)

    async def _installed(self, job: NewJob) -> bool:
        async with self.database.session() as session:
            found = select(Installation.id).where(Installation.id == job.installation_id)
            return (await session.execute(found)).first() is not None

    async def _write(self, group: list[_Queued]) -> None:
        """One transaction; an erased installation fails it on the jobs' foreign key."""
        async with self.database.transaction() as session:
            ids = await JobRepository(session).enqueue_deduplicated(
                [queued.job for queued in group]
            )
        for queued, job_id in zip(group, ids, strict=True):
            if not queued.answer.done():
                queued.answer.set_result(job_id)


_intakes: weakref.WeakKeyDictionary[Database, Intake] = weakref.WeakKeyDictionary()


def intake_for(database: Database) -> Intake:
    """The process's intake for `database`."""
    intake = _intakes.get(database)
    if intake is None:
        intake = _intakes[database] = Intake(database)
    return intake
