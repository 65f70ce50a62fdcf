"""Products customers cannot see or buy in the channel (not published, or not yet available for
purchase) are sent hidden and out of stock, and on offer again once they are: on the edit's
webhook, or at their date, which sends none (`ecommerce/publication.py`, `offer_dates.py`)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from addon.clock import ManualClock
from addon.ecommerce.models import EntityKind, SyncStatus
from addon.ecommerce.offer_dates import OFFER_JOB
from addon.ecommerce.payloads import mailchimp_id
from addon.jobs.models import Job, JobStatus
from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import CHANNEL, Shop


def shown(shop: Shop, product_id: str) -> list[tuple[str, int]]:
    product = shop.products()[mailchimp_id(product_id)]
    return [(v.visibility, v.inventory_quantity) for v in product.variants]


async def offer_checks(shop: Shop) -> list[Job]:
    async with shop.services.db.session() as session:
        found = await session.scalars(
            select(Job).where(Job.kind == OFFER_JOB, Job.status == JobStatus.PENDING)
        )
        return list(found)


async def test_an_unpublished_product_is_hidden_until_it_is_published(shop: Shop) -> None:
    product = await shop.product("Scarf", "20.00")
    await shop.saleor.update_variant(product.variants[0], quantity=7)
    await shop.drain()
    assert shown(shop, product.global_id) == [("visible", 7)]

    await shop.saleor.publish(product, CHANNEL, is_published=False)
    await shop.drain()
    assert shown(shop, product.global_id) == [("hidden", 0)]
    assert await offer_checks(shop) == []  # only an edit publishes it again

    await shop.saleor.publish(product, CHANNEL, is_published=True)
    await shop.drain()
    assert shown(shop, product.global_id) == [("visible", 7)]


async def test_a_product_not_yet_for_sale_goes_on_offer_at_its_date(
    shop: Shop, clock: ManualClock
) -> None:
    product = await shop.product("Boots", "80.00")
    await shop.saleor.update_variant(product.variants[0], quantity=3)
    launch = clock.now() + timedelta(days=2)
    # Published now, for sale in two days; then the date moved a day sooner.
    await shop.saleor.publish(product, CHANNEL, available_for_purchase_at=launch)
    await shop.drain()
    assert shown(shop, product.global_id) == [("hidden", 0)]
    sooner = launch - timedelta(days=1)
    await shop.saleor.publish(product, CHANNEL, available_for_purchase_at=sooner)
    await shop.drain()
    [check] = await offer_checks(shop)
    assert check.run_after == sooner

    clock.advance(timedelta(days=1, seconds=1).total_seconds())
    await shop.drain()
    assert shown(shop, product.global_id) == [("visible", 3)]
    assert await offer_checks(shop) == []
    record = await shop.record(EntityKind.PRODUCT, product.global_id)
    assert record is not None and record.status.value == "synced"


async def test_a_product_without_a_purchase_date_is_never_for_sale(shop: Shop) -> None:
    """`isAvailableForPurchase: false` clears the date (`get_available_for_purchase_date`):
    Saleor never sells it, so it stays hidden and nothing is scheduled."""
    product = await shop.product("Sample", "0.00")
    await shop.saleor.publish(product, CHANNEL, available_for_purchase_at=None)
    await shop.drain()
    assert shown(shop, product.global_id) == [("hidden", 0)]
    assert await offer_checks(shop) == []


async def test_a_cart_leaves_out_a_product_customers_can_no_longer_buy(shop: Shop) -> None:
    fig = await shop.product("Fig", "2.00")
    pear = await shop.product("Pear", "3.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 1), LineSpec(pear.variants[0].id, 2)],
        email="ann@example.com",
    )
    await shop.drain()
    cart = shop.carts()[str(checkout.token)]
    assert sorted(line.quantity for line in cart.lines) == [1, 2]
    await shop.saleor.publish(pear, CHANNEL, is_published=False)
    await shop.drain()  # the product's push queues the carts' pushes
    cart = shop.carts()[str(checkout.token)]
    assert [(line.product_id, line.quantity) for line in cart.lines] == [(str(fig.id), 1)]
    # Saleor keeps the line, which it will not sell: the cart counts what it shows.
    assert cart.order_total == 2.0


async def test_a_date_that_comes_once_the_channel_is_untracked_queues_nothing(
    shop: Shop, clock: ManualClock
) -> None:
    product = await shop.product("Hat", "15.00")
    launch = clock.now() + timedelta(hours=3)
    await shop.saleor.publish(product, CHANNEL, available_for_purchase_at=launch)
    await shop.drain()
    assert len(await offer_checks(shop)) == 1
    response = await shop.api("PUT", f"/api/ecommerce/channels/{CHANNEL}", {"tracked": False})
    assert response.status_code == 200, response.text
    clock.advance(timedelta(hours=3, seconds=1).total_seconds())
    await shop.drain()
    assert await offer_checks(shop) == []
    record = await shop.record(EntityKind.PRODUCT, product.global_id)
    assert record is not None and record.status is not SyncStatus.PENDING
