"""A finished batch whose results archive is gone: its `response_body_url` is a pre-signed URL
valid 10 minutes, and Mailchimp deletes old results, so a worker away longer (a deploy, an
outage, a backlog) cannot download it. Before, the storage host's 403 was read as Mailchimp's
role/plan refusal (`Forbidden`): the step failed, the other finished batches waited, the sync
ended failed, its ended step retried the download for hours with `is_syncing` left set, and the
batch's entities were neither confirmed nor sent again. Now the batch is asked for again and,
its archive still gone, handed to live sync as a batch Mailchimp no longer has."""

from __future__ import annotations

from sqlalchemy import select

from addon.ecommerce.channel_state import RunStatus
from addon.initial_sync.models import BatchStatus, InitialSync, InitialSyncBatch
from addon.jobs.worker import Worker
from tests.ecommerce.conftest import Shop
from tests.initial_sync.conftest import (
    SMALL,
    assert_equal_to_saleor,
    first_batch_held,
    is_syncing,
    make_due,
)


async def expire_after_first_batch(shop: Shop) -> None:
    """The first batch runs while the worker is away, longer than its results URL lives."""
    await first_batch_held(shop)
    shop.mailchimp.batches_paused = False
    await shop.mailchimp.drain_batches()
    shop.mailchimp.clock.advance(shop.mailchimp.batch_result_ttl + 1)
    shop.services.settings = shop.services.settings.model_copy(update=SMALL)


async def run(shop: Shop, rounds: int) -> InitialSync:
    worker = Worker(shop.services)
    for _ in range(rounds):
        await shop.mailchimp.drain_batches()
        await make_due(shop)
        await worker.run_until_idle()
    async with shop.services.db.session() as session:
        return (await session.scalars(select(InitialSync))).one()


def live_writes(shop: Shop) -> list[str]:
    """The writes to the store's records pushed one by one (not in a batch)."""
    prefix = f"/ecommerce/stores/{shop.store_id}/"
    return [
        f"{r.method} {r.path.split(prefix, 1)[1]}"
        for r in shop.mailchimp.requests
        if prefix in r.path and r.method != "GET" and r.via != "batch"
    ]


async def test_a_batch_whose_results_expired_goes_to_live_sync_and_the_sync_succeeds(
    small: Shop,
) -> None:
    shop = small
    shop.saleor.generate_store(products=5, customers=5, orders=0, seed=3)
    await expire_after_first_batch(shop)
    result = await run(shop, 40)
    assert result.status is RunStatus.SUCCEEDED, (result.status, result.error)
    assert not is_syncing(shop)
    async with shop.services.db.session() as session:
        statuses = set(await session.scalars(select(InitialSyncBatch.status)))
    assert statuses == {BatchStatus.APPLIED}
    assert live_writes(shop), "the expired batch's entities are pushed live"
    assert_equal_to_saleor(shop)


async def test_an_ended_sync_with_an_expired_archive_lets_go_of_is_syncing(small: Shop) -> None:
    """The ended step's look at the batch does not retry the download for
    `INITIAL_SYNC_BATCH_WAIT_SECONDS` (6 h) with the store's automations paused."""
    shop = small
    shop.saleor.generate_store(products=5, customers=0, orders=0, seed=3)
    await expire_after_first_batch(shop)
    result = await run(shop, 60)
    assert result.status is not RunStatus.RUNNING
    assert not is_syncing(shop), f"ended {result.status.value} with is_syncing still set"
