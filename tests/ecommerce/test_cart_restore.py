"""A cart's `checkout_url` carries a signed, expiring restore link (never the bare checkout
token) that the storefront exchanges for a copy of the checkout, on any device: the lines Saleor
still sells, as many as it takes now; guests' carts flow like customers'. The link itself, and
carts that leave Mailchimp: tests/ecommerce/test_cart_restore_links.py; a link used again:
test_cart_restore_reuse.py; its rate limits: test_cart_restore_limits.py. Every Mailchimp request
and answer is checked against the contract (the `outbound` and `mailchimp_responses` fixtures)."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from addon.ecommerce import restore as restore_module
from sandboxes.saleor.models import Address
from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import CHANNEL, ORIGIN, RESTORE_URL, Shop, _link, _restore

pytestmark = pytest.mark.usefixtures("restore_links")

DOC = Path(__file__).resolve().parents[2] / "docs" / "abandoned-carts.md"


STOREFRONT_QUERY = """
query($token: UUID!) {
  checkout(token: $token) {
    token
    email
    lines { quantity variant { id } }
    shippingAddress { streetAddress1 }
    billingAddress { streetAddress1 }
  }
}
"""


async def _storefront_reads(shop: Shop, token: str) -> dict[str, Any]:
    """What a storefront on another device sees: Saleor's public `checkout(token:)` over HTTP,
    nobody signed in."""
    transport = httpx.ASGITransport(app=shop.saleor.app)
    async with httpx.AsyncClient(transport=transport) as storefront:
        answer = await storefront.post(
            shop.saleor.api_url, json={"query": STOREFRONT_QUERY, "variables": {"token": token}}
        )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert "errors" not in body, body
    return body["data"]


def _address(shop: Shop, street: str) -> Address:
    return Address(id=shop.saleor.store.next_id(), street_address_1=street, city="Springfield")


async def test_a_customers_cart_is_restored_on_another_device_as_a_new_checkout(
    shop: Shop,
) -> None:
    fig = await shop.product("Fig", "2.00")
    pear = await shop.product("Pear", "3.00")
    ann = await shop.saleor.create_customer("ann@example.com", "Ann", "Lee")
    original = await shop.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 2), LineSpec(pear.variants[0].id, 1)], customer=ann
    )
    await shop.saleor.update_checkout(
        original,
        shipping_address=_address(shop, "1 Home Road"),
        billing_address=_address(shop, "2 Bank Street"),
    )
    await shop.drain()
    restored = await _restore(shop, _link(shop, str(original.token)))
    assert restored.status_code == 200, restored.text
    answer = restored.json()
    # The original checkout's token (or its id, which carries it) is never handed out.
    assert str(original.token) not in restored.text
    assert original.global_id not in restored.text
    assert answer["channel"] == CHANNEL and answer["dropped_lines"] == 0
    assert (
        answer["checkout_id"]
        == base64.b64encode(f"Checkout:{answer['checkout_token']}".encode()).decode()
    )
    seen = await _storefront_reads(shop, answer["checkout_token"])
    assert seen["checkout"] == {
        "token": answer["checkout_token"],
        "email": "ann@example.com",
        "lines": [
            {"quantity": 2, "variant": {"id": fig.variants[0].global_id}},
            {"quantity": 1, "variant": {"id": pear.variants[0].global_id}},
        ],
        "shippingAddress": None,
        "billingAddress": None,
    }
    copy = shop.saleor.store.get_checkout(answer["checkout_token"])
    assert copy.user_id is None  # not the customer's: the link grants the cart, not the account
    assert copy.channel_id == original.channel_id
    # The restored checkout is a cart of its own once Saleor reports it (CHECKOUT_CREATED), and
    # the original's cart gives way to it: one cart, so one abandoned-cart series, per shopper.
    await shop.drain()
    carts = shop.carts()
    assert set(carts) == {answer["checkout_token"]}
    assert carts[answer["checkout_token"]].customer.email_address == "ann@example.com"
    # A later change of the original (the shopper back on the first device) brings no second.
    await shop.saleor.update_checkout(original, email="ann@example.com")
    await shop.drain()
    assert set(shop.carts()) == {answer["checkout_token"]}


async def test_the_link_restores_the_guests_checkout(shop: Shop) -> None:
    product = await shop.product("Fig", "2.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 2)], email="guest@example.com"
    )
    await shop.drain()
    restored = await _restore(shop, _link(shop, str(checkout.token)))
    assert restored.status_code == 200, restored.text
    answer = restored.json()
    assert set(answer) == {
        "checkout_id",
        "checkout_token",
        "channel",
        "dropped_lines",
        "reduced_lines",
    }
    assert answer["checkout_token"] != str(checkout.token)
    assert restored.headers["Access-Control-Allow-Origin"] == ORIGIN
    seen = await _storefront_reads(shop, answer["checkout_token"])
    assert seen["checkout"]["email"] == "guest@example.com"
    assert seen["checkout"]["lines"] == [
        {"quantity": 2, "variant": {"id": product.variants[0].global_id}}
    ]
    cart = shop.carts()[str(checkout.token)]
    assert cart.customer.email_address == "guest@example.com"


async def test_exchanges_racing_get_one_checkout(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    product = await shop.product("Fig", "2.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], email="guest@example.com"
    )
    await shop.drain()
    link = _link(shop, str(checkout.token))
    # The first exchange is held while it makes the copy, so the second comes meanwhile on any
    # machine: two requests merely sent together may well run one after the other.
    copying, go_on = asyncio.Event(), asyncio.Event()
    make_copy = restore_module._first

    async def held(*args: Any) -> Any:
        if not copying.is_set():  # only the first: a second copy, if any, is made at once
            copying.set()
            await go_on.wait()
        return await make_copy(*args)

    monkeypatch.setattr(restore_module, "_first", held)
    exchange = asyncio.create_task(_restore(shop, link))
    await copying.wait()
    # The first claims the cart while it makes the copy; the other is asked to try again.
    second = await _restore(shop, link)
    go_on.set()
    first = await exchange
    assert first.status_code == 200, first.text
    assert second.status_code == 409, second.text
    assert second.json()["error"]["code"] == "RESTORE_IN_PROGRESS"
    assert second.headers["Retry-After"] == "1"
    assert second.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert (await _restore(shop, link)).json() == first.json()
    # One copy made: no second checkout in Saleor, so no second cart (and no second series of
    # abandoned-cart e-mails) in Mailchimp.
    assert len(shop.saleor.store.checkouts) == 2  # the original and the one copy
    await shop.drain()
    carts = [t for t, c in shop.carts().items() if c.customer.email_address == "guest@example.com"]
    assert carts == [first.json()["checkout_token"]]


async def test_lines_saleor_no_longer_sells_are_left_out_and_counted(shop: Shop) -> None:
    fig = await shop.product("Fig", "2.00")
    pear = await shop.product("Pear", "3.00")
    plum = await shop.product("Plum", "4.00")
    checkout = await shop.saleor.create_checkout(
        lines=[
            LineSpec(fig.variants[0].id, 1),
            LineSpec(pear.variants[0].id, 2),
            LineSpec(plum.variants[0].id, 3),
        ],
        email="guest@example.com",
    )
    await shop.drain()
    link = _link(shop, str(checkout.token))
    await shop.saleor.update_variant(pear.variants[0], channel_listings=[])  # no price here
    await shop.saleor.update_product(plum, channel_ids=[])  # not for sale in the channel
    restored = await _restore(shop, link)
    assert restored.status_code == 200, restored.text
    assert restored.json()["dropped_lines"] == 2
    seen = await _storefront_reads(shop, restored.json()["checkout_token"])
    assert seen["checkout"]["lines"] == [
        {"quantity": 1, "variant": {"id": fig.variants[0].global_id}}
    ]
    # The copy ordered, and nothing left in the cart that can be bought: the cart is gone.
    await shop.saleor.complete_checkout(
        shop.saleor.store.get_checkout(restored.json()["checkout_token"])
    )
    await shop.saleor.update_product(fig, channel_ids=[])
    gone = await _restore(shop, link)
    assert gone.status_code == 404, gone.text
    assert gone.json()["error"]["code"] == "CART_GONE"


async def test_lines_short_of_stock_or_over_a_limit_are_cut_to_what_saleor_takes_now(
    shop: Shop,
) -> None:
    """Saleor refuses a whole checkout for one line over its stock or a quantity limit, naming
    no variant: the copy takes what one checkout may hold now, and says how many lines it cut."""
    fig, pear, plum, kiwi, date = [
        await shop.product(name, "2.00") for name in ("Fig", "Pear", "Plum", "Kiwi", "Date")
    ]
    # Saleor's checkoutCreate takes 60 kiwis only under a limit of the variant's own above
    # the site's 50 (`_check_quantity_limits`), which was lifted since.
    kiwi.variants[0].quantity_limit_per_customer = 60
    checkout = await shop.saleor.create_checkout(
        lines=[
            LineSpec(fig.variants[0].id, 5),
            LineSpec(pear.variants[0].id, 4),
            LineSpec(plum.variants[0].id, 3),
            LineSpec(kiwi.variants[0].id, 60),
            LineSpec(date.variants[0].id, 2),
        ],
        email="guest@example.com",
    )
    await shop.drain()
    link = _link(shop, str(checkout.token))
    # Since the e-mail: figs sold down to 2, pears limited to 3 a customer, plums sold out; the
    # kiwis' stock is not tracked and their own limit is gone (the site's limit of 50 a checkout
    # holds).
    await shop.saleor.update_variant(fig.variants[0], quantity=2)
    await shop.saleor.update_variant(pear.variants[0], quantity_limit_per_customer=3)
    await shop.saleor.update_variant(plum.variants[0], quantity=0)
    await shop.saleor.update_variant(
        kiwi.variants[0], track_inventory=False, quantity_limit_per_customer=None
    )
    restored = await _restore(shop, link)
    assert restored.status_code == 200, restored.text
    assert (restored.json()["dropped_lines"], restored.json()["reduced_lines"]) == (1, 3)
    seen = await _storefront_reads(shop, restored.json()["checkout_token"])
    assert seen["checkout"]["lines"] == [
        {"quantity": quantity, "variant": {"id": product.variants[0].global_id}}
        for product, quantity in ((fig, 2), (pear, 3), (kiwi, 50), (date, 2))
    ]
    assert (await _restore(shop, link)).json() == restored.json()  # recorded with its counts


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
