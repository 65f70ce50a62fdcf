"""Turns to write to a SQLite database, handed out inside the process.

SQLite lets one transaction write at a time and makes the others retry with growing sleeps
(its busy handler), so concurrent writers of one process fought for the lock and the unlucky
ones waited hundreds of milliseconds. Here a write transaction waits for its turn in the
process before it begins (its first statement, as SQLite's own lock is taken) and gives it
back when its connection returns to the pool (after its COMMIT or ROLLBACK has run), so each
waits only for the transactions ahead of it.

Turns go first come, first served, except that an urgent transaction (one a caller is waiting
on, such as storing a webhook Saleor waits for: `urgent()`) goes before the waiting ordinary
ones (the worker's). It waits for the transaction in hand only, never for a queue of them.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy.util import await_only

# How long a transaction waits for its turn (as long as SQLite's own busy timeout): a
# transaction opened inside another one of the same task would otherwise wait forever.
TIMEOUT_SECONDS = 30.0

_urgent: ContextVar[bool] = ContextVar("urgent_write", default=False)


@contextmanager
def urgent() -> Iterator[None]:
    """The write transactions begun in this block (this task's) go before ordinary ones."""
    token = _urgent.set(True)
    try:
        yield
    finally:
        _urgent.reset(token)


class WriteTurn:
    """The turns of one database in this process. Per event loop (tests run many loops in one
    process): a new loop starts afresh."""

    HELD = "addon.write_turn"  # connection info key: this connection holds the turn

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._held = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._ordinary: deque[asyncio.Future[None]] = deque()

    def _on(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start afresh on a new loop: nothing of the old one holds or waits."""
        if self._loop is not loop:
            self._loop, self._held = loop, False
            self._urgent.clear()
            self._ordinary.clear()

    @property
    def waiting(self) -> int:
        """How many transactions wait for a turn."""
        return sum(not turn.done() for turn in (*self._urgent, *self._ordinary))

    def take(self, info: dict[str, Any]) -> None:
        """Wait for the turn (called by SQLAlchemy's sync code, inside its greenlet), unless
        this connection holds it already (a second transaction before it was returned)."""
        if self.HELD not in info:
            await_only(self._acquire(_urgent.get()))
            info[self.HELD] = True

    def give_back(self, info: dict[str, Any]) -> None:
        if info.pop(self.HELD, None):
            self._pass_on()

    async def _acquire(self, urgent: bool) -> None:
        loop = asyncio.get_running_loop()
        self._on(loop)
        if not self._held:
            self._held = True
            return
        turn: asyncio.Future[None] = loop.create_future()
        queue = self._urgent if urgent else self._ordinary
        queue.append(turn)
        try:
            async with asyncio.timeout(TIMEOUT_SECONDS):
                await turn
        except BaseException as exc:
            if turn.done() and not turn.cancelled():
                self._pass_on()  # handed the turn as it gave up: hand it on
            elif turn in queue:
                queue.remove(turn)
            if isinstance(exc, TimeoutError):
                raise TimeoutError(
                    f"No turn to write to the database within {TIMEOUT_SECONDS:.0f} s"
                ) from None
            raise

    def _pass_on(self) -> None:
        """Hand the turn to the next waiter (urgent first), or free it."""
        for queue in (self._urgent, self._ordinary):
            while queue:
                turn = queue.popleft()
                if not turn.done():
                    turn.set_result(None)  # still held: it is the waiter's now
                    return
        self._held = False
