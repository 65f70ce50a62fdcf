"""A process's burst slots (`burst.BURSTS_AT_ONCE`), and the push jobs waiting for one.

A worker claims up to `worker_batch_size` push jobs at once, more than the bursts it may run:
the others wait for a slot. Had each waited to lead a burst of its own, the leaders would by
then have taken the backlog over (a running job is never taken over), so each would find
nothing left and push its one record alone, after every batch: in a 10,000-update drain 13
of the 33 push jobs one worker ran went alone, and 30 of 50 with two workers, each a Saleor
read and a Mailchimp request of its own, the last records to reach Mailchimp. Instead a job
waiting for a slot lets the next burst of its process, of its installation, channel and
kind, carry its record (`adopt`): the job then ends, its record's outcome recorded by that
batch like those of the records taken over from the queue.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from addon.db.engine import Database
from addon.ecommerce.models import EntityKind

Scope = tuple[int, str, EntityKind]  # installation, channel, kind: what one batch carries


@dataclass(eq=False)
class Waiting:
    """A push job waiting for a burst slot. `carried` is set by a burst that adopted it: True
    once its record is in that burst's batch row (committed), False if that burst failed
    before (the job waits again)."""

    scope: Scope
    saleor_id: str
    carried: asyncio.Future[bool] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class BurstSlots:
    """One event loop's (one process's) burst slots and the jobs waiting for them."""

    def __init__(self, at_once: int) -> None:
        self._slots = asyncio.Semaphore(at_once)
        self._waiting: list[Waiting] = []
        self._leading: Counter[Scope] = Counter()  # slots held, by the scope of their burst

    @property
    def waiting(self) -> int:
        """How many jobs wait for a slot (the Activity page's figures do not need it; tests)."""
        return len(self._waiting)

    def busy(self, scope: Scope) -> bool:
        """Whether a burst of this scope runs in this process, or a job waits to lead one."""
        return self._leading[scope] > 0 or any(w.scope == scope for w in self._waiting)

    def release(self, scope: Scope) -> None:
        """Give back a slot `take` answered True for."""
        self._leading[scope] -= 1
        if self._leading[scope] <= 0:
            del self._leading[scope]
        self._slots.release()

    async def take(self, scope: Scope, saleor_id: str) -> bool:
        """Wait for a slot: True when one is held (give it back with `release`), False when
        a burst of this process carries the record instead."""
        while True:
            waiting = Waiting(scope, saleor_id)
            self._waiting.append(waiting)
            acquiring: asyncio.Future[Any] = asyncio.ensure_future(self._slots.acquire())
            either: list[asyncio.Future[Any]] = [acquiring, waiting.carried]
            try:
                await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            except BaseException:
                if waiting in self._waiting:
                    self._waiting.remove(waiting)
                self._give_back(acquiring)
                raise
            if waiting in self._waiting:  # not adopted: the slot came
                self._waiting.remove(waiting)
                self._leading[scope] += 1
                return True
            # A burst adopted it: a slot that came meanwhile goes back; then that burst's word.
            self._give_back(acquiring)
            if await waiting.carried:
                return False

    def adopt(self, scope: Scope, most: int) -> list[Waiting]:
        """Up to `most` jobs waiting with this scope, for the burst about to take records
        over; it tells each (`carried`) whether its record went in."""
        adopted = [waiting for waiting in self._waiting if waiting.scope == scope][:most]
        for waiting in adopted:
            self._waiting.remove(waiting)
        return adopted

    def _give_back(self, acquiring: asyncio.Future[Any]) -> None:
        """Give back the slot `acquiring` got, or stop it getting one. With no await: a
        cancellation arriving between learning it got a slot and releasing that slot would
        leave the process one burst slot short for good."""
        if acquiring.done():
            self._release_if_acquired(acquiring)
        else:
            # Not started: never acquires. Woken already: `Semaphore.acquire` hands its slot
            # on when cancelled. Finished meanwhile: the callback releases what it got.
            acquiring.cancel()
            acquiring.add_done_callback(self._release_if_acquired)

    def _release_if_acquired(self, acquiring: asyncio.Future[Any]) -> None:
        if not acquiring.cancelled() and acquiring.exception() is None:
            self._slots.release()


def settle(adopted: list[Waiting], *, carried: bool) -> None:
    """Tell adopted jobs whether their records are in the batch (False: they wait again)."""
    for waiting in adopted:
        if not waiting.carried.done():
            waiting.carried.set_result(carried)


def slots_of(database: Database, at_once: int) -> BurstSlots:
    """This process's burst slots: kept with what it remembers of `database` (one per process;
    forgotten with the engine)."""
    slots: BurstSlots | None = database.memo.get(__name__)
    if slots is None:
        slots = database.memo[__name__] = BurstSlots(at_once)
    return slots


__all__ = ["BurstSlots", "Scope", "Waiting", "settle", "slots_of"]
