"""Rate limits of the cart restore exchange (`storefront_api.py`). A store's own server exchanges
every shopper's link (the documented Next.js route), so the exchange is not limited per client
address: one link (one cart) is limited on its own, and only refused links (changed, foreign,
an unknown store) per address, so a flood of bad links never holds up good ones. Every 429 says
when to try again (`Retry-After`). On the test's clock, never a sleep."""

from __future__ import annotations

import httpx
import pytest

from addon.clock import ManualClock
from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import ORIGIN, Shop, _link, _restore

pytestmark = pytest.mark.usefixtures("restore_links")


def _set(shop: Shop, name: str, value: int) -> None:
    object.__setattr__(shop.services.settings, name, value)


async def _links(shop: Shop, count: int) -> list[str]:
    """Restore links of `count` shoppers' carts."""
    fig = await shop.product("Fig", "2.00")
    checkouts = [
        await shop.saleor.create_checkout(
            lines=[LineSpec(fig.variants[0].id, 1)], email=f"shopper{n}@example.com"
        )
        for n in range(count)
    ]
    await shop.drain()
    return [_link(shop, str(checkout.token)) for checkout in checkouts]


def _throttled(answer: httpx.Response, seconds: int) -> None:
    assert answer.status_code == 429, answer.text
    assert answer.json()["error"]["code"] == "RATE_LIMITED"
    assert answer.headers["Retry-After"] == str(seconds)
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN


async def test_a_stores_server_exchanges_every_shoppers_link_past_the_per_address_limit(
    shop: Shop,
) -> None:
    _set(shop, "storefront_rate_limit_per_address", 3)
    links = await _links(shop, 5)
    for link in links:  # one client address: the store's server
        answer = await _restore(shop, link)
        assert answer.status_code == 200, answer.text
    # The other storefront calls keep their per-address limit.
    offers = [
        await shop.client.get(
            "/api/storefront/newsletter", params={"saleor_api_url": shop.saleor.api_url}
        )
        for _ in range(4)
    ]
    assert [offer.status_code for offer in offers] == [200, 200, 200, 429]


async def test_one_link_replayed_is_limited_per_cart(shop: Shop, clock: ManualClock) -> None:
    _set(shop, "storefront_rate_limit_per_cart", 3)
    window = int(shop.services.settings.storefront_rate_limit_address_window_seconds)
    mine, other = await _links(shop, 2)
    first = await _restore(shop, mine)
    assert first.status_code == 200, first.text
    clock.advance(10)
    for _ in range(2):
        assert (await _restore(shop, mine)).json() == first.json()
    _throttled(await _restore(shop, mine), window - 10)  # the first exchange leaves first
    assert (await _restore(shop, other)).status_code == 200  # another cart: its own count
    clock.advance(window - 10)
    assert (await _restore(shop, mine)).json() == first.json()


async def test_refused_links_are_limited_per_address_good_ones_never(
    shop: Shop, clock: ManualClock
) -> None:
    _set(shop, "storefront_rate_limit_per_address", 3)
    window = int(shop.services.settings.storefront_rate_limit_address_window_seconds)
    [good] = await _links(shop, 1)
    for n in range(3):
        refused = await _restore(shop, f"made-up-{n}")
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["code"] == "RESTORE_LINK_INVALID"
    _throttled(await _restore(shop, "made-up-again"), window)
    unknown = await shop.client.post(
        "/api/storefront/cart/restore",
        params={"saleor_api_url": "https://nowhere.example/graphql/"},
        json={"link": good},
        headers={"Origin": ORIGIN},
    )
    assert unknown.status_code == 429 and unknown.headers["Retry-After"] == str(window)
    # A real shopper's link from the same address (the store's server) goes through.
    assert (await _restore(shop, good)).status_code == 200
    clock.advance(window)
    assert (await _restore(shop, "made-up-later")).status_code == 400


async def test_the_site_scripts_429_says_when_to_retry(shop: Shop, clock: ManualClock) -> None:
    _set(shop, "storefront_rate_limit_per_address", 1)
    window = int(shop.services.settings.storefront_rate_limit_address_window_seconds)
    params = {"saleor_api_url": shop.saleor.api_url, "channel": "default-channel"}
    headers = {"Origin": ORIGIN}
    await shop.client.get("/api/storefront/site-script", params=params, headers=headers)
    clock.advance(15)
    answer = await shop.client.get("/api/storefront/site-script", params=params, headers=headers)
    _throttled(answer, window - 15)
