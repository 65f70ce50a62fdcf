"""A sync that ends because Mailchimp was disconnected mid-sync (the admin's reset, keeping the
account's data; a revoked key) cannot look at its batches then, nor clear the store's
`is_syncing`: nothing reaches Mailchimp without credentials, and the reset leaves the flag to
the batches' end (cleared under them, they would run with the store's automations on:
`test_account_let_go.py`). The ended sync keeps waiting for the
connection, so once the same account is connected again ("reconnecting to the same account
resumes") the batches it sent are applied and the store's automations are released; connecting
another account drops the sync with the first account's data, and the wait with it."""

from __future__ import annotations

from sqlalchemy import select

from addon.ecommerce.channel_state import RunStatus
from addon.initial_sync.models import BatchStatus, InitialSync, InitialSyncBatch
from addon.initial_sync.state import STEP_JOB
from addon.jobs.models import Job, JobStatus
from addon.jobs.worker import Worker
from tests.ecommerce.conftest import Shop
from tests.initial_sync.conftest import (
    first_batch_held,
    is_syncing,
    make_due,
)


async def _run(shop: Shop) -> InitialSync:
    async with shop.services.db.session() as session:
        return (await session.execute(select(InitialSync))).scalar_one()


async def _batches(shop: Shop) -> list[BatchStatus]:
    async with shop.services.db.session() as session:
        return list(await session.scalars(select(InitialSyncBatch.status)))


async def _disconnect(shop: Shop) -> None:
    response = await shop.api("POST", "/api/connection/reset", {"forget_account_data": False})
    assert response.status_code == 200, response.text


async def _reconnect(shop: Shop) -> None:
    response = await shop.api("POST", "/api/connection/api-key", {"api_key": shop.account.api_key})
    assert response.status_code == 200, response.text


async def _rounds(shop: Shop, worker: Worker, rounds: int = 20) -> None:
    for _ in range(rounds):
        await shop.mailchimp.drain_batches()
        await make_due(shop)
        await worker.run_until_idle()


async def test_reconnecting_the_same_account_releases_the_store_and_applies_the_batches(
    small: Shop,
) -> None:
    shop = small
    shop.saleor.generate_store(products=10, customers=5, orders=0, seed=3)
    worker = await first_batch_held(shop)
    assert is_syncing(shop)
    await _disconnect(shop)  # its batch still at Mailchimp: the store stays held
    shop.mailchimp.batches_paused = False  # Mailchimp runs the batch meanwhile
    await _rounds(shop, worker)
    run = await _run(shop)
    assert run.status is RunStatus.FAILED
    assert "not connected" in (run.error or "")
    assert is_syncing(shop)  # nothing could reach Mailchimp

    await _reconnect(shop)
    await _rounds(shop, worker)
    assert not is_syncing(shop)  # the automations are released
    assert BatchStatus.SUBMITTED not in await _batches(shop)  # what it sent was applied
    assert not (await _run(shop)).store_flagged


async def test_connecting_another_account_drops_the_wait(small: Shop) -> None:
    shop = small
    shop.saleor.generate_store(products=10, customers=5, orders=0, seed=3)
    worker = await first_batch_held(shop)
    await _disconnect(shop)
    shop.mailchimp.batches_paused = False
    await _rounds(shop, worker)
    assert (await _run(shop)).status is RunStatus.FAILED

    other = shop.mailchimp.create_account("Other shop", "other@example.com")
    response = await shop.api("POST", "/api/connection/api-key", {"api_key": other.api_key})
    assert response.status_code == 200, response.text
    await _rounds(shop, worker)
    async with shop.services.db.session() as session:
        assert list(await session.scalars(select(InitialSync))) == []
        steps = await session.scalars(
            select(Job).where(Job.kind == STEP_JOB, Job.status != JobStatus.DONE)
        )
        assert list(steps) == []
