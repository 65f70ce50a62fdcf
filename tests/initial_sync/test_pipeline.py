"""A step's pipeline: up to INITIAL_SYNC_STEP_BATCHES batches of a kind per step, the next one
read from Saleor while the last is submitted to Mailchimp, each written with its slices'
positions.

It sends exactly the entities of a sequential read, each once, never more batches at Mailchimp
than INITIAL_SYNC_MAX_IN_FLIGHT; the next batch's reading overlaps the submit (a submit that
waits for it would never end otherwise); a crash in the middle of a step repeats only the batch
being submitted, because the batches before it were written with their positions.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import func, select

from addon.ecommerce.channel_state import RunStatus
from addon.ecommerce.models import EntityKind
from addon.initial_sync.models import BatchStatus, InitialSync, InitialSyncBatch
from addon.initial_sync.reader import Page, Reader
from addon.initial_sync.slices import Slice
from addon.initial_sync.state import Stream
from addon.initial_sync.step import Step
from addon.jobs.worker import Worker
from addon.mailchimp import MailchimpClient
from addon.mailchimp.models import BatchOperation
from tests.ecommerce.conftest import Shop
from tests.initial_sync.conftest import assert_equal_to_saleor, creations, finish, make_due, start
from tests.initial_sync.test_slices import _cluster, _sent, _sequential, assert_sent_once

# Two kinds read together may want 6 batches: the cap (5) binds.
PIPELINE = {"initial_sync_step_batches": 3, "initial_sync_max_in_flight": 5}


@pytest.fixture
def piped(small: Shop) -> Shop:
    small.services.settings = small.services.settings.model_copy(update=PIPELINE)
    return small


async def _batches(shop: Shop) -> list[InitialSyncBatch]:
    async with shop.services.db.session() as session:
        result = await session.execute(select(InitialSyncBatch).order_by(InitialSyncBatch.id))
        return list(result.scalars())


@pytest.mark.parametrize("slices", [1, 3])
async def test_pipelined_steps_send_exactly_a_sequential_read_within_the_in_flight_cap(
    piped: Shop, slices: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = piped
    real_create = MailchimpClient.create_batch
    pending_at_submit: list[int] = []

    async def create(self: MailchimpClient, operations: Sequence[BatchOperation]) -> Any:
        batches = shop.mailchimp.batches(shop.account)
        pending_at_submit.append(sum(1 for b in batches if b.status != "finished"))
        return await real_create(self, operations)

    monkeypatch.setattr(MailchimpClient, "create_batch", create)
    shop.services.settings = shop.services.settings.model_copy(
        update={"initial_sync_read_slices": slices}
    )
    shop.saleor.generate_store(products=70, customers=130, orders=300, seed=21)
    _cluster(shop)
    expected = await _sequential(shop, None)
    await start(shop)
    worker = Worker(shop.services)
    most_in_one_step: Counter[str] = Counter()
    for _ in range(300):  # step by step, Mailchimp finishing its batches in between
        before = {batch.id for batch in await _batches(shop)}
        await shop.mailchimp.drain_batches()
        await make_due(shop)
        if not await worker.run_once():
            break
        batches = await _batches(shop)
        new = Counter(b.kind for b in batches if b.id not in before and b.attempt == 1)
        for kind, count in new.items():
            most_in_one_step[kind] = max(most_in_one_step[kind], count)
        at_mailchimp = [b for b in batches if b.status is BatchStatus.SUBMITTED]
        assert len(at_mailchimp) <= PIPELINE["initial_sync_max_in_flight"]
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert_sent_once(shop, expected)
    assert_equal_to_saleor(shop)
    # Never a batch more than the cap pending at Mailchimp (one it finished leaves room).
    assert pending_at_submit and max(pending_at_submit) < PIPELINE["initial_sync_max_in_flight"]
    # Steps did submit several batches of a kind, and never more than a step may.
    assert max(most_in_one_step.values()) == PIPELINE["initial_sync_step_batches"]


async def test_the_next_batch_is_read_while_the_last_is_submitted(
    piped: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first customer batch's submit waits until the second batch's pages are asked for:
    without the pipeline it would wait for ever (bounded here to fail, not to pace)."""
    shop = piped
    shop.saleor.generate_store(products=0, customers=200, orders=0, seed=4)
    next_read = asyncio.Event()
    real_page, real_create = Reader.page, MailchimpClient.create_batch
    waited: list[bool] = []

    async def page(self: Reader, kind: EntityKind, piece: Slice) -> Page:
        if kind is EntityKind.CUSTOMER and piece.cursor is not None:
            next_read.set()  # a page after the first batch's
        return await real_page(self, kind, piece)

    async def create(self: MailchimpClient, operations: Sequence[BatchOperation]) -> Any:
        if not waited:
            await asyncio.wait_for(next_read.wait(), timeout=30)
            waited.append(True)
        return await real_create(self, operations)

    monkeypatch.setattr(Reader, "page", page)
    monkeypatch.setattr(MailchimpClient, "create_batch", create)
    await start(shop)
    run = await finish(shop)
    assert waited and run.status is RunStatus.SUCCEEDED, run.error
    assert len(shop.mailchimp.customers(shop.account, shop.store_id)) == 200


async def test_a_crash_in_the_middle_of_a_step_repeats_only_the_batch_being_submitted(
    piped: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker dies after the second `POST /batches` of a step, before writing it: the
    first batch of that step was written with its positions and is not sent again; the step
    run again reads from them, so exactly the second batch's entities are sent twice."""
    shop = piped
    shop.services.settings = shop.services.settings.model_copy(
        update={"initial_sync_read_slices": 3}
    )
    shop.saleor.generate_store(products=10, customers=0, orders=200, seed=9)
    expected = await _sequential(shop, None)
    real_execute, real_create = Step.execute, MailchimpClient.create_batch
    in_step: list[int] = []
    sends: list[list[str]] = []
    crashed: list[list[str]] = []
    at_start: list[Any] = []
    positions: list[Any] = []

    async def execute(self: Step, flights: Any) -> None:
        in_step.clear()
        at_start[:] = [self.run.streams[EntityKind.ORDER].slices]
        await real_execute(self, flights)

    async def create(self: MailchimpClient, operations: Sequence[BatchOperation]) -> Any:
        batch = await real_create(self, operations)
        ids = [str(op.operation_id) for op in operations]
        sends.append(ids)
        in_step.append(1)
        if len(in_step) == 2 and not crashed and "/orders" in operations[0].path:
            crashed.append(ids)
            async with shop.services.db.session() as session:
                row = (await session.execute(select(InitialSync))).scalar_one()
            positions.append((at_start[0], Stream.of(row.streams, EntityKind.ORDER).slices))
            raise RuntimeError("worker killed")
        return batch

    monkeypatch.setattr(Step, "execute", execute)
    monkeypatch.setattr(MailchimpClient, "create_batch", create)
    await start(shop)
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert crashed, "no step submitted two order batches"
    # The first batch of the crashed step was written: the positions then were past it.
    [(before, written)] = positions
    assert written is not None and written != before
    assert all(
        piece.cursor for piece, old in zip(written, before or (), strict=False) if old.cursor
    )
    sent = Counter(saleor_id for ids in sends for saleor_id in ids)
    assert {saleor_id for saleor_id, n in sent.items() if n > 1} == set(crashed[0])
    assert max(sent.values()) == 2
    assert set(_sent(shop)[EntityKind.ORDER]) == expected[EntityKind.ORDER]
    assert max(creations(shop).values()) == 1
    assert_equal_to_saleor(shop)
    async with shop.services.db.session() as session:
        count = (await session.execute(select(func.count()).select_from(InitialSyncBatch))).scalar()
    assert count == len(sends) - 1  # every submit recorded but the crashed one
