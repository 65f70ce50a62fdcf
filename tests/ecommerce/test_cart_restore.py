"""A cart's `checkout_url` carries a signed, expiring restore link (never the bare checkout
token) that the storefront exchanges for the checkout; guests' carts flow like customers';
an emptied or ordered cart leaves Mailchimp. Every Mailchimp request and answer is checked
against the contract (the `outbound` and `mailchimp_responses` fixtures)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from addon.clock import ManualClock
from addon.ecommerce.models import EntityKind, SyncStatus
from sandboxes.saleor.store import LineSpec
from tests.ecommerce.conftest import CHANNEL, Shop

RESTORE_URL = "https://shop.grocer.example/cart/restore?link={restore}"
ORIGIN = "https://shop.grocer.example"
DOC = Path(__file__).resolve().parents[2] / "docs" / "abandoned-carts.md"


@pytest.fixture(autouse=True)
async def restore_links(shop: Shop, clock: ManualClock) -> None:
    del clock  # links are made and read on the test's clock
    for method, path, body in (
        ("PATCH", "/api/ecommerce/settings", {"checkout_url_template": RESTORE_URL}),
        (
            "PUT",
            "/api/audiences/settings",
            {"active_list_ids": [shop.list_id], "allowed_origins": [ORIGIN]},
        ),
    ):
        response = await shop.api(method, path, body)
        assert response.status_code == 200, response.text


def _link(shop: Shop, token: str) -> str:
    cart = shop.carts()[token]
    assert cart.checkout_url.startswith("https://shop.grocer.example/cart/restore?link=")
    assert token not in cart.checkout_url  # the e-mail never shows the checkout token
    [link] = parse_qs(urlsplit(cart.checkout_url).query)["link"]
    return link


async def _restore(shop: Shop, link: str, origin: str = ORIGIN) -> httpx.Response:
    return await shop.client.post(
        "/api/storefront/cart/restore",
        params={"saleor_api_url": shop.saleor.api_url},
        json={"link": link},
        headers={"Origin": origin},
    )


async def test_the_link_restores_the_guests_checkout(shop: Shop) -> None:
    product = await shop.product("Fig", "2.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 2)], email="guest@example.com"
    )
    await shop.drain()
    restored = await _restore(shop, _link(shop, str(checkout.token)))
    assert restored.status_code == 200, restored.text
    assert restored.json() == {
        "checkout_id": checkout.global_id,
        "checkout_token": str(checkout.token),
        "channel": CHANNEL,
    }
    assert restored.headers["Access-Control-Allow-Origin"] == ORIGIN
    cart = shop.carts()[str(checkout.token)]
    assert cart.customer.email_address == "guest@example.com"


async def test_a_changed_or_foreign_link_is_refused(shop: Shop) -> None:
    product = await shop.product("Fig", "2.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], email="guest@example.com"
    )
    await shop.drain()
    link = _link(shop, str(checkout.token))
    middle = len(link) // 2
    tampered = link[:middle] + ("A" if link[middle] != "A" else "B") + link[middle + 1 :]
    for bad in (tampered, str(checkout.token), "not a link"):
        refused = await _restore(shop, bad)
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["code"] == "RESTORE_LINK_INVALID"
    elsewhere = await _restore(shop, link, origin="https://evil.example")
    assert elsewhere.status_code == 403


async def test_an_expired_link_is_refused(shop: Shop, clock: ManualClock) -> None:
    product = await shop.product("Fig", "2.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], email="guest@example.com"
    )
    await shop.drain()
    link = _link(shop, str(checkout.token))
    lifetime = shop.services.settings.cart_restore_link_hours * 3600
    clock.advance(lifetime - 60)
    assert (await _restore(shop, link)).status_code == 200
    clock.advance(120)
    expired = await _restore(shop, link)
    assert expired.status_code == 400
    assert expired.json()["error"]["code"] == "RESTORE_LINK_EXPIRED"
    assert "expired" in expired.json()["error"]["message"]


async def test_signed_in_customers_carts_flow_and_ordered_or_emptied_carts_go(shop: Shop) -> None:
    product = await shop.product("Fig", "2.00")
    customer = await shop.saleor.create_customer("ann@example.com", "Ann", "Lee")
    ordered = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], customer=customer
    )
    emptied = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 3)], email="guest@example.com"
    )
    await shop.drain()
    carts = shop.carts()
    assert carts[str(ordered.token)].customer.email_address == "ann@example.com"
    ordered_link = _link(shop, str(ordered.token))
    emptied_link = _link(shop, str(emptied.token))

    await shop.saleor.complete_checkout(ordered)
    await shop.saleor.update_checkout(emptied, set_quantities={product.variants[0].id: 0})
    await shop.drain()
    assert shop.carts() == {}
    assert "DELETE /carts/" + str(ordered.token) in shop.writes()
    assert "DELETE /carts/" + str(emptied.token) in shop.writes()
    for checkout in (ordered, emptied):
        record = await shop.record(EntityKind.CART, checkout.global_id)
        assert record is not None and record.status is SyncStatus.REMOVED
    for link in (ordered_link, emptied_link):
        gone = await _restore(shop, link)
        assert gone.status_code == 404, gone.text
        assert gone.json()["error"]["code"] == "CART_GONE"


async def test_the_settings_accept_the_restore_placeholder_only_in_a_url(shop: Shop) -> None:
    response = await shop.api(
        "PATCH", "/api/ecommerce/settings", {"checkout_url_template": "cart?link={restore}"}
    )
    assert response.status_code == 422
    got = await shop.api("GET", "/api/ecommerce")
    assert got.json()["settings"]["checkout_url_template"] == RESTORE_URL


def _block(doc: str, marker: str) -> str:
    """The fenced block right after `<!-- marker -->` in docs/abandoned-carts.md."""
    after = doc.split(f"<!-- {marker} -->", 1)[1]
    return after.split("```", 2)[1].split("\n", 1)[1]


async def test_the_documented_restore_request_works(shop: Shop) -> None:
    doc = DOC.read_text()
    request = _block(doc, "restore-request")
    head, _, body = request.partition("\n\n")
    method, target = head.splitlines()[0].split(" ", 1)
    path = urlsplit(target).path
    documented = json.loads(_block(doc, "restore-response"))

    product = await shop.product("Fig", "2.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], email="guest@example.com"
    )
    await shop.drain()
    sent = json.loads(body)
    assert set(sent) == {"link"}
    response = await shop.client.request(
        method,
        path,
        params={"saleor_api_url": shop.saleor.api_url},
        json={"link": _link(shop, str(checkout.token))},
    )
    assert response.status_code == 200, response.text
    assert set(response.json()) == set(documented)
