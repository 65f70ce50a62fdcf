"""One Mailchimp store per tracked channel; products and variants pushed live."""

from __future__ import annotations

import base64
import uuid
from decimal import Decimal

import pytest

from addon.ecommerce.models import EntityKind, SyncStatus
from addon.ecommerce.store_domain import store_domain
from addon.ecommerce.stores_repository import stable_store_id
from tests.ecommerce.conftest import CHANNEL, Shop


def pk(global_id: str) -> str:
    return base64.b64decode(global_id).decode().split(":", 1)[1]


async def test_tracking_a_channel_creates_its_store_in_the_chosen_audience(shop: Shop) -> None:
    [store] = shop.mailchimp.stores(shop.account)
    assert store.id == shop.store_id
    assert store.list_id == shop.list_id
    assert (store.name, store.currency_code, store.platform) == ("Default Channel", "USD", "Saleor")
    assert store.domain == "shop.grocer.example"
    assert store.email_address == "shop@grocer.example"
    assert store.money_format == "$"

    page = (await shop.api("GET", "/api/ecommerce")).json()
    assert page["settings"]["tracking_enabled"] is True
    [channel] = page["channels"]
    assert channel["tracked"] is True and channel["store_id"] == shop.store_id
    assert channel["store_status"] == "ready" and channel["store_record_status"] == "synced"
    assert "new store" in page["audience_note"]


async def test_a_different_audience_means_a_new_store(shop: Shop) -> None:
    other = await shop.mailchimp.call(shop.account, "POST", "/lists", body=_list("Other"))
    response = await shop.api(
        "PUT", f"/api/ecommerce/channels/{CHANNEL}", {"tracked": True, "list_id": other.body["id"]}
    )
    assert response.status_code == 200, response.text
    await shop.drain()
    stores = {s.id: s.list_id for s in shop.mailchimp.stores(shop.account)}
    new_id = stable_store_id(shop.saleor.api_url, CHANNEL, other.body["id"])
    assert stores == {shop.store_id: shop.list_id, new_id: other.body["id"]}
    # The old store keeps its history and its domain, which Mailchimp holds once per account:
    # the new one is the channel's under it.
    domains = {s.id: s.domain for s in shop.mailchimp.stores(shop.account)}
    assert domains == {
        shop.store_id: "shop.grocer.example",
        new_id: f"shop.grocer.example/{CHANNEL}",
    }


async def test_two_channels_on_one_storefront_each_get_a_store(shop: Shop) -> None:
    """Once the second channel's store was refused (its domain another store's) and then
    reported as deleted in Mailchimp."""
    await shop.saleor.add_channel("eu", "Europe", "EUR")
    body = {"tracked": True, "list_id": shop.list_id}
    response = await shop.api("PUT", "/api/ecommerce/channels/eu", body)
    assert response.status_code == 200, response.text
    await shop.drain()
    domains = sorted(s.domain for s in shop.mailchimp.stores(shop.account))
    assert domains == ["shop.grocer.example", "shop.grocer.example/eu"]
    overview = (await shop.api("GET", "/api/ecommerce")).json()
    assert {c["slug"]: c["store_status"] for c in overview["channels"]} == {
        CHANNEL: "ready",
        "eu": "ready",
    }


@pytest.mark.parametrize(
    ("template", "domain"),
    [
        ("https://shop.example/{channel}/products/{slug}", "shop.example/eu"),
        ("https://{channel}.shop.example/p/{slug}", "eu.shop.example"),
        ("https://shop.example/products/{slug}?c={channel}", "shop.example"),
        ("https://shop.example/{channel}-{slug}", "shop.example"),
        (None, "saleor.example"),
    ],
)
def test_a_stores_domain_is_the_channels_storefront(template: str | None, domain: str) -> None:
    assert store_domain(template, "eu", "saleor.example") == domain


async def test_amounts_keep_their_currencys_places(shop: Shop) -> None:
    """A dinar has 1000 fils and a yen no subunit (Saleor rounds by babel's CLDR data,
    `quantize_price`): prices, totals and a line's price of one keep the currency's places."""
    await shop.saleor.add_channel("kw", "Kuwait", "KWD")
    await shop.saleor.add_channel("jp", "Japan", "JPY")
    for slug in ("kw", "jp"):
        body = {"tracked": True, "list_id": shop.list_id}
        response = await shop.api("PUT", f"/api/ecommerce/channels/{slug}", body)
        assert response.status_code == 200, response.text
    dates = await shop.product("Dates", "1.235", channels=["kw"])
    tea = await shop.product("Tea", "1000", channels=["jp"])
    store = shop.saleor.store
    for slug, variant, shipping, off in (
        ("kw", dates.variants[0], "0.750", "0.100"),
        ("jp", tea.variants[0], "0", "1000"),
    ):
        await shop.saleor.create_order(
            slug,
            [store.order_line_for(variant, 3, slug)],
            email=f"{slug}@example.com",
            shipping_price=Decimal(shipping),
            discounts=[shop.saleor.discount(Decimal(off), type="MANUAL")],
            checkout_token=uuid.uuid4(),
        )
    await shop.drain()
    stores = {s.currency_code: s.id for s in shop.mailchimp.stores(shop.account)}
    [dinar_product] = shop.mailchimp.products(shop.account, stores["KWD"])
    assert [v.price for v in dinar_product.variants] == [1.235]
    [dinar] = shop.mailchimp.orders(shop.account, stores["KWD"])
    # The manual 0.100 off 3.705 of dates and 0.750 of shipping, in proportion: 0.083 off the
    # line (3.622, so 1.207 for one) and 0.017 off shipping (0.733).
    assert [(line.price, line.discount) for line in dinar.lines] == [(1.207, 0.083)]
    assert (dinar.order_total, dinar.shipping_total, dinar.discount_total) == (4.355, 0.733, 0.1)
    [yen] = shop.mailchimp.orders(shop.account, stores["JPY"])
    assert [line.price for line in yen.lines] == [667.0]  # 2000 over 3, to the yen
    assert (yen.order_total, yen.discount_total) == (2000.0, 1000.0)


async def test_untracked_channels_and_disabled_tracking_push_nothing(shop: Shop) -> None:
    await shop.saleor.add_channel("eu", "Europe", "EUR")
    product = await shop.product("Pear", "2.00", channels=["eu"])
    await shop.drain()
    assert shop.products() == {}  # listed only in the untracked channel
    assert await shop.record(EntityKind.PRODUCT, product.global_id) is not None  # retired
    response = await shop.api("PATCH", "/api/ecommerce/settings", {"tracking_enabled": False})
    assert response.status_code == 200
    await shop.product("Plum", "3.00")
    await shop.drain()
    assert shop.products() == {}


async def test_settings_reject_unknown_placeholders(shop: Shop) -> None:
    for field, placeholder in (
        ("product_url_template", "{sku}"),
        ("order_url_template", "{token}"),
    ):
        response = await shop.api(
            "PATCH", "/api/ecommerce/settings", {field: f"https://x.example/{placeholder}"}
        )
        assert response.status_code == 422
        assert placeholder in response.text


@pytest.mark.parametrize(
    "template",
    [
        "https://shop.example/my orders/{number}",
        "https://?n={number}",
        "https://:8080/orders/{number}",
        "https://[shop/orders/{number}",
        "https://shop.example:99999/orders/{number}",
        "https://sklep.example/zamówienia/{number}",
    ],
)
async def test_settings_reject_a_template_that_makes_no_full_link(
    shop: Shop, template: str
) -> None:
    """Mailchimp refuses an order whose link is not a full URL (the sandbox's
    `check_order_url`): such a template would cost every order."""
    response = await shop.api("PATCH", "/api/ecommerce/settings", {"order_url_template": template})
    assert response.status_code == 422
    assert "must make a full link" in response.text


async def test_product_with_variants_and_channel_prices(shop: Shop) -> None:
    product = await shop.product(
        "Apple",
        "1.50",
        "2.50",
        description='{"blocks": [{"type": "paragraph", "data": {"text": "Crisp <b>red</b>"}}]}',
        image_urls=["https://cdn.example/apple.png"],
        metadata={"vendor": "Orchard Co"},
    )
    await shop.drain()
    mc = shop.products()[pk(product.global_id)]
    assert mc.title == "Apple"
    assert mc.handle == "apple"
    assert mc.url == "https://shop.grocer.example/products/apple"
    assert mc.description == "Crisp red"
    assert mc.vendor == "Orchard Co"
    assert mc.type == "Default Type"
    assert mc.image_url == "https://cdn.example/apple.png"
    variants = {v.id: v for v in mc.variants}
    first = variants[str(product.variants[0].id)]
    assert (first.sku, first.price, first.inventory_quantity) == ("APP-0", 1.5, 100)
    # PRODUCT_CREATED and two PRODUCT_VARIANT_CREATED coalesced into one push.
    assert shop.writes() == ["POST /products"]


async def test_product_changes_send_only_the_changed_part(shop: Shop) -> None:
    product = await shop.product("Kiwi", "1.00", "2.00")
    await shop.drain()
    before = len(shop.writes())
    await shop.saleor.update_variant(product.variants[1], quantity=7)
    await shop.drain()
    assert shop.writes()[before:] == [
        f"PUT /products/{product.id}/variants/{product.variants[1].id}"
    ]
    await shop.saleor.update_product(product, name="Golden kiwi")
    await shop.drain()
    assert shop.writes()[before + 1 :] == [f"PATCH /products/{product.id}"]
    mc = shop.products()[str(product.id)]
    assert mc.title == "Golden kiwi"
    assert {v.id: v.inventory_quantity for v in mc.variants}[str(product.variants[1].id)] == 7
    # The same event again changes nothing and sends nothing.
    await shop.saleor.update_product(product)
    await shop.drain()
    assert len(shop.writes()) == before + 2


async def test_a_deleted_product_is_hidden_so_past_orders_still_resolve(shop: Shop) -> None:
    product = await shop.product("Fig", "4.00")
    await shop.drain()
    await shop.saleor.delete_product(product)
    await shop.drain()
    [variant] = shop.products()[str(product.id)].variants
    assert variant.inventory_quantity == 0
    assert variant.visibility == "hidden"
    record = await shop.record(EntityKind.PRODUCT, product.global_id)
    assert record is not None and record.status is SyncStatus.REMOVED


def _list(name: str) -> dict[str, object]:
    from tests.sandbox_mailchimp.helpers import list_body

    return list_body(name)


_ = Decimal
