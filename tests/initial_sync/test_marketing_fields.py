"""The initial sync sends the fields marketers segment on as live sync does (the same builders):
the products' vendor and type from the chosen source, the orders' shipment tracking; live sync
afterwards finds them sent."""

from __future__ import annotations

from sandboxes.saleor.fulfillments import create_fulfillment
from sandboxes.saleor.models import ProductAttribute
from sandboxes.saleor.store_catalog import VariantSpec
from tests.ecommerce.conftest import Shop
from tests.initial_sync.conftest import finish, start

RULE = {
    "shipping_method": "UPS Ground",
    "carrier": "UPS",
    "url_template": "https://www.ups.com/track?tracknum={number}",
}


async def test_history_carries_vendor_type_and_tracking(small: Shop) -> None:
    shop = small
    response = await shop.api(
        "PATCH",
        "/api/ecommerce/settings",
        {
            "product_vendor": {"source": "attribute", "key": "brand"},
            "product_type": {"source": "category"},
            "tracking_rules": [RULE],
        },
    )
    assert response.status_code == 200, response.text
    store = shop.saleor.store  # written directly: history, no webhooks
    products = [
        store.create_product(
            f"Boot {i}",
            [VariantSpec(sku=f"B-{i}", quantity=80)],
            category="Shoes",
            attributes=[ProductAttribute(slug="brand", name="Brand", values=[f"Maker {i % 3}"])],
            metadata={"vendor": "ignored"},
        )
        for i in range(30)
    ]
    shipped, waiting = (
        store.create_order(
            lines=[store.order_line_for(products[i].variants[0], 1)],
            email=f"buyer{i}@example.com",
            shipping_method_name="UPS Ground",
        )
        for i in range(2)
    )
    create_fulfillment(store.next_id, shipped, "1Z999AA10123456784")
    await start(shop)
    run = await finish(shop)
    assert run.error is None

    held = shop.products()
    assert {(p.vendor, p.type) for p in held.values()} == {
        (f"Maker {i}", "Shoes") for i in range(3)
    }
    orders = shop.orders()
    mc = orders[str(shipped.id)]
    assert mc.fulfillment_status == "shipped"
    assert (mc.tracking_number, mc.tracking_carrier) == ("1Z999AA10123456784", "UPS")
    assert mc.tracking_url == "https://www.ups.com/track?tracknum=1Z999AA10123456784"
    assert orders[str(waiting.id)].tracking_number == ""
    batched = [r for r in shop.mailchimp.requests if r.via == "batch" and "/orders" in r.path]
    assert any(r.body and r.body.get("tracking_number") for r in batched)

    # Live sync computes the same fields: an order event finds nothing to send.
    before = len(shop.writes())
    await shop.saleor.emit("ORDER_UPDATED", store.get_order(shipped.id))
    await shop.saleor.emit("PRODUCT_UPDATED", products[0])
    await shop.drain()
    assert shop.writes()[before:] == []
