"""Carts of checkouts Saleor makes without a webhook (`checkoutCreateFromOrder`, "buy again")
reach Mailchimp all the same, within the discovery's interval (`ecommerce/cart_discovery.py`);
checkouts whose webhooks came are not pushed a second time."""

from __future__ import annotations

from datetime import timedelta

from addon.clock import ManualClock
from addon.ecommerce.cart_discovery import schedule_discovery
from sandboxes.saleor.store_checkouts import LineSpec
from tests.conftest import RecordingTransport
from tests.ecommerce.conftest import Shop, store_row

# What the docs promise (docs/abandoned-carts.md): a quarter of an hour at most.
WITHIN = timedelta(minutes=16)


def _new_checkout_reads(outbound: RecordingTransport) -> int:
    return sum(b"EcommerceNewCheckouts" in r.content for r in outbound.requests)


async def test_a_buy_again_checkout_saleor_made_silently_becomes_a_cart(
    shop: Shop, clock: ManualClock, outbound: RecordingTransport
) -> None:
    product = await shop.product("Fennel", "4.00")
    ann = await shop.saleor.create_customer("ann@example.com", "Ann", "Lee")
    bought = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 2)], customer=ann
    )
    order = await shop.saleor.complete_checkout(bought)
    await shop.drain()
    assert shop.carts() == {}

    # "Buy again": Saleor makes the checkout and tells no one; Ann looks at it and leaves.
    again = shop.saleor.store.create_checkout_from_order(order, ann)
    assert [(ln.variant_id, ln.quantity) for ln in again.lines] == [(product.variants[0].id, 2)]
    await shop.drain()
    assert shop.carts() == {}  # no webhook: nothing knew of it yet

    clock.advance(WITHIN.total_seconds())
    await shop.drain()
    cart = shop.carts()[str(again.token)]
    assert cart.customer.email_address == "ann@example.com"
    assert [(ln.product_variant_id, ln.quantity) for ln in cart.lines] == [
        (str(product.variants[0].id), 2)
    ]

    # The next look reads what was created since, and pushes nothing again.
    writes = len(shop.writes())
    clock.advance(WITHIN.total_seconds())
    await shop.drain()
    assert len(shop.writes()) == writes
    assert _new_checkout_reads(outbound) >= 2


async def test_checkouts_whose_webhooks_came_or_without_email_are_left_alone(
    shop: Shop, clock: ManualClock
) -> None:
    product = await shop.product("Chard", "2.00")
    announced = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], email="bo@example.com"
    )
    await shop.drain()
    assert set(shop.carts()) == {str(announced.token)}
    writes = shop.writes()
    # A guest's checkout without an e-mail, made without a webhook: nothing to recover.
    shop.saleor.store.create_checkout(lines=[LineSpec(product.variants[0].id, 1)])
    clock.advance(WITHIN.total_seconds())
    await shop.drain()
    assert set(shop.carts()) == {str(announced.token)}
    assert shop.writes() == writes


async def test_a_look_queued_in_place_of_the_next_does_not_skip_its_span(
    shop: Shop, clock: ManualClock
) -> None:
    """`ensure_discovery` (the cart sweep's scheduling, a process start) checks for a pending
    look, then queues one; a running look may queue its next in between, which the second
    merges into. Before, that merge replaced where the next look starts with "now", and a
    "buy again" checkout made in the last minutes was never read (found by a review)."""
    product = await shop.product("Leek", "3.00")
    ann = await shop.saleor.create_customer("ann@example.com", "Ann", "Lee")
    bought = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], customer=ann
    )
    order = await shop.saleor.complete_checkout(bought)
    await shop.drain()
    again = shop.saleor.store.create_checkout_from_order(order, ann)
    clock.advance(1)
    installation_id = (await store_row(shop)).installation_id
    async with shop.services.db.transaction() as session:
        # The running look's next, from where it stopped (it read just before the silent
        # checkout was made)...
        await schedule_discovery(session, installation_id, since=again.created)
        # ...and the one queued after a check that saw none pending, merged into it.
        await schedule_discovery(session, installation_id)
    clock.advance(WITHIN.total_seconds())
    await shop.drain()
    assert str(again.token) in shop.carts()
