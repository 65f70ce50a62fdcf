"""A process runs at most `BURSTS_AT_ONCE` bursts at a time: the push jobs beyond wait before
taking records over (the backlog stays for other workers), and every record still reaches
Mailchimp; the next burst carries the records of the jobs waiting (`burst_slots.py`)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from addon.ecommerce import burst
from addon.ecommerce.burst_slots import slots_of
from addon.ecommerce.context import Context
from addon.ecommerce.models import EntityKind
from addon.ecommerce.push_request import PushRequest
from addon.ecommerce.sync import PUSH_JOB
from addon.jobs.schemas import ClaimedJob
from addon.jobs.worker import Worker
from tests.ecommerce.conftest import Shop
from tests.ecommerce.test_burst import (  # noqa: F401
    assert_all_synced,
    batch_calls,
    bursty,
    direct_writes,
    settle,
)


async def test_bursts_run_at_most_so_many_at_once_per_process(
    bursty: Shop,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop = bursty
    # Batches of 3 from one claim of 10 push jobs.
    shop.services.settings = shop.services.settings.model_copy(
        update={"ecommerce_batch_size": 3, "worker_batch_size": 10}
    )
    monkeypatch.setattr(burst, "BURSTS_AT_ONCE", 1)
    reading, most = 0, 0
    read = burst.read

    async def counted(*args: Any) -> Any:
        nonlocal reading, most
        reading += 1
        most = max(most, reading)
        try:
            return await read(*args)
        finally:
            reading -= 1

    monkeypatch.setattr(burst, "read", counted)
    customers = [
        await shop.saleor.create_customer(f"n{i}@example.com", f"N{i}", "Last") for i in range(12)
    ]
    start = len(shop.mailchimp.requests)
    await settle(shop)

    # (The in-process sandboxes answer without yielding, so reads rarely overlap here anyway:
    # this checks the limit holds and changes nothing of the outcome.)
    assert most == 1
    # Bursts of at most 3 went out as batches; how the 12 pushes split between bursts and pushes
    # of their own depends on which jobs each claim brings (PostgreSQL's SKIP LOCKED order
    # differs from SQLite's), so only that some did, and that nothing was lost, is checked.
    assert batch_calls(shop, start) >= 1
    assert len(direct_writes(shop, start)) <= 12 - 3
    await assert_all_synced(shop, customers)


async def test_a_job_waiting_for_a_burst_slot_goes_in_the_next_batch_not_alone(
    bursty: Shop,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A claim brings more push jobs than the process has burst slots: those waiting for one
    are running, so no burst can take them over from the queue; the next burst of their
    process carries their records, rather than each pushing its record alone once the
    backlog is gone."""
    shop = bursty
    monkeypatch.setattr(burst, "BURSTS_AT_ONCE", 1)
    customers = [
        await shop.saleor.create_customer(f"w{i}@example.com", f"W{i}", "Last") for i in range(20)
    ]
    # The webhooks first (one claim takes them all), queueing the twenty pushes.
    shop.services.settings = shop.services.settings.model_copy(update={"worker_batch_size": 50})
    worker = Worker(shop.services)
    await worker.run_once()
    # Then one claim of ten: one push leads a burst, the others wait for its slot.
    shop.services.settings = shop.services.settings.model_copy(update={"worker_batch_size": 10})
    claimed: list[int] = []
    claim = Worker.claim

    async def counted(self: Worker, limit: int) -> list[ClaimedJob]:
        jobs = await claim(self, limit)
        claimed.append(sum(1 for job in jobs if job.kind == PUSH_JOB))
        return jobs

    monkeypatch.setattr(Worker, "claim", counted)
    release_unsent = burst.release_unsent
    seen: list[int] = []

    async def once_the_others_wait(services: Any, job: Any, *, keep: Any) -> None:
        # The first burst takes records over once the others wait (the order in which the
        # in-process tasks get there is the event loop's and the database's).
        slots = slots_of(shop.services.db, burst.BURSTS_AT_ONCE)
        # Bounded by time only a hang reaches, not by a count of turns: on a loaded machine
        # the others' reads may take more turns than any count says.
        give_up = asyncio.get_running_loop().time() + 60
        while not seen and slots.waiting < claimed[0] - 1:
            assert asyncio.get_running_loop().time() < give_up, "the others never waited"
            await asyncio.sleep(0)
        seen.append(slots.waiting)
        await release_unsent(services, job, keep=keep)

    monkeypatch.setattr(burst, "release_unsent", once_the_others_wait)
    start = len(shop.mailchimp.requests)
    await settle(shop)

    # The leader carried those waiting and took the rest from the queue: one batch, none alone.
    assert claimed[0] >= 5
    assert batch_calls(shop, start) == 1
    assert direct_writes(shop, start) == []
    # The leader's look (the first) came with all the others waiting; each carried job
    # looked too, for what an earlier run of it might have taken over.
    assert seen[0] == claimed[0] - 1 and len(seen) == claimed[0]
    await assert_all_synced(shop, customers)


async def test_a_push_claimed_while_its_scope_bursts_here_goes_in_a_batch(
    bursty: Shop,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A burst takes the backlog over, so fewer pushes than the threshold may be left waiting;
    a push of the same channel and kind claimed by its process meanwhile still goes in a batch
    (the next one carries it), rather than alone."""
    shop = bursty
    answers: list[bool] = []
    read = burst.read

    async def reading(services: Any, ctx: Context, kind: EntityKind, saleor_ids: list[str]) -> Any:
        # While this burst reads Saleor, another push of its scope is claimed.
        job = ClaimedJob(
            id=0, installation_id=ctx.installation_id, kind=PUSH_JOB, payload={}, attempts=1
        )
        request = PushRequest(channel=ctx.channel, kind=kind, saleor_id="another")
        answers.append(await burst.applies(services, job, request))
        return await read(services, ctx, kind, saleor_ids)

    monkeypatch.setattr(burst, "read", reading)
    for i in range(6):
        await shop.saleor.create_customer(f"b{i}@example.com", f"B{i}", "Last")
    await settle(shop)

    # One burst took the five others over: none left waiting, yet that push batches.
    assert answers == [True]
