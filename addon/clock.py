"""The process's clock: what time it is and how to wait.

Every timestamp the app stores comes from `addon.db.types.utcnow()`, which reads this clock, and
the worker waits (poll interval, lease heartbeat) through it. Production uses the system clock;
tests install a `ManualClock` with `use_clock` so that backoffs, leases and schedules only pass
when the test says so, whatever the machine's load.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta


class Clock:
    """The system clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))


class ManualClock(Clock):
    """A clock that moves only when told to (tests). `sleep` returns once `advance` has moved
    the time past its deadline."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)
        self._sleepers: list[tuple[datetime, asyncio.Future[None]]] = []

    def now(self) -> datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (self._now + timedelta(seconds=seconds), future)
        self._sleepers.append(entry)
        try:
            await future
        finally:
            if entry in self._sleepers:
                self._sleepers.remove(entry)

    def advance(self, seconds: float) -> None:
        self.set(self._now + timedelta(seconds=seconds))

    def set(self, when: datetime) -> None:
        """Move to `when` (never backwards) and wake every sleeper whose deadline has come."""
        if when < self._now:
            raise ValueError("a clock does not go backwards")
        self._now = when
        for deadline, future in list(self._sleepers):
            if deadline <= when and not future.done():
                future.set_result(None)

    def sleeping_until(self, when: datetime) -> bool:
        """Whether a sleep waits for the time to reach `when` or later (a test advances the
        clock once the sleep it means to end has begun: one begun after would wait on)."""
        return any(deadline >= when and not f.done() for deadline, f in self._sleepers)

    @property
    def sleepers(self) -> int:
        """How many sleeps are waiting for the time to move."""
        return sum(1 for _, future in self._sleepers if not future.done())


_clock: Clock = Clock()


def current_clock() -> Clock:
    return _clock


def use_clock(clock: Clock) -> None:
    """Install the process's clock (tests; production keeps the system clock)."""
    global _clock
    _clock = clock
