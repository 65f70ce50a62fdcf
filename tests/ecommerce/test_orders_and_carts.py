"""Customers, orders (dependencies, status mapping, attribution) and abandoned carts. Orders
nobody has confirmed or paid yet: tests/ecommerce/test_unconfirmed_orders.py."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from addon.ecommerce.models import EcommerceSettings, EntityKind, SyncStatus
from addon.jobs.worker import Worker
from sandboxes.saleor.order_models import OrderOrigin
from sandboxes.saleor.store_checkouts import LineSpec
from sandboxes.saleor.voucher_models import VoucherType
from tests.ecommerce.conftest import CHANNEL, Shop


async def test_customer_and_email_change_follow_the_user(shop: Shop) -> None:
    customer = await shop.saleor.create_customer("ann@example.com", "Ann", "Lee")
    await shop.drain()
    [mc] = shop.mailchimp.customers(shop.account, shop.store_id)
    assert (mc.id, mc.email_address, mc.first_name) == (str(customer.id), "ann@example.com", "Ann")
    assert mc.opt_in_status is False  # no recorded consent: never opted in by default
    await shop.saleor.update_customer(customer, email="ann.lee@example.com")
    await shop.drain()
    [mc] = shop.mailchimp.customers(shop.account, shop.store_id)
    assert mc.email_address == "ann.lee@example.com"


async def test_customers_carry_their_billing_company_and_address(shop: Shop) -> None:
    """A registered customer's default billing address, a guest's order billing address: their
    company and postal address reach Mailchimp's customer (both are its fields)."""
    store = shop.saleor.store
    billing = store.new_address(
        first_name="Cy",
        last_name="Oak",
        street_address_1="2 Elm Rd",
        city="Leeds",
        postal_code="LS1 1AA",
        country="GB",
        company_name="Oak & Co",
    )
    customer = await shop.saleor.create_customer("cy@example.com", "Cy", "Oak", addresses=[billing])
    product = await shop.product("Fig", "2.00")
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)],
        email="guest.fig@example.com",
        billing_address=billing.model_copy(update={"id": store.next_id()}),
    )
    await shop.drain()
    by_address = {c.email_address: c for c in shop.mailchimp.customers(shop.account, shop.store_id)}
    registered, guest = by_address["cy@example.com"], by_address["guest.fig@example.com"]
    assert registered.id == str(customer.id)
    assert shop.orders()[str(order.id)].customer.id == guest.id
    for mc in (registered, guest):
        assert mc.company == "Oak & Co"
        assert (mc.address["address1"], mc.address["city"], mc.address["country_code"]) == (
            "2 Elm Rd",
            "Leeds",
            "GB",
        )


async def test_an_order_with_unseen_products_creates_them_first(shop: Shop) -> None:
    store = shop.saleor.store
    unseen = store.create_product("Melon", [])  # no webhook: the app has never seen it
    customer = await shop.saleor.create_customer("bo@example.com", "Bo", "Ng")
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(unseen.variants[0], 2)], user=customer, paid=False
    )
    await shop.drain()
    writes = shop.writes()
    assert writes.index("POST /products") < writes.index("POST /orders")
    mc = shop.orders()[str(order.id)]
    assert mc.financial_status == "pending"
    assert [(ln.product_id, ln.quantity) for ln in mc.lines] == [(str(unseen.id), 2)]
    assert mc.customer.id == str(customer.id)
    assert mc.processed_at_foreign


async def test_order_status_changes_map_to_mailchimp_statuses(shop: Shop) -> None:
    product = await shop.product("Grape", "5.00")
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 2)],
        email="guest@example.com",
        paid=False,
        shipping_price=Decimal("3.00"),
    )
    await shop.drain()
    mc = shop.orders()[str(order.id)]
    assert (mc.financial_status, mc.fulfillment_status) == ("pending", "")
    assert (mc.order_total, mc.shipping_total) == (13.0, 3.0)
    await shop.saleor.mark_order_paid(order)
    await shop.drain()
    assert shop.orders()[str(order.id)].financial_status == "paid"
    await shop.saleor.fulfill_order(order)
    await shop.drain()
    assert shop.orders()[str(order.id)].fulfillment_status == "shipped"
    await shop.saleor.refund_transaction(order, Decimal("5.00"))
    await shop.drain()
    refunded = shop.orders()[str(order.id)]
    # Mailchimp's revenue is the order totals: the refunded part is taken off.
    assert (refunded.financial_status, refunded.order_total) == ("partially_refunded", 8.0)
    await shop.saleor.refund_transaction(order)
    await shop.drain()
    refunded = shop.orders()[str(order.id)]
    assert (refunded.financial_status, refunded.order_total) == ("refunded", 0.0)
    # each status change is one PATCH of the order's fields
    assert shop.writes().count(f"PATCH /orders/{order.id}") == 4


@pytest.mark.parametrize(("off", "shipping", "discount"), [(5, 6.25, 6.25), (10, 0.0, 12.5)])
async def test_a_shipping_discount_on_prices_entered_net_counts_with_its_tax(
    shop: Shop, off: int, shipping: float, discount: float
) -> None:
    """Saleor's undiscounted shipping is the base as entered (`undiscounted_base_shipping_price`,
    net here): 10.00, 12.50 with its 25 % tax. 5.00 off leaves 5.00 net, 6.25 gross: 6.25 off
    gross, like the lines' discounts (compared with the gross paid, the net base would say
    3.75); all of it off, free shipping, 12.50."""
    store = shop.saleor.store
    store.tax_configuration(CHANNEL).prices_entered_with_tax = False
    product = await shop.product("Quince", "10.00")
    await shop.saleor.vouchers.create(
        "Post", ["POST"], channels={CHANNEL: off}, type=VoucherType.SHIPPING
    )
    order = await shop.saleor.vouchers.create_order(
        "POST",
        lines=[shop.saleor.order_line(product.variants[0], 1)],
        shipping_price=Decimal("10.00"),
        shipping_tax_rate=Decimal("0.25"),
        email="quince@example.com",
    )
    await shop.drain()
    mc = shop.orders()[str(order.number)]
    assert (mc.shipping_total, mc.discount_total) == (shipping, discount)


@pytest.mark.parametrize(
    "origin", [OrderOrigin.CHECKOUT, OrderOrigin.DRAFT, OrderOrigin.BULK_CREATE]
)
async def test_undiscounted_shipping_entered_net_is_no_discount_whatever_the_origin(
    shop: Shop, origin: OrderOrigin
) -> None:
    """Each origin's `undiscountedTotal` adds the shipping its own way (a checkout's untaxed
    base, a draft's taxed, an import's its price): read from it, a draft's or an import's
    shipping tax would count as a discount. `undiscountedShippingPrice` is the base on all."""
    shop.saleor.store.tax_configuration(CHANNEL).prices_entered_with_tax = False
    product = await shop.product("Quince", "10.00")
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)],
        shipping_price=Decimal("10.00"),
        shipping_tax_rate=Decimal("0.25"),
        email="quince@example.com",
        origin=origin,
        paid=True,
    )
    await shop.drain()
    mc = shop.orders()[str(order.number)]
    assert (mc.shipping_total, mc.discount_total) == (12.5, 0.0)


async def test_gift_cards_are_payments_not_discounts(shop: Shop) -> None:
    """Saleor takes a gift card off the order's total alone (net in proportion, so its tax
    shrinks too): Mailchimp gets the order's value, the discounts without the gift card and the
    tax the lines and shipping were charged, so its revenue (total less shipping and tax) is
    the goods' however they were paid for."""
    store = shop.saleor.store
    product = await shop.product("Quince", "10.00")
    line = store.order_line_for(product.variants[0], 3, tax_rate=Decimal("0.25"))
    order = await shop.saleor.create_order(
        lines=[line],
        email="quince@example.com",
        shipping_price=Decimal("5.00"),
        shipping_tax_rate=Decimal("0.25"),
        discounts=[shop.saleor.discount(Decimal("4.00"), type="VOUCHER", value_type="FIXED")],
        gift_cards_used=Decimal("30.00"),
    )
    await shop.drain()
    mc = shop.orders()[str(order.id)]
    # 30 + 5 - 4 = 31, of which 30 paid with the gift card, 1 charged: paid in full.
    assert (mc.order_total, mc.discount_total, mc.shipping_total) == (31.0, 4.0, 5.0)
    assert mc.financial_status == "paid"
    # Tax at 25 % on 26 of goods and 5 of shipping: 5.2 + 1.
    assert mc.tax_total == 6.2
    # The voucher is spread over the line (Saleor's order-level propagation), exactly.
    assert [(ln.price, ln.discount) for ln in mc.lines] == [(round(26 / 3, 2), 4.0)]


async def test_a_carts_value_is_before_gift_cards(shop: Shop) -> None:
    product = await shop.product("Yuzu", "7.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 2)],
        email="yuzu@example.com",
        shipping_price=Decimal("3.00"),
    )
    await shop.saleor.update_checkout(checkout, gift_card_balance=Decimal("10.00"))
    await shop.drain()
    assert shop.carts()[str(checkout.token)].order_total == 17.0


async def test_cancellation(shop: Shop) -> None:
    product = await shop.product("Lime", "1.00")
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0])], email="c@example.com"
    )
    await shop.drain()
    await shop.saleor.cancel_order(order)
    await shop.drain()
    mc = shop.orders()[str(order.id)]
    assert mc.financial_status == "cancelled"
    assert mc.cancelled_at_foreign
    # Mailchimp counts every order's total as revenue: a cancelled one's are all 0, and the
    # customer has spent nothing.
    assert (mc.order_total, mc.discount_total, mc.tax_total, mc.shipping_total) == (0, 0, 0, 0)
    path = f"/ecommerce/stores/{shop.store_id}/customers"
    customers = await shop.mailchimp.call(
        shop.account, "GET", path, {"email_address": "c@example.com"}
    )
    assert customers.body is not None
    assert [(c["orders_count"], c["total_spent"]) for c in customers.body["customers"]] == [(1, 0)]


async def test_line_prices_are_per_item(shop: Shop) -> None:
    """Mailchimp multiplies a line's price by its quantity."""
    product = await shop.product("Fig", "2.50")
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 4)], email="f@example.com"
    )
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 3)], email="f@example.com"
    )
    await shop.drain()
    [line] = shop.orders()[str(order.id)].lines
    assert (line.quantity, line.price) == (4, 2.5)
    [cart_line] = shop.carts()[str(checkout.token)].lines
    assert (cart_line.quantity, cart_line.price) == (3, 2.5)


async def test_attribution_and_a_stale_campaign_never_fails_the_order(shop: Shop) -> None:
    product = await shop.product("Nut", "2.00")
    campaign = shop.mailchimp.add_campaign(shop.account, shop.list_id)
    good = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0])],
        email="a@example.com",
        metadata={
            "mailchimp_campaign_id": campaign,
            "mailchimp_tracking_code": "prec",
            "mailchimp_landing_site": "https://shop.grocer.example/?mc_cid=x",
        },
    )
    stale = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0])],
        email="b@example.com",
        metadata={"mailchimp_campaign_id": "gone123"},
    )
    await shop.drain()
    orders = shop.orders()
    assert orders[str(good.id)].campaign_id == campaign
    assert orders[str(good.id)].tracking_code == "prec"
    assert orders[str(good.id)].landing_site == "https://shop.grocer.example/?mc_cid=x"
    assert orders[str(stale.id)].campaign_id == ""


async def test_duplicated_and_out_of_order_webhooks_do_not_corrupt_state(shop: Shop) -> None:
    product = await shop.product("Date", "3.00")
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0])], email="d@example.com", paid=False
    )
    await shop.drain()
    created = next(d for d in shop.saleor.deliveries if d.event_type == "ORDER_CREATED")
    await shop.saleor.mark_order_paid(order)
    await shop.drain()
    before = len(shop.writes())
    # The old ORDER_CREATED arrives again (and late): it must not turn the order back to pending.
    await shop.saleor.redeliver(created)
    paid = [d for d in shop.saleor.deliveries if d.event_type == "ORDER_FULLY_PAID"][-1]
    await shop.saleor.redeliver(paid)
    await shop.drain()
    assert shop.orders()[str(order.id)].financial_status == "paid"
    assert len(shop.writes()) == before  # nothing changed, nothing sent


async def test_checkout_bursts_coalesce_and_the_order_deletes_the_cart(shop: Shop) -> None:
    product = await shop.product("Tea", "4.00", "6.00")
    await shop.drain()
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], email="tea@example.com"
    )
    for quantity in range(2, 30):
        await shop.saleor.update_checkout(
            checkout, set_quantities={product.variants[0].id: quantity}
        )
    await shop.saleor.update_checkout(checkout, add_lines=[LineSpec(product.variants[1].id, 1)])
    await Worker(shop.services).run_until_idle()
    assert shop.carts() == {}  # still inside the debounce window
    await shop.drain()
    [cart] = shop.carts().values()
    assert cart.id == str(checkout.token)
    assert cart.checkout_url == f"https://shop.grocer.example/checkout?token={checkout.token}"
    assert {ln.product_variant_id: ln.quantity for ln in cart.lines} == {
        str(product.variants[0].id): 29,
        str(product.variants[1].id): 1,
    }
    assert cart.order_total == 29 * 4 + 6
    # One cart made, of a shopper new to the audience: refused, the contact added, then taken
    # (`cart_audience.py`).
    assert [w for w in shop.writes() if "/carts" in w] == ["POST /carts", "POST /carts"]
    order = await shop.saleor.complete_checkout(checkout)
    await shop.drain()
    assert shop.carts() == {}
    assert str(order.id) in shop.orders()
    record = await shop.record(EntityKind.CART, checkout.global_id)
    assert record is not None and record.status is SyncStatus.REMOVED


async def test_checkouts_without_email_or_with_carts_off_are_not_sent(shop: Shop) -> None:
    product = await shop.product("Rice", "1.00")
    await shop.saleor.create_checkout(lines=[LineSpec(product.variants[0].id, 1)])
    await shop.drain()
    assert shop.carts() == {}
    await shop.api("PATCH", "/api/ecommerce/settings", {"abandoned_carts_enabled": False})
    await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], email="r@example.com"
    )
    await shop.drain()
    assert shop.carts() == {}


async def test_orders_imported_in_bulk_reach_mailchimp(shop: Shop) -> None:
    """`orderBulkCreate` sends one ORDER_BULK_CREATED for them all and no ORDER_CREATED."""
    product = await shop.product("Fig", "2.00")
    await shop.drain()
    imported = await shop.saleor.bulk_create_orders(
        [
            {"lines": [shop.saleor.order_line(product.variants[0], 1)], "email": f"p{i}@x.example"}
            for i in range(3)
        ]
    )
    await shop.drain()
    assert set(shop.orders()) >= {str(o.id) for o in imported}


async def test_a_guest_order_from_before_saleor_3_2_is_not_sent_under_its_hidden_address(
    shop: Shop,
) -> None:
    """Saleor shows a pre-3.2 guest order's e-mail as "j...@example.com" to everyone
    (`use_old_id`): once, it became a Mailchimp customer of that made-up address."""
    product = await shop.product("Fig", "2.00")
    ann = await shop.saleor.create_customer("ann@example.com", "Ann", "Lee")
    await shop.drain()
    store = shop.saleor.store
    guest = store.create_order(lines=[store_line(shop, product)], email="jane@example.com")
    hers = store.create_order(lines=[store_line(shop, product)], user=ann)
    for order in (guest, hers):
        order.use_old_id = True
        await shop.saleor.emit("ORDER_CREATED", order)
    await shop.drain()
    orders = shop.orders()
    assert str(guest.id) not in orders and orders[str(hers.id)].customer.id == str(ann.id)
    addresses = {c.email_address for c in shop.mailchimp.customers(shop.account, shop.store_id)}
    assert addresses == {"ann@example.com"}


def store_line(shop: Shop, product: Any) -> Any:
    return shop.saleor.order_line(product.variants[0], 1)


async def test_an_order_links_to_its_page_on_the_storefront(shop: Shop) -> None:
    template = "https://shop.grocer.example/{channel}/account/orders/{number}"
    response = await shop.api("PATCH", "/api/ecommerce/settings", {"order_url_template": template})
    assert response.status_code == 200, response.text
    assert response.json()["settings"]["order_url_template"] == template
    product = await shop.product("Fig", "3.00")
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)], email="fig@example.com"
    )
    await shop.drain()
    mc = shop.orders()[str(order.id)]
    assert mc.order_url == f"https://shop.grocer.example/default-channel/account/orders/{order.id}"


async def test_an_order_link_saved_before_it_was_checked_is_left_out_not_the_order(
    shop: Shop,
) -> None:
    """Settings saved before templates were checked as links may hold one that makes no link
    Mailchimp takes (it refuses an order whose `order_url` is not a full URL): the order goes
    without it."""
    response = await shop.api("PATCH", "/api/ecommerce/settings", {"tracking_enabled": True})
    assert response.status_code == 200, response.text
    async with shop.services.db.transaction() as session:
        settings = (await session.execute(select(EcommerceSettings))).scalar_one()
        settings.order_url_template = "https://shop.grocer.example/my orders/{number}"
    product = await shop.product("Fig", "3.00")
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)], email="fig@example.com"
    )
    await shop.drain()
    assert shop.orders()[str(order.id)].order_url == ""
