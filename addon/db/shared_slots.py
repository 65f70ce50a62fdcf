"""The Mailchimp concurrency cap across processes, on PostgreSQL (`addon.mailchimp.limits`).

Each account has `cap` slots, PostgreSQL session-level advisory locks `(account, slot)`
(two-int keys: a key space apart from the one-bigint locks). A process holds the slots it
uses on one connection of its own; PostgreSQL releases them when that connection ends, so a
crashed worker never keeps a slot. A slot is locked when a request of the account needs one
and none of this process is free, handed straight to the next waiting request of this process
when one ends (no round trip while it is busy), and unlocked once nobody here waits — or after
`HANDOVERS` uses in a row, so that a busy process cannot keep the others out.

While every slot is taken, one task per account looks again after a short, growing pause
(the waiting requests of this process queue behind it, they do not poll themselves).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import make_url

__all__ = ["SharedSlots"]

logger = logging.getLogger(__name__)

HANDOVERS = 16  # uses of a slot in a row before it goes back to every process
# The slots' connection: a statement that gets no answer (a connection dropped without a word,
# a failover) fails after this long instead of holding every request of the process; and
# PostgreSQL probes an idle connection, so that a vanished process's slots go back within
# about a minute (its locks end with its connection) instead of the system's two hours.
STATEMENT_SECONDS = 30.0
KEEPALIVES = {
    "tcp_keepalives_idle": "30",
    "tcp_keepalives_interval": "10",
    "tcp_keepalives_count": "3",
}
FIRST_LOOK = 0.005  # seconds before looking again for a free slot; doubles up to LAST_LOOK
LAST_LOOK = 0.2

# The first free slot not held here. CASE keeps the order (PostgreSQL may reorder an AND), so a
# slot held already is never locked twice (advisory locks are re-entrant); the Limit node pulls
# one row at a time, so at most one lock is taken.
LOCK_ONE = """
SELECT s FROM generate_series(0, $2 - 1) AS s
WHERE CASE WHEN s = ANY($3::int[]) THEN false ELSE pg_try_advisory_lock($1, s) END
LIMIT 1
"""
UNLOCK = "SELECT pg_advisory_unlock($1, $2)"


def account_lock_key(account_key: str) -> int:
    """A stable signed 32-bit key for an account (the first of the lock's two ints)."""
    digest = hashlib.blake2b(account_key.encode(), digest_size=4, person=b"mc-slots").digest()
    return int.from_bytes(digest, "big", signed=True)


@dataclass(frozen=True)
class Slot:
    """A slot locked on the connection of `generation` (a slot of a lost connection is no
    longer locked: it is neither handed on nor unlocked)."""

    generation: int
    number: int


@dataclass
class _Account:
    key: int
    in_use: set[int] = field(default_factory=set)
    uses: dict[int, int] = field(default_factory=dict)
    waiters: deque[asyncio.Future[Slot]] = field(default_factory=deque)
    looker: asyncio.Task[None] | None = None


class SharedSlots:
    """`AccountSlots` whose cap holds across every process sharing the PostgreSQL database."""

    def __init__(self, database_url: str, cap: int) -> None:
        if cap < 1:
            raise ValueError("the concurrency cap must be at least 1")
        self.cap = cap
        url = make_url(database_url).set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._accounts: dict[str, _Account] = {}
        self._connection: Any = None  # asyncpg.Connection, opened on first use
        self._talking: asyncio.Lock | None = None  # one statement at a time on it
        self._generation = 0  # connections lost so far

    @asynccontextmanager
    async def slot(self, account_key: str) -> AsyncIterator[None]:
        account = self._accounts.get(account_key)
        if account is None:
            account = self._accounts[account_key] = _Account(account_lock_key(account_key))
        held = await self._acquire(account)
        try:
            yield
        finally:
            await asyncio.shield(self._release(account, held))

    async def held(self) -> list[tuple[int, int]]:
        """The `(account key, slot)` locks this process's connection holds (tests)."""
        rows = await self._run(
            "SELECT classid::int, objid::int FROM pg_locks WHERE locktype = 'advisory' "
            "AND objsubid = 2 AND pid = pg_backend_pid() ORDER BY 1, 2",
            fetch="all",
        )
        return [(int(row[0]), int(row[1])) for row in rows or []]

    async def aclose(self) -> None:
        for account in self._accounts.values():
            if account.looker is not None:
                account.looker.cancel()
        self._accounts.clear()
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            await connection.close(timeout=5)

    # --- taking and giving back -----------------------------------------------------------------

    async def _acquire(self, account: _Account) -> Slot:
        waiter: asyncio.Future[Slot] = asyncio.get_running_loop().create_future()
        account.waiters.append(waiter)
        if account.looker is None or account.looker.done():
            account.looker = asyncio.create_task(self._look(account))
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                # Handed a slot just as it was cancelled: it goes on to the next one.
                await asyncio.shield(self._release(account, waiter.result(), used=False))
            else:
                # Still queued, unless a slot handed on has passed it already (it skips
                # cancelled turns): the cancellation goes on either way.
                with contextlib.suppress(ValueError):
                    account.waiters.remove(waiter)
            raise

    async def _release(self, account: _Account, held: Slot, *, used: bool = True) -> None:
        if held.generation != self._generation:
            return  # its connection ended, and PostgreSQL released it then
        number = held.number
        uses = account.uses.get(number, 0) + (1 if used else 0)
        if uses < HANDOVERS and self._hand(account, held):
            account.uses[number] = uses
            return
        account.in_use.discard(number)
        account.uses.pop(number, None)
        try:
            await self._run(UNLOCK, account.key, number)
        except Exception:
            # The connection is gone, and with it every lock it held: nothing to give back.
            logger.warning("Could not unlock a Mailchimp slot; its connection is gone")

    def _hand(self, account: _Account, held: Slot) -> bool:
        """Give a held slot to the next request of this process still waiting for one."""
        while account.waiters:
            waiter = account.waiters.popleft()
            if not waiter.done():
                waiter.set_result(held)
                return True
        return False

    async def _look(self, account: _Account) -> None:
        """Lock free slots for this process's waiting requests while any wait."""
        pause = FIRST_LOOK
        while any(not w.done() for w in account.waiters):
            generation = self._generation
            try:
                number = await self._run(LOCK_ONE, account.key, self.cap, sorted(account.in_use))
            except Exception:
                logger.warning("Could not take a Mailchimp slot from the database; trying again")
                number = None
            if generation != self._generation:
                number = None  # locked on a connection lost since: not held any more
            if number is None:
                await asyncio.sleep(pause)  # another process holds every slot (or no database)
                pause = min(pause * 2, LAST_LOOK)
                continue
            pause = FIRST_LOOK
            held = Slot(generation, int(number))
            account.in_use.add(held.number)
            account.uses[held.number] = 0
            if not self._hand(account, held):
                await self._release(account, held, used=False)

    # --- the connection -------------------------------------------------------------------------

    async def _run(self, statement: str, *args: Any, fetch: str = "val") -> Any:
        if self._talking is None:
            self._talking = asyncio.Lock()
        async with self._talking:
            connection = await self._connect()
            try:
                if fetch == "all":
                    return await connection.fetch(statement, *args)
                return await connection.fetchval(statement, *args)
            except Exception:
                if connection.is_closed():
                    self._lost()
                raise

    async def _connect(self) -> Any:
        if self._connection is not None and not self._connection.is_closed():
            return self._connection
        if self._connection is not None:
            self._lost()
        import asyncpg  # type: ignore[import-untyped]  # only on PostgreSQL

        self._connection = await asyncpg.connect(
            self._dsn, command_timeout=STATEMENT_SECONDS, server_settings=KEEPALIVES
        )
        return self._connection

    def _lost(self) -> None:
        """The connection ended: PostgreSQL released its locks, so the slots in use now are
        no one's; they are not unlocked again on the next connection."""
        self._connection = None
        self._generation += 1
        for account in self._accounts.values():
            account.in_use.clear()
            account.uses.clear()
