"""Ledger records carry a label an admin recognises (title, e-mail, order number), also when
they end in quarantine."""

from __future__ import annotations

from typing import Any

from addon.ecommerce.models import EntityKind
from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import Shop


async def _records(shop: Shop, query: str = "") -> dict[tuple[str, str], dict[str, Any]]:
    response = await shop.api("GET", f"/api/ecommerce/records{query}")
    assert response.status_code == 200, response.text
    return {(r["kind"], r["saleor_id"]): r for r in response.json()}


async def test_records_are_labelled_with_what_they_are(shop: Shop) -> None:
    product = await shop.product("Blood orange", "3.00")
    customer = await shop.saleor.create_customer("ada@example.com", "Ada", "Byron")
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)], user=customer, paid=True
    )
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 2)], email="cart@example.com"
    )
    await shop.drain()
    records = await _records(shop)
    labels = {
        kind: records[(kind, saleor_id)]["label"]
        for kind, saleor_id in [
            ("product", product.global_id),
            ("customer", customer.global_id),
            ("order", order.global_id),
            ("cart", checkout.global_id),
            ("store", "default-channel"),
        ]
    }
    assert labels == {
        "product": "Blood orange",
        "customer": "ada@example.com",
        "order": f"#{order.number} — ada@example.com",
        "cart": "cart@example.com",
        "store": "Default Channel",
    }

    # A rename follows; a later push keeps the label current.
    await shop.saleor.update_product(product, name="Blood orange (Sicily)")
    await shop.drain()
    records = await _records(shop, "?kind=product")
    assert records[("product", product.global_id)]["label"] == "Blood orange (Sicily)"


async def test_a_quarantined_record_is_labelled_too(shop: Shop) -> None:
    poison = await shop.saleor.create_customer("not-an-address", "Bad", "Data")
    await shop.drain()
    quarantined = await _records(shop, "?status=quarantined")
    assert [(r["kind"], r["label"]) for r in quarantined.values()] == [
        ("customer", "not-an-address")
    ]
    record = await shop.record(EntityKind.CUSTOMER, poison.global_id)
    assert record is not None and record.label == "not-an-address"
