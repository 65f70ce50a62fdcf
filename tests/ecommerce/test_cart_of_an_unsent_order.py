"""The cart of a placed order goes even when Mailchimp refuses the order: the checkout became
the order whatever Mailchimp made of it. Before, the cart was removed only with the order's
push succeeding, and stayed until the daily sweep, Mailchimp e-mailing the buyer about their
abandoned cart meanwhile."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from addon.ecommerce.models import EntityKind, SyncStatus
from addon.installations.models import Installation
from addon.mailchimp import MailchimpClient
from addon.mailchimp.errors import BadRequest
from sandboxes.saleor.store_checkouts import LineSpec
from sandboxes.saleor.versions import OLDEST_VERSION
from tests.ecommerce.conftest import Shop


async def test_the_cart_goes_though_mailchimp_refuses_the_order(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    product = await shop.product("Tea", "4.00")
    await shop.drain()
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], email="tea@example.com"
    )
    await shop.drain()
    assert str(checkout.token) in shop.carts()

    async def refused(self: MailchimpClient, *args: Any, **kwargs: Any) -> Any:
        raise BadRequest("Invalid Resource", status=400, title="Invalid Resource")

    monkeypatch.setattr(MailchimpClient, "create_order", refused)
    # Authorized only, on a Saleor before CHECKOUT_FULLY_AUTHORIZED (3.22): no checkout event
    # removes the cart before the order's push.
    shop.saleor.version = OLDEST_VERSION
    async with shop.services.db.transaction() as session:  # as the app read it from Saleor
        await session.execute(update(Installation).values(saleor_version=OLDEST_VERSION))
    total = shop.saleor.store.checkout_total(shop.saleor.store.get_checkout(checkout.token))
    await shop.saleor.pay_checkout(checkout, authorized=total)
    await shop.drain()
    assert str(checkout.token) in shop.carts()
    order = await shop.saleor.complete_checkout(checkout)
    await shop.drain()

    assert str(order.id) not in shop.orders()
    assert shop.carts() == {}
    cart = await shop.record(EntityKind.CART, checkout.global_id)
    assert cart is not None and cart.status is SyncStatus.REMOVED
    placed = await shop.record(EntityKind.ORDER, order.global_id)
    assert placed is not None and placed.status is SyncStatus.QUARANTINED
