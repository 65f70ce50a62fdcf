"""The initial sync of a store among several tracked channels sends the customers who bought in
its channel (read from Saleor in its customers phase), not every customer of the site
(addon/ecommerce/customer_stores.py, addon/initial_sync/channel_customers.py; live sync:
tests/ecommerce/test_customer_stores.py)."""

from __future__ import annotations

from sandboxes.saleor.models import Customer
from sandboxes.saleor.order_models import OrderStatus
from tests.ecommerce.conftest import CHANNEL, Shop
from tests.ecommerce.second_channel import EU, track_eu
from tests.initial_sync.conftest import finish


def _emails(shop: Shop, store_id: str) -> set[str]:
    return {c.email_address for c in shop.mailchimp.customers(shop.account, store_id)}


async def _sync(shop: Shop, channel: str) -> None:
    response = await shop.api("POST", f"/api/ecommerce/channels/{channel}/initial-sync")
    assert response.status_code == 202, response.text
    await finish(shop)


async def test_each_store_gets_the_customers_who_bought_in_its_channel(small: Shop) -> None:
    shop = small
    eu = await track_eu(shop)
    pear = await shop.product("Pear", "2.00", channels=[CHANNEL, EU])
    await shop.drain()
    # The site's history, from before the app was installed: no webhook reached it.
    store = shop.saleor.store
    people: dict[str, Customer] = {
        name: store.create_customer(f"{name}@example.com", name.title(), is_confirmed=True)
        for name in ("ann", "bob", "cy", "dee")
    }
    line = shop.saleor.order_line(pear.variants[0], 1)
    store.create_order(EU, [line], user=people["bob"])
    store.create_order(CHANNEL, [line], user=people["cy"])
    store.create_order(EU, [line], user=people["dee"])
    store.create_order(CHANNEL, [line], user=people["dee"])
    # A draft staff started for Ann is not her buying: she stays out of both stores.
    store.create_order(EU, [line], user=people["ann"], status=OrderStatus.DRAFT)
    await _sync(shop, CHANNEL)
    await _sync(shop, EU)
    # The customers phase sent each store's buyers, counted against that store's customers.
    for channel in (CHANNEL, EU):
        response = await shop.api("GET", f"/api/ecommerce/channels/{channel}/initial-sync")
        [customers] = [k for k in response.json()["kinds"] if k["kind"] == "customer"]
        assert (customers["total"], customers["confirmed"]) == (2, 2), channel
        assert "2 customers" in response.json()["summary"]
    assert _emails(shop, shop.store_id) == {"cy@example.com", "dee@example.com"}
    assert _emails(shop, eu) == {"bob@example.com", "dee@example.com"}  # not ann: never bought
    # Their changes follow them to their stores alone.
    await shop.saleor.update_customer(people["bob"], last_name="Brown")
    await shop.drain()
    [bob] = [c for c in shop.mailchimp.customers(shop.account, eu) if c.first_name == "Bob"]
    assert bob.last_name == "Brown"
    assert _emails(shop, shop.store_id) == {"cy@example.com", "dee@example.com"}
