"""A channel the admin deactivates sells nothing: Saleor answers customers no product of an
inactive channel (saleor/product/managers.py `ProductsQueryset.published`,
`ProductVariantQueryset.visible_to_user`: "if not channel or not channel.is_active") and
checkoutComplete refuses it. Before the fix the app read no channel state with a product
(`ProductPublication`), so its products stayed visible and in stock in Mailchimp, recommended
in e-mails; and as CHANNEL_STATUS_CHANGED reaches only apps with MANAGE_CHANNELS, nothing sent
them again when the channel was deactivated or activated again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from addon.clock import ManualClock
from addon.ecommerce.daily_sweep import SWEEP_EVERY
from addon.ecommerce.payloads import mailchimp_id
from addon.ecommerce.reprice import REPRICE_JOB
from addon.jobs.models import Job
from sandboxes.saleor.channels import ChannelRefused
from sandboxes.saleor.models import Product as SaleorProduct
from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import CHANNEL, Shop, store_row


def shown(shop: Shop, product_id: str) -> list[tuple[str, int]]:
    product = shop.products()[mailchimp_id(product_id)]
    return [(v.visibility, v.inventory_quantity) for v in product.variants]


async def _scarf(shop: Shop) -> SaleorProduct:
    product = await shop.product("Scarf", "20.00")
    await shop.saleor.update_variant(product.variants[0], quantity=7)
    await shop.drain()
    assert shown(shop, product.global_id) == [("visible", 7)]
    return product


async def _reprices(shop: Shop) -> int:
    async with shop.services.db.session() as session:
        return len(list(await session.scalars(select(Job).where(Job.kind == REPRICE_JOB))))


async def _page(shop: Shop) -> None:
    response = await shop.api("GET", "/api/ecommerce")
    assert response.status_code == 200, response.text


async def test_products_of_a_deactivated_channel_are_not_recommended(shop: Shop) -> None:
    """Before: a product of a deactivated channel was pushed visible and in stock, its
    listing's channel state never read."""
    product = await _scarf(shop)
    shop.saleor.store.channel_by_slug(CHANNEL).is_active = False  # nothing tells the app
    await shop.saleor.update_variant(product.variants[0], quantity=6)
    await shop.drain()
    assert shown(shop, product.global_id) == [("hidden", 0)]


async def test_a_deactivation_seen_on_the_page_hides_the_products(shop: Shop) -> None:
    """Before: a deactivation seen in the channel list on the E-commerce page's load changed
    nothing in Mailchimp until each product was edited; now it re-pushes the channel's products
    hidden, and an activation re-pushes them visible."""
    product = await _scarf(shop)
    before = len(shop.saleor.deliveries)
    await shop.saleor.channels.set_active(CHANNEL, False)
    assert shop.saleor.deliveries[before:] == []  # CHANNEL_STATUS_CHANGED: MANAGE_CHANNELS only
    await shop.drain()
    assert shown(shop, product.global_id) == [("visible", 7)]  # nothing told the app yet

    await _page(shop)
    await shop.drain()
    assert shown(shop, product.global_id) == [("hidden", 0)]
    assert (await store_row(shop)).channel_inactive_since is not None

    reprices = await _reprices(shop)
    writes = len(shop.writes())
    await _page(shop)  # no change: nothing queued, nothing sent
    await shop.drain()
    assert await _reprices(shop) == reprices
    assert len(shop.writes()) == writes

    await shop.saleor.channels.set_active(CHANNEL, True)
    await _page(shop)
    await shop.drain()
    assert shown(shop, product.global_id) == [("visible", 7)]
    assert (await store_row(shop)).channel_inactive_since is None


async def test_the_page_says_the_channel_is_inactive(shop: Shop) -> None:
    """Before: the E-commerce page's channel said nothing of Saleor's state, so its card could
    not tell the admin why the channel's products were hidden in Mailchimp."""
    await _scarf(shop)

    def channel(body: dict[str, Any]) -> dict[str, Any]:
        return next(c for c in body["channels"] if c["slug"] == CHANNEL)

    response = await shop.api("GET", "/api/ecommerce")
    assert channel(response.json())["channel_active"] is True
    assert channel(response.json())["channel_inactive_since"] is None

    await shop.saleor.channels.set_active(CHANNEL, False)
    response = await shop.api("GET", "/api/ecommerce")
    read = channel(response.json())
    assert read["channel_active"] is False
    since = (await store_row(shop)).channel_inactive_since
    assert since is not None
    assert datetime.fromisoformat(read["channel_inactive_since"]) == since

    await shop.saleor.channels.set_active(CHANNEL, True)
    response = await shop.api("GET", "/api/ecommerce")
    assert channel(response.json())["channel_active"] is True
    assert channel(response.json())["channel_inactive_since"] is None


async def test_the_daily_sweep_notices_a_deactivation(shop: Shop, clock: ManualClock) -> None:
    """Before: the daily product sweep read no channel list, so a channel deactivated while no
    one opened the E-commerce page kept its products recommended; now the sweep re-pushes them
    hidden, and visible again after the channel's activation."""
    product = await _scarf(shop)
    await shop.saleor.channels.set_active(CHANNEL, False)
    clock.advance(SWEEP_EVERY.total_seconds())
    await shop.drain()
    assert shown(shop, product.global_id) == [("hidden", 0)]
    assert (await store_row(shop)).channel_inactive_since is not None

    await shop.saleor.channels.set_active(CHANNEL, True)
    clock.advance(SWEEP_EVERY.total_seconds())
    await shop.drain()
    assert shown(shop, product.global_id) == [("visible", 7)]
    assert (await store_row(shop)).channel_inactive_since is None


async def test_the_sandbox_refuses_a_channel_already_in_that_state(shop: Shop) -> None:
    """Saleor's channelDeactivate and channelActivate refuse a channel already so (INVALID:
    saleor/graphql/channel/mutations/channel_deactivate.py `clean_channel_availability`)."""
    with pytest.raises(ChannelRefused) as refused:
        await shop.saleor.channels.set_active(CHANNEL, True)
    assert refused.value.code == "INVALID"


async def test_abandoned_carts_survive_a_channel_switched_off_and_on(shop: Shop) -> None:
    """The products of a deactivated channel go hidden, and each re-queued the channel's carts,
    whose push left every line out and so deleted the cart in Mailchimp; the activation brought
    the products back, never the carts. A cart keeps its lines (`publication.purchasable`)."""
    scarf = await shop.product("Scarf", "20.00")
    await shop.saleor.update_variant(scarf.variants[0], quantity=7)
    await shop.drain()
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(scarf.variants[0].id, 1)], email="lee@example.com"
    )
    await shop.drain()
    assert str(checkout.token) in shop.carts()

    await shop.saleor.channels.set_active(CHANNEL, False)
    await _page(shop)
    await shop.drain()
    await shop.saleor.channels.set_active(CHANNEL, True)
    await _page(shop)
    await shop.drain()
    assert str(checkout.token) in shop.carts(), "the abandoned cart is gone from Mailchimp"
