"""Request bodies shared by the sandbox tests and the example traffic."""

from __future__ import annotations

from typing import Any

import httpx


def list_body(name: str = "Acme Newsletter", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "contact": {
            "company": "Acme",
            "address1": "1 Main St",
            "city": "Springfield",
            "state": "IL",
            "zip": "62701",
            "country": "US",
        },
        "permission_reminder": "You signed up at our shop.",
        "campaign_defaults": {
            "from_name": "Acme",
            "from_email": "news@acme.test",
            "subject": "News",
            "language": "en",
        },
        "email_type_option": False,
        **extra,
    }


async def create_list(client: httpx.AsyncClient, **extra: Any) -> str:
    response = await client.post("/lists", json=list_body(**extra))
    assert response.status_code == 200, response.text
    list_id: str = response.json()["id"]
    return list_id


async def create_store(
    client: httpx.AsyncClient, list_id: str, store_id: str = "store-1", currency: str = "USD"
) -> dict[str, Any]:
    response = await client.post(
        "/ecommerce/stores",
        json={
            "id": store_id,
            "list_id": list_id,
            "name": "Acme Store",
            "currency_code": currency,
            "platform": "Saleor",
            "domain": "shop.acme.test",
            "email_address": "shop@acme.test",
            "money_format": "$",
        },
    )
    assert response.status_code == 200, response.text
    store: dict[str, Any] = response.json()
    return store


def product_body(product_id: str = "p1", variants: tuple[str, ...] = ("v1",)) -> dict[str, Any]:
    return {
        "id": product_id,
        "title": f"Product {product_id}",
        "handle": product_id,
        "url": f"https://shop.acme.test/products/{product_id}",
        "description": "A product",
        "vendor": "Acme",
        "type": "Thing",
        "image_url": "https://shop.acme.test/p.png",
        "variants": [
            {
                "id": v,
                "title": f"Variant {v}",
                "sku": f"SKU-{v}",
                "price": 9.5,
                "inventory_quantity": 3,
            }
            for v in variants
        ],
    }


def order_body(
    order_id: str = "o1", product_id: str = "p1", variant_id: str = "v1", **extra: Any
) -> dict[str, Any]:
    return {
        "id": order_id,
        "customer": {
            "id": "c1",
            "email_address": "buyer@acme.test",
            "opt_in_status": False,
            "first_name": "Bea",
            "last_name": "Buyer",
        },
        "currency_code": "USD",
        "order_total": 19.0,
        "tax_total": 1.0,
        "shipping_total": 2.0,
        "discount_total": 0.0,
        "financial_status": "paid",
        "fulfillment_status": "shipped",
        "processed_at_foreign": "2024-01-02T10:00:00+00:00",
        "landing_site": "https://shop.acme.test/",
        "lines": [
            {
                "id": "l1",
                "product_id": product_id,
                "product_variant_id": variant_id,
                "quantity": 2,
                "price": 9.5,
            }
        ],
        **extra,
    }
