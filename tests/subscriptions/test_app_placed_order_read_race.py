"""An app's order whose checkout's consent is still being read when the order's job runs.

The storefront writes the consent (CHECKOUT_METADATA_UPDATED), and the checkout is completed
while that delivery's job is reading it from Saleor: the read saw the signed-in customer's
consent, but has not written it yet. The order's job, run beside it, waits for it rather than
counting the consent as a guest's (`checkout_owner.read_under_way`)."""

from __future__ import annotations

import asyncio
from typing import Any

from addon.clock import ManualClock
from addon.jobs.worker import Worker
from addon.subscriptions import consent as consent_module
from addon.subscriptions.checkout_owner import READ_WAIT_SECONDS
from tests.subscriptions.conftest import Shop
from tests.subscriptions.test_app_placed_order_consent import (
    ANN,
    UPDATE_METADATA,
    _checkout,
    _confirmed_ann,
    _order_changes,
    _ticked,
)


async def _consent_unread(shop: Shop, checkout: Any) -> None:
    """The consent written on the checkout; its delivery's job not run yet."""
    consent = await _ticked(shop)
    body = await shop.saleor.execute(
        UPDATE_METADATA,
        {"id": checkout.global_id, "input": [{"key": k, "value": v} for k, v in consent.items()]},
    )
    assert body == {"data": {"updateMetadata": {"errors": []}}}, body


def _hold_checkout_reads(monkeypatch: Any) -> tuple[asyncio.Event, asyncio.Event]:
    """A checkout's read answered, its job held before it writes what it saw: `read` is set
    then, and the job goes on once `go` is."""
    read, go = asyncio.Event(), asyncio.Event()
    real_read = consent_module._read

    async def slow_read(*args: Any) -> Any:
        found = await real_read(*args)
        if args[3] == "checkout":
            read.set()
            await go.wait()
        return found

    monkeypatch.setattr(consent_module, "_read", slow_read)
    return read, go


async def test_the_order_waits_for_its_checkout_s_read_under_way(
    newsletter: Shop, clock: ManualClock, monkeypatch: Any
) -> None:
    shop = newsletter
    ann = await _confirmed_ann(shop)
    checkout = await _checkout(shop, customer=ann)
    await _consent_unread(shop, checkout)

    read, go = _hold_checkout_reads(monkeypatch)
    owner = asyncio.create_task(Worker(shop.services).run_until_idle())
    try:
        await read.wait()
        clock.advance(1)  # the checkout's read began before the order was placed
        await shop.saleor.complete_checkout(checkout, by_app=True)
        # Another worker takes the order's job while the checkout's still runs: it waits.
        await Worker(shop.services).run_until_idle()
        assert await _order_changes(shop) == []
        go.set()
        await owner
    finally:
        go.set()
        if not owner.done():
            owner.cancel()

    clock.advance(READ_WAIT_SECONDS)
    await shop.work()
    [change] = await _order_changes(shop)
    assert change["saleor_user_id"] == ann.global_id
    assert shop.member(shop.ids["news"], ANN).status == "subscribed"
    assert shop.consents(ANN)[await shop.offered_permission()] is True


async def test_a_read_of_another_checkout_is_not_waited_for(
    newsletter: Shop, monkeypatch: Any
) -> None:
    """Only a read of the order's own checkout holds it: another shopper's, under way, not."""
    shop = newsletter
    ann = await _confirmed_ann(shop)
    anns = await _checkout(shop, customer=ann)
    await _consent_unread(shop, anns)
    await shop.work()
    other = await _checkout(shop, customer=None, email="bob@example.com")
    await _consent_unread(shop, other)

    read, go = _hold_checkout_reads(monkeypatch)
    owner = asyncio.create_task(Worker(shop.services).run_until_idle())
    try:
        await read.wait()
        await shop.saleor.complete_checkout(anns, by_app=True)
        await Worker(shop.services).run_until_idle()
        [change] = await _order_changes(shop)
        assert change["saleor_user_id"] == ann.global_id
    finally:
        go.set()
        await asyncio.gather(owner, return_exceptions=True)
