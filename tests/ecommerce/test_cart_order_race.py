"""A cart push and its order's push run side by side (each in its own lane): the cart's write
may land after the order's push took the cart away. The bought checkout's cart must not stay in
Mailchimp (its abandoned-cart e-mails would go out until the daily sweep)."""

from __future__ import annotations

from typing import Any

import pytest

from addon.ecommerce.models import EntityKind, SyncStatus
from addon.jobs.worker import Worker
from addon.mailchimp.client_ecommerce import EcommerceCalls
from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import Shop


async def test_a_cart_sent_after_its_order_was_pushed_goes(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    fig = await shop.product("Fig", "2.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 1)], email="guest@example.com"
    )
    create_cart = EcommerceCalls.create_cart
    raced: list[bool] = []

    async def order_pushed_meanwhile(self: Any, store_id: str, cart: Any) -> Any:
        if not raced:
            raced.append(True)
            # The cart's push read the checkout; the shopper pays before it writes.
            await shop.saleor.complete_checkout(checkout)
            await Worker(shop.services).run_until_idle()
        return await create_cart(self, store_id, cart)

    monkeypatch.setattr(EcommerceCalls, "create_cart", order_pushed_meanwhile)
    await shop.drain()
    assert raced and len(shop.orders()) == 1
    assert str(checkout.token) not in shop.carts()
    record = await shop.record(EntityKind.CART, checkout.global_id)
    assert record is not None and record.status is SyncStatus.REMOVED


async def test_a_checkout_saleor_keeps_after_its_order_is_no_cart_again(shop: Shop) -> None:
    """`orderCreateFromCheckout(removeCheckout: false)` (in the schema since 3.20) leaves the
    checkout in Saleor, lines and e-mail: neither the order's push nor a later change of it
    sends it back as a cart."""
    fig = await shop.product("Fig", "2.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 1)], email="guest@example.com"
    )
    await shop.drain()
    await shop.saleor.create_order(
        lines=[shop.saleor.order_line(fig.variants[0], 1)],
        email="guest@example.com",
        checkout_token=checkout.token,
    )
    assert shop.saleor.store.checkouts.get(checkout.token) is not None
    await shop.drain()
    assert len(shop.orders()) == 1 and str(checkout.token) not in shop.carts()
    await shop.saleor.update_checkout(checkout, set_quantities={fig.variants[0].id: 2})
    await shop.drain()
    assert str(checkout.token) not in shop.carts()
