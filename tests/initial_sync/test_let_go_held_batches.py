"""Letting go of a Mailchimp account while the sync's batches are still at Mailchimp: cleared
under them, `is_syncing` would let them run with the store's automations on (order
notifications for old orders). A reset keeping the account's data leaves the store held for
the reconnection (which settles them, then clears it); when the data goes, they are stopped
first (`DELETE /batches/{batch_id}`), and a store whose batches cannot be stopped is named."""

from __future__ import annotations

from typing import Any

import pytest

from addon.jobs.worker import Worker
from addon.mailchimp import MailchimpClient, Unreachable
from tests.ecommerce.conftest import Shop
from tests.initial_sync.conftest import hold_batches, is_syncing, make_due, start

LEFT_NOTE = "initial_sync.store_left_syncing"


async def _orders_batch_held(shop: Shop) -> None:
    """A sync whose orders batch Mailchimp holds (`pending`), the batches before it run."""
    shop.saleor.generate_store(products=3, customers=0, orders=20, seed=3)
    hold_batches(shop)
    await start(shop)
    worker = Worker(shop.services)
    for _ in range(300):
        pending = [b for b in shop.mailchimp.batches(shop.account) if b.status == "pending"]
        if any("/orders" in op.path for b in pending for op in b.operations):
            return
        if pending:
            shop.mailchimp.release_batches(len(pending))
            await shop.mailchimp.drain_batches()
        await make_due(shop)
        await worker.run_once()
    raise AssertionError("no orders batch held")


async def _mailchimp_runs_what_it_holds(shop: Shop) -> list[tuple[str, str]]:
    """Mailchimp runs the batches it still has; the order notifications the store sent."""
    shop.mailchimp.batches_paused = False
    await shop.mailchimp.drain_batches()
    return shop.mailchimp.notifications(shop.account, shop.store_id)


async def _let_go(shop: Shop, how: str) -> dict[str, Any]:
    if how == "switch":
        other = shop.mailchimp.create_account("Other shop", "other@example.com")
        response = await shop.api("POST", "/api/connection/api-key", {"api_key": other.api_key})
    else:
        body = {"forget_account_data": how == "reset_forgetting"}
        response = await shop.api("POST", "/api/connection/reset", body)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _notes(shop: Shop) -> list[str]:
    response = await shop.api("GET", "/api/activity")
    assert response.status_code == 200, response.text
    return [i["last_error"] for i in response.json()["items"] if i["kind"] == LEFT_NOTE]


@pytest.mark.parametrize("mailchimp_down", [False, True])
async def test_a_reset_keeping_the_data_leaves_the_store_held_while_its_batches_wait(
    small: Shop, mailchimp_down: bool
) -> None:
    shop = small
    await _orders_batch_held(shop)
    assert is_syncing(shop)
    if mailchimp_down:
        shop.mailchimp.faults.outage(account=shop.account)

    answer = await _let_go(shop, "reset_keeping")
    shop.mailchimp.faults.reset()
    assert is_syncing(shop)  # held: the batch still runs under it
    assert await _mailchimp_runs_what_it_holds(shop) == []
    message = answer["message"]
    assert shop.store_id in message and "connected here again" in message
    [note] = await _notes(shop)
    assert shop.store_id in note and "batches are still at Mailchimp" in note


@pytest.mark.parametrize("how", ["switch", "reset_forgetting"])
async def test_letting_go_of_the_data_stops_the_batches_before_the_store_is_released(
    small: Shop, how: str
) -> None:
    shop = small
    await _orders_batch_held(shop)

    answer = await _let_go(shop, how)
    assert not is_syncing(shop)
    assert "stopped first" in answer["message"]
    assert await _mailchimp_runs_what_it_holds(shop) == []  # never run
    assert await _notes(shop) == []


async def test_batches_that_cannot_be_stopped_leave_the_store_held_and_named(
    small: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = small
    await _orders_batch_held(shop)

    async def unreachable(self: MailchimpClient, batch_id: str) -> None:
        raise Unreachable("DELETE /batches: connection refused")

    monkeypatch.setattr(MailchimpClient, "delete_batch", unreachable)
    answer = await _let_go(shop, "switch")
    assert is_syncing(shop)
    assert shop.store_id in answer["message"] and "still marked as syncing" in answer["message"]
    [note] = await _notes(shop)
    assert shop.store_id in note
