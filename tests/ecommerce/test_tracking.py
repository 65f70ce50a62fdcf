"""Shipment tracking on orders: a fulfilment's tracking number reaches Mailchimp's order with the
carrier and link of its shipping method, together with "shipped" (so the shipping confirmation
carries them), and a number added later follows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from addon.ecommerce.models import EcommerceSettings
from sandboxes.saleor.order_models import Order
from tests.ecommerce.conftest import Shop

RULES: list[dict[str, Any]] = [
    {
        "shipping_method": "DHL Express",
        "carrier": "DHL",
        "url_template": "https://www.dhl.com/track?n={number}&zip={postal_code}",
    },
    {"shipping_method": "", "carrier": "Royal Mail", "url_template": None},
]


async def _rules(shop: Shop, rules: list[dict[str, Any]] = RULES) -> None:
    response = await shop.api("PATCH", "/api/ecommerce/settings", {"tracking_rules": rules})
    assert response.status_code == 200, response.text


async def _order(shop: Shop, method: str | None, **fields: Any) -> Order:
    product = await shop.product("Tea", "4.00", "6.00")
    order = await shop.saleor.create_order(
        lines=[
            shop.saleor.order_line(product.variants[0], 1),
            shop.saleor.order_line(product.variants[1], 2),
        ],
        email="tea@example.com",
        shipping_method_name=method,
        shipping_address=shop.saleor.address(postal_code="10 115", country="DE"),
        **fields,
    )
    await shop.drain()
    return order


def _events(shop: Shop, order: Order) -> list[str]:
    return [
        d.event_type
        for d in shop.saleor.deliveries
        if d.target_url.endswith("/ecommerce-orders") and order.global_id.encode() in d.body
    ]


async def test_a_tracked_shipment_goes_with_shipped_in_one_update(shop: Shop) -> None:
    await _rules(shop)
    order = await _order(shop, "DHL Express")
    before = len(shop.writes())
    await shop.saleor.fulfill_order(order, tracking_number="JD 0142")
    await shop.drain()
    mc = shop.orders()[str(order.id)]
    assert mc.fulfillment_status == "shipped"
    assert (mc.tracking_number, mc.tracking_carrier) == ("JD 0142", "DHL")
    assert mc.tracking_url == "https://www.dhl.com/track?n=JD%200142&zip=10%20115"
    # FULFILLMENT_CREATED, ORDER_UPDATED and ORDER_FULFILLED: one push, one PATCH carrying the
    # status and the tracking together (Mailchimp's shipping confirmation is sent on "shipped").
    assert _events(shop, order)[-3:] == ["FULFILLMENT_CREATED", "ORDER_UPDATED", "ORDER_FULFILLED"]
    assert shop.writes()[before:] == [f"PATCH /orders/{order.id}"]
    *_, patch = [r for r in shop.mailchimp.requests if r.method == "PATCH" and "/orders/" in r.path]
    assert patch.body["fulfillment_status"] == "shipped"
    assert patch.body["tracking_number"] == "JD 0142"


async def test_a_tracking_number_added_later_is_sent(shop: Shop) -> None:
    await _rules(shop)
    order = await _order(shop, "Courier of the day")
    await shop.saleor.fulfill_order(order)
    await shop.drain()
    mc = shop.orders()[str(order.id)]
    assert mc.fulfillment_status == "shipped" and mc.tracking_number == ""
    [fulfillment] = shop.saleor.store.get_order(order.id).fulfillments
    before = len(shop.writes())
    await shop.saleor.update_tracking_number(order, fulfillment, "RM123456785GB")
    await shop.drain()
    assert "FULFILLMENT_TRACKING_NUMBER_UPDATED" in _events(shop, order)
    mc = shop.orders()[str(order.id)]
    # No rule names this method: the rule for every other one (a carrier without a link).
    assert (mc.tracking_number, mc.tracking_carrier, mc.tracking_url) == (
        "RM123456785GB",
        "Royal Mail",
        "",
    )
    assert shop.writes()[before:] == [f"PATCH /orders/{order.id}"]
    # The same number again changes nothing and sends nothing.
    await shop.saleor.update_tracking_number(order, fulfillment, "RM123456785GB")
    await shop.drain()
    assert len(shop.writes()) == before + 1


async def test_partial_shipments_send_the_latest_tracking_number(shop: Shop) -> None:
    order = await _order(shop, "DHL Express")
    first, second = shop.saleor.store.get_order(order.id).lines
    await shop.saleor.fulfill_order(order, tracking_number="A-1", quantities={first.id: 1})
    await shop.drain()
    mc = shop.orders()[str(order.id)]
    assert (mc.fulfillment_status, mc.tracking_number) == ("partially_shipped", "A-1")
    # No rules: the number alone (no carrier or link is made up).
    assert (mc.tracking_carrier, mc.tracking_url) == ("", "")
    await shop.saleor.fulfill_order(order, tracking_number="B-2", quantities={second.id: 2})
    await shop.drain()
    mc = shop.orders()[str(order.id)]
    assert (mc.fulfillment_status, mc.tracking_number) == ("shipped", "B-2")


async def test_a_tracking_link_given_as_the_number_is_the_link(shop: Shop) -> None:
    await _rules(shop)
    order = await _order(shop, "DHL Express")
    link = "https://carrier.example/t/XYZ"
    await shop.saleor.fulfill_order(order, tracking_number=link)
    await shop.drain()
    mc = shop.orders()[str(order.id)]
    assert (mc.tracking_number, mc.tracking_url, mc.tracking_carrier) == (link, link, "DHL")


async def test_tracking_rules_are_checked_and_kept(shop: Shop) -> None:
    bad = [
        ([{"shipping_method": "", "carrier": "", "url_template": None}], "carrier"),
        (
            [{"shipping_method": "x", "carrier": "X", "url_template": "https://t.example/"}],
            "{number}",
        ),
        (
            [{"shipping_method": "", "carrier": "X", "url_template": "https://t/{order}"}],
            "{order}",
        ),
        (
            [
                {"shipping_method": "DHL", "carrier": "DHL"},
                {"shipping_method": "dhl ", "carrier": "DHL 2"},
            ],
            "two rules",
        ),
        # No full link once filled (`links.checked_template`): every shipment's link lost.
        (
            [
                {
                    "shipping_method": "",
                    "carrier": "X",
                    "url_template": "https://t.example/a b/{number}",
                }
            ],
            "must make a full link",
        ),
        (
            [
                {
                    "shipping_method": "",
                    "carrier": "X",
                    "url_template": "https://t.example:port/{number}",
                }
            ],
            "must make a full link",
        ),
    ]
    for rules, said in bad:
        response = await shop.api("PATCH", "/api/ecommerce/settings", {"tracking_rules": rules})
        assert response.status_code == 422, rules
        assert said in response.text
    await _rules(shop)
    page = (await shop.api("GET", "/api/ecommerce")).json()
    assert page["settings"]["tracking_rules"] == RULES


async def test_a_tracking_number_cleared_in_saleor_is_cleared_in_mailchimp(shop: Shop) -> None:
    """A PATCH keeps what it does not name: the number and carrier the order no longer has go
    out empty, or Mailchimp's order would keep them for good."""
    await _rules(shop)
    order = await _order(shop, "Courier of the day")
    await shop.saleor.fulfill_order(order, tracking_number="RM123456785GB")
    await shop.drain()
    mc = shop.orders()[str(order.id)]
    assert (mc.tracking_number, mc.tracking_carrier) == ("RM123456785GB", "Royal Mail")
    [fulfillment] = shop.saleor.store.get_order(order.id).fulfillments
    await shop.saleor.update_tracking_number(order, fulfillment, "")
    await shop.drain()
    mc = shop.orders()[str(order.id)]
    assert (mc.fulfillment_status, mc.tracking_number, mc.tracking_carrier) == ("shipped", "", "")


async def test_a_rule_saved_before_the_link_check_still_reads_saves_and_sends_its_carrier(
    shop: Shop,
) -> None:
    """A tracking link template an earlier version took (a space in its query: no full link
    once filled) is read as it is: refused on reading, it broke the E-commerce page and the
    save that would fix it. At push the link is left out, the carrier still sent."""
    old = {
        "shipping_method": "DHL Express",
        "carrier": "DHL",
        "url_template": "https://www.dhl.com/track?n={number}&lang=en gb",
    }
    async with shop.services.db.transaction() as session:
        await session.execute(update(EcommerceSettings).values(tracking_rules=[old]))
    page = await shop.api("GET", "/api/ecommerce")
    assert page.status_code == 200, page.text
    assert page.json()["settings"]["tracking_rules"] == [old]
    saved = await shop.api("PATCH", "/api/ecommerce/settings", {"store_email": "a@grocer.example"})
    assert saved.status_code == 200, saved.text

    order = await _order(shop, "DHL Express")
    await shop.saleor.fulfill_order(order, tracking_number="JD 0142")
    await shop.drain()
    mc = shop.orders()[str(order.id)]
    assert (mc.tracking_number, mc.tracking_carrier) == ("JD 0142", "DHL")
    assert not mc.tracking_url
    # Saved again as it is, the admin is told what to fix.
    again = await shop.api("PATCH", "/api/ecommerce/settings", {"tracking_rules": [old]})
    assert again.status_code == 422 and "must make a full link" in again.text
