"""The Mailchimp concurrency cap across processes (PostgreSQL advisory locks): two `SharedSlots`
on their own connections, as two `addon worker` processes have, never hold more than the cap
together; a process that dies gives its slots back; a busy process hands its slots on without
a round trip, but not forever."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import text

from addon.db.engine import Database
from addon.db.shared_slots import (
    HANDOVERS,
    KEEPALIVES,
    STATEMENT_SECONDS,
    UNLOCK,
    SharedSlots,
    account_lock_key,
)
from addon.mailchimp.limits import LocalSlots

PATIENCE = 30.0  # a bound only a hang reaches


async def until(condition: Callable[[], bool]) -> None:
    deadline = asyncio.get_running_loop().time() + PATIENCE
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "gave up waiting"
        await asyncio.sleep(0.001)


@pytest.fixture
async def processes(database_url: str) -> AsyncIterator[tuple[SharedSlots, SharedSlots]]:
    if database_url.startswith("sqlite"):
        pytest.skip("the cap across processes is PostgreSQL's (SQLite runs one process)")
    first, second = SharedSlots(database_url, 3), SharedSlots(database_url, 3)
    yield first, second
    await first.aclose()
    await second.aclose()


class Requests:
    """Requests that hold their slot until the test lets them finish."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.most = 0
        self.done = 0
        self.finish = asyncio.Event()

    async def one(self, slots: SharedSlots | LocalSlots, account: str = "acct-1") -> None:
        async with slots.slot(account):
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            await self.finish.wait()
            self.in_flight -= 1
        self.done += 1


async def test_two_processes_never_hold_more_than_the_cap_together(
    processes: tuple[SharedSlots, SharedSlots],
) -> None:
    first, second = processes
    requests = Requests()
    tasks = [asyncio.create_task(requests.one(p)) for p in (first, second) * 10]
    await until(lambda: requests.in_flight == 3)
    held = [*await first.held(), *await second.held()]
    key = account_lock_key("acct-1")
    assert sorted(held) == [(key, 0), (key, 1), (key, 2)]  # each slot once, by either
    requests.finish.set()
    await asyncio.wait_for(asyncio.gather(*tasks), PATIENCE)
    assert requests.done == 20
    assert requests.most == 3
    # Nobody waits any more: every slot went back to the database.
    assert await first.held() == [] and await second.held() == []


async def test_accounts_have_caps_of_their_own(
    processes: tuple[SharedSlots, SharedSlots],
) -> None:
    first, _ = processes
    requests = Requests()
    tasks = [asyncio.create_task(requests.one(first, f"acct-{n % 2}")) for n in range(8)]
    await until(lambda: requests.in_flight == 6)
    requests.finish.set()
    await asyncio.wait_for(asyncio.gather(*tasks), PATIENCE)
    assert requests.most == 6


async def test_a_process_that_dies_gives_its_slots_back(
    processes: tuple[SharedSlots, SharedSlots], database_url: str
) -> None:
    first, second = processes
    stuck, later = Requests(), Requests()
    holding = [asyncio.create_task(stuck.one(first)) for _ in range(3)]
    await until(lambda: stuck.in_flight == 3)
    waiting = asyncio.create_task(later.one(second))
    await asyncio.sleep(0.05)
    assert later.in_flight == 0  # every slot is the first process's

    # The first process's connection ends (its process was killed): PostgreSQL releases its
    # locks, and the second process takes a slot.
    (pid,) = await first._run("SELECT pg_backend_pid()", fetch="all")
    database = Database(database_url)
    async with database.transaction() as session:
        await session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid[0]})
    await database.dispose()
    await until(lambda: later.in_flight == 1)
    later.finish.set()
    stuck.finish.set()
    await asyncio.wait_for(asyncio.gather(waiting, *holding), PATIENCE)


async def test_a_busy_process_hands_slots_on_but_gives_them_back_in_time(
    processes: tuple[SharedSlots, SharedSlots], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = processes
    first.cap = 1
    statements: list[str] = []
    run = first._run

    async def spy(statement: str, *args: object, fetch: str = "val") -> object:
        statements.append(statement)
        return await run(statement, *args, fetch=fetch)

    monkeypatch.setattr(first, "_run", spy)
    requests = Requests()
    requests.finish.set()
    count = HANDOVERS * 2 + 1
    await asyncio.wait_for(asyncio.gather(*(requests.one(first) for _ in range(count))), PATIENCE)
    assert requests.done == count and requests.most == 1
    # One slot, queued requests: handed on from one to the next, given back to the database
    # after HANDOVERS uses (then locked again), and at the end.
    unlocks = statements.count(UNLOCK)
    assert 2 <= unlocks <= count // HANDOVERS + 1
    assert unlocks < count


async def test_a_request_cancelled_as_a_slot_is_handed_past_it_ends_cancelled(
    processes: tuple[SharedSlots, SharedSlots],
) -> None:
    """A waiting request cancelled (its job stopped at shutdown, say) just before the slot
    handed on passes its cancelled turn: before, it then raised ValueError (its turn was no
    longer queued to remove) instead of CancelledError, and its job was failed instead of
    released."""
    first, _ = processes
    requests = Requests()
    holding = [asyncio.create_task(requests.one(first)) for _ in range(3)]
    await until(lambda: requests.in_flight == 3)
    waiting = [asyncio.create_task(requests.one(first)) for _ in range(2)]
    await until(lambda: len(first._accounts["acct-1"].waiters) == 2)
    requests.finish.set()
    await asyncio.sleep(0)  # the holders end: handing their slots on is scheduled
    waiting[0].cancel()  # and comes before this request sees its cancellation
    ended = await asyncio.wait_for(
        asyncio.gather(*waiting, *holding, return_exceptions=True), PATIENCE
    )
    assert isinstance(ended[0], asyncio.CancelledError)
    assert ended[1:] == [None] * 4 and requests.done == 4


async def test_the_slots_connection_times_out_and_is_probed_when_idle(
    processes: tuple[SharedSlots, SharedSlots],
) -> None:
    """Before, its statements waited for ever on a connection dropped without a word (every
    request of the process behind them), and a vanished process kept its slots for the
    system's two hours of TCP keepalive."""
    first, _ = processes
    connection = await first._connect()
    settings = {
        name: await connection.fetchval(f"SHOW {name}") for name in KEEPALIVES
    }  # fmt: skip
    assert settings == KEEPALIVES  # on a TCP connection (on a Unix socket they read 0)
    assert connection._config.command_timeout == STATEMENT_SECONDS


async def test_local_slots_cap_one_process() -> None:
    slots = LocalSlots(2)
    requests = Requests()
    tasks = [asyncio.create_task(requests.one(slots)) for _ in range(5)]
    await until(lambda: requests.in_flight == 2)
    await asyncio.sleep(0.01)
    assert requests.in_flight == 2
    requests.finish.set()
    await asyncio.wait_for(asyncio.gather(*tasks), PATIENCE)
    assert requests.most == 2
