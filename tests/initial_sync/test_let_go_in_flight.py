"""Letting go of the account while some of the initial sync's work may still reach Mailchimp
keeps the store held (`holds.stop_batches`, `Hold.pending`): an orders batch being posted as
the account is switched or its data forgotten, and one queued (refused, to be sent again) at a
reset keeping the data, which the same account's reconnection sends. Cleared under them, the
store's automations would send notifications for old orders (found by review)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from addon.initial_sync.models import BatchStatus, InitialSyncBatch
from addon.jobs.worker import Worker
from addon.mailchimp import MailchimpClient, Unreachable
from tests.ecommerce.conftest import Shop
from tests.initial_sync.conftest import is_syncing, make_due, start


@pytest.mark.parametrize("how", ["switch", "reset_forgetting"])
async def test_orders_batch_posted_while_letting_go(
    small: Shop, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    shop = small
    shop.saleor.generate_store(products=3, customers=0, orders=20, seed=3)
    first = shop.account
    real = MailchimpClient.create_batch
    answers: list[str] = []

    async def racing(self: MailchimpClient, operations: Any) -> Any:
        if not answers and any("/orders" in op.path for op in operations):
            if how == "switch":
                other = shop.mailchimp.create_account("Other shop", "other@example.com")
                r = await shop.api("POST", "/api/connection/api-key", {"api_key": other.api_key})
            else:
                r = await shop.api("POST", "/api/connection/reset", {"forget_account_data": True})
            assert r.status_code == 200, r.text
            answers.append(r.json()["message"])
        return await real(self, operations)

    monkeypatch.setattr(MailchimpClient, "create_batch", racing)
    await start(shop)
    worker = Worker(shop.services)
    for _ in range(300):
        if answers:
            break
        await shop.mailchimp.drain_batches()
        await make_due(shop)
        await worker.run_once()
    assert answers
    assert is_syncing(shop), answers[0]
    await shop.mailchimp.drain_batches()
    for _ in range(5):
        await make_due(shop)
        await worker.run_once()
    await shop.mailchimp.drain_batches()
    sent = shop.mailchimp.notifications(first, shop.store_id)
    assert sent == []


async def _queued_orders(shop: Shop) -> bool:
    async with shop.services.db.session() as session:
        rows = list(await session.scalars(select(InitialSyncBatch)))
    return any(r.kind == "order" and r.status is BatchStatus.QUEUED for r in rows)


async def test_reset_keeping_with_a_queued_orders_batch(
    small: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = small
    shop.saleor.generate_store(products=3, customers=0, orders=20, seed=3)
    real = MailchimpClient.create_batch
    block = [True]

    async def refusing(self: MailchimpClient, operations: Any) -> Any:
        if block[0] and any("/orders" in op.path for op in operations):
            raise Unreachable("POST /batches: connection refused")
        return await real(self, operations)

    monkeypatch.setattr(MailchimpClient, "create_batch", refusing)
    await start(shop)
    worker = Worker(shop.services)
    for _ in range(300):
        if await _queued_orders(shop):
            break
        await shop.mailchimp.drain_batches()
        await make_due(shop)
        await worker.run_once()
    assert await _queued_orders(shop)
    assert is_syncing(shop)
    r = await shop.api("POST", "/api/connection/reset", {"forget_account_data": False})
    assert r.status_code == 200, r.text
    assert is_syncing(shop), r.json()["message"]  # held for the same account's return
    block[0] = False
    r = await shop.api("POST", "/api/connection/api-key", {"api_key": shop.account.api_key})
    assert r.status_code == 200, r.text
    for _ in range(60):
        await shop.mailchimp.drain_batches()
        await make_due(shop)
        await worker.run_once()
    await shop.mailchimp.drain_batches()
    sent = shop.mailchimp.notifications(shop.account, shop.store_id)
    assert sent == []
