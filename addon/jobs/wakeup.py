"""Waking idle workers when work becomes due, instead of letting them poll.

A transaction that makes a job due (enqueue, a retry) calls `work_due(session)`: once it
commits, the workers of this process that use the same `Database` are woken at once (an
after-commit hook, never on rollback). On PostgreSQL it also sends `NOTIFY addon_jobs`, which
PostgreSQL delivers at commit to every `addon worker` process holding a `LISTEN` connection
(`listen`), so separate processes are woken too. Polling (`worker_poll_interval_seconds`)
stays as the fallback: a lost notification costs at most one poll interval.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from typing import Any

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncSession

from addon.clock import Clock
from addon.db.engine import Database, after_commit

logger = logging.getLogger(__name__)

CHANNEL = "addon_jobs"
RECONNECT_SECONDS = 1.0  # between attempts to re-open a dropped LISTEN connection


class Wakeup:
    """A generation counter that wakes its waiters when it moves.

    A waiter passes the generation it saw before it last looked for work, so a wake that came
    in between (while it was claiming) is not missed. Holds no asyncio object between waits:
    the futures are made per wait, on the running loop (tests run many loops in one process).
    """

    def __init__(self) -> None:
        self.generation = 0
        # Sent with this process's NOTIFYs, so that its own LISTEN connection ignores them:
        # the after-commit hook woke its workers already.
        self.token = uuid.uuid4().hex
        self._waiters: set[asyncio.Future[None]] = set()

    def notify(self) -> None:
        self.generation += 1
        for waiter in self._waiters:
            if not waiter.done() and not waiter.get_loop().is_closed():
                waiter.set_result(None)

    @property
    def waiting(self) -> int:
        """How many waits are pending (tests: the worker is idle)."""
        return sum(1 for waiter in self._waiters if not waiter.done())

    async def wait(self, seen: int) -> None:
        """Return once the generation differs from `seen` (at once if it already does)."""
        if self.generation != seen:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await waiter
        finally:
            self._waiters.discard(waiter)


_wakeups: weakref.WeakKeyDictionary[Database, Wakeup] = weakref.WeakKeyDictionary()


def wakeup_for(database: Database) -> Wakeup:
    """The process's wake-up for work committed through `database`."""
    wakeup = _wakeups.get(database)
    if wakeup is None:
        wakeup = _wakeups[database] = Wakeup()
    return wakeup


async def work_due(session: AsyncSession) -> None:
    """Wake the workers once this session's transaction commits (it made a job due)."""
    database = Database.of(session)
    if database is None:
        return  # a session of no Database (a script's own): the workers poll for it
    wakeup = wakeup_for(database)
    if after_commit(session, "jobs.wakeup", wakeup.notify) and not database.is_sqlite:
        # Delivered at commit, dropped on rollback; once per transaction is enough.
        await session.execute(
            text("SELECT pg_notify(:channel, :token)"),
            {"channel": CHANNEL, "token": wakeup.token},
        )


async def listen(database: Database, wakeup: Wakeup, clock: Clock) -> None:
    """Hold a `LISTEN` connection (PostgreSQL) that wakes `wakeup` on every notification;
    re-open it when it drops, until cancelled. The wakes of this process's own commits come
    from the after-commit hook already; this is for the other processes'."""
    import asyncpg  # type: ignore[import-untyped]  # only on PostgreSQL

    url = make_url(database.url).set(drivername="postgresql")
    dsn = url.render_as_string(hide_password=False)

    def on_notify(_connection: Any, _pid: int, _channel: str, payload: str) -> None:
        if payload != wakeup.token:  # another process's (this one's woke it at commit)
            wakeup.notify()

    while True:
        connection = None
        try:
            connection = await asyncpg.connect(dsn)
            closed = asyncio.get_running_loop().create_future()

            def on_close(_: Any, closed: asyncio.Future[None] = closed) -> None:
                if not closed.done():
                    closed.set_result(None)

            connection.add_termination_listener(on_close)
            await connection.add_listener(CHANNEL, on_notify)
            # Work may have been committed while there was no connection: look once.
            wakeup.notify()
            await closed
            logger.warning("The LISTEN connection closed; re-opening it")
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("The LISTEN connection failed; polling until it is back")
        finally:
            if connection is not None and not connection.is_closed():
                await asyncio.shield(connection.close(timeout=5))
        await clock.sleep(RECONNECT_SECONDS)
