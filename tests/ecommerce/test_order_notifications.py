"""The order notifications Mailchimp sends for what the app sends: a new order its Order
Confirmation (created `pending`) and, once paid, its Invoice; nothing for history sent under
`is_syncing` (the Mailchimp sandbox records them, `orders.notify`)."""

from __future__ import annotations

from datetime import timedelta

from addon.db.types import utcnow
from sandboxes.saleor import Customer, Product
from tests.ecommerce.conftest import Shop
from tests.ecommerce.test_store_state import recreate_deleted_store


def _sent(shop: Shop) -> list[tuple[str, str]]:
    return shop.mailchimp.notifications(shop.account, shop.store_id)


async def _buyer(shop: Shop) -> tuple[Product, Customer]:
    product = await shop.product("Fig", "2.00")
    return product, await shop.saleor.create_customer("ann@example.com", "Ann", "Lee")


async def test_an_order_paid_at_checkout_gets_its_confirmation_and_its_invoice(
    shop: Shop,
) -> None:
    """Created `paid`, Mailchimp would send no confirmation: the app creates it `pending`,
    then makes it `paid`, as Mailchimp for WooCommerce does."""
    product, customer = await _buyer(shop)
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)], user=customer, paid=True
    )
    await shop.drain()
    number = str(order.number)
    assert _sent(shop) == [(number, "order_confirmation"), (number, "order_invoice")]
    assert shop.orders()[number].financial_status == "paid"


async def test_an_order_paid_later_gets_each_when_it_happens(shop: Shop) -> None:
    product, customer = await _buyer(shop)
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)], user=customer, paid=False
    )
    await shop.drain()
    number = str(order.number)
    assert _sent(shop) == [(number, "order_confirmation")]
    await shop.saleor.mark_order_paid(order)
    await shop.drain()
    assert _sent(shop) == [(number, "order_confirmation"), (number, "order_invoice")]


async def test_a_recreated_stores_history_e_mails_no_one(shop: Shop) -> None:
    product, customer = await _buyer(shop)
    old = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)], user=customer, paid=True
    )
    await shop.drain()
    await recreate_deleted_store(shop)
    await shop.drain()
    assert str(old.number) in shop.orders()
    assert _sent(shop) == []  # the new store's own list: its history sent nothing


async def test_an_old_order_new_to_mailchimp_is_no_new_purchase(shop: Shop) -> None:
    """A channel tracked without an initial sync, an order of last week fulfilled today: sent
    as it is, paid, with no Order Confirmation for a purchase long past."""
    product, customer = await _buyer(shop)
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)],
        user=customer,
        paid=True,
        created=utcnow() - timedelta(days=7),
    )
    await shop.drain()
    assert _sent(shop) == [(str(order.number), "order_invoice")]
