"""A process's burst slots (`addon.ecommerce.burst_slots`) under cancellation and adoption: no
slot is lost or given back twice, and an adopted job always hears whether its record went in."""

from __future__ import annotations

import asyncio

from addon.ecommerce.burst_slots import BurstSlots, Scope, settle
from addon.ecommerce.models import EntityKind

SCOPE: Scope = (1, "default-channel", EntityKind.PRODUCT)


async def turns(count: int = 5) -> None:
    """Let the event loop run the ready tasks (no time passes)."""
    for _ in range(count):
        await asyncio.sleep(0)


async def free_slots(slots: BurstSlots, at_once: int) -> int:
    """How many slots can be taken at once now (each given back after)."""
    taken = 0
    for _ in range(at_once + 1):
        task = asyncio.ensure_future(slots.take(SCOPE, f"probe-{taken}"))
        await turns()
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            break
        assert task.result() is True
        taken += 1
    for _ in range(taken):
        slots.release(SCOPE)
    return taken


async def test_a_job_cancelled_at_any_turn_while_adopted_leaves_every_slot() -> None:
    """A waiting job is adopted by a burst while a slot frees; whenever it is stopped in the
    turns that follow, the process keeps all its slots."""
    for stop_after in range(6):
        slots = BurstSlots(1)
        assert await slots.take(SCOPE, "leader") is True
        waiter = asyncio.ensure_future(slots.take(SCOPE, "record"))
        await turns()
        adopted = slots.adopt(SCOPE, 10)
        assert [a.saleor_id for a in adopted] == ["record"]
        slots.release(SCOPE)  # the leader's burst ends: its slot frees in the same turn
        await turns(stop_after)
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
        settle(adopted, carried=True)
        await turns()
        assert await free_slots(slots, 1) == 1, f"stopped after {stop_after} turns"


async def test_an_adopted_job_told_not_carried_waits_for_a_slot_again() -> None:
    slots = BurstSlots(1)
    assert await slots.take(SCOPE, "leader") is True
    waiter = asyncio.ensure_future(slots.take(SCOPE, "record"))
    await turns()
    adopted = slots.adopt(SCOPE, 10)
    settle(adopted, carried=False)  # the burst failed before its batch was written
    await turns()
    assert not waiter.done() and slots.waiting == 1
    slots.release(SCOPE)
    assert await asyncio.wait_for(waiter, 5) is True  # it leads now
    slots.release(SCOPE)
    assert await free_slots(slots, 1) == 1
