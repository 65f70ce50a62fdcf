"""A cart's `checkout_url` carries a signed, expiring restore link (never the bare checkout
token) that the storefront exchanges for the checkout; guests' carts flow like customers';
an emptied or ordered cart leaves Mailchimp. Every Mailchimp request and answer is checked
against the contract (the `outbound` and `mailchimp_responses` fixtures)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from addon.clock import ManualClock
from addon.ecommerce.models import EntityKind, SyncStatus
from addon.ecommerce.restore import TIME_STEP, make_link_token, read_link_token
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


def test_a_link_is_the_same_within_its_hour(clock: ManualClock) -> None:
    """An unchanged cart pushed again within the hour keeps its `checkout_url` (and so its
    ledger fingerprint); the link's time is the hour's start, so it never outlives its
    lifetime."""
    key = SecretStr(base64.urlsafe_b64encode(bytes(range(32))).decode())
    hour = (clock.now() + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    clock.set(hour + timedelta(seconds=5))
    first = make_link_token(key, "Q2hlY2tvdXQ6MQ==", "token-1", CHANNEL)
    clock.advance(TIME_STEP - 10)
    assert make_link_token(key, "Q2hlY2tvdXQ6MQ==", "token-1", CHANNEL) == first
    assert make_link_token(key, "Q2hlY2tvdXQ6Mg==", "token-2", CHANNEL) != first
    clock.advance(10)
    assert make_link_token(key, "Q2hlY2tvdXQ6MQ==", "token-1", CHANNEL) != first
    made = Fernet(key.get_secret_value()).extract_timestamp(first.encode())
    assert made == int(hour.timestamp())
    cart = read_link_token(key, first, lifetime_seconds=2 * TIME_STEP)
    assert (cart.checkout_id, cart.checkout_token) == ("Q2hlY2tvdXQ6MQ==", "token-1")


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
    # A link's time is its hour's start: it lasts at least the lifetime less an hour ...
    clock.advance(lifetime - TIME_STEP - 60)
    assert (await _restore(shop, link)).status_code == 200
    clock.advance(TIME_STEP + 120)  # ... and never longer than the lifetime
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
