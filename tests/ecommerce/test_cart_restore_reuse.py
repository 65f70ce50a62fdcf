"""A restore link used again (`restore.py`): one copy per cart. The copy made is handed back
while Saleor has it, whatever the shopper did to it since (it is their cart now); once it was
ordered, the link answers CART_GONE and makes nothing, so Mailchimp never holds a second cart,
or a cart of someone who bought it, for one e-mailed cart. Every Mailchimp request and answer is
checked against the contract (the `outbound` and `mailchimp_responses` fixtures)."""

from __future__ import annotations

import pytest

from sandboxes.saleor.models import Address
from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import Shop, _link, _restore

pytestmark = pytest.mark.usefixtures("restore_links")


def _address(shop: Shop, street: str) -> Address:
    return Address(id=shop.saleor.store.next_id(), street_address_1=street, city="Springfield")


def _carts_of(shop: Shop, email: str) -> list[str]:
    return [token for token, cart in shop.carts().items() if cart.customer.email_address == email]


async def test_the_link_again_gives_the_copy_the_shopper_filled_in_not_a_second_cart(
    shop: Shop,
) -> None:
    fig = await shop.product("Fig", "2.00")
    original = await shop.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 1)], email="guest@example.com"
    )
    await shop.drain()
    link = _link(shop, str(original.token))
    first = await _restore(shop, link)
    assert first.status_code == 200, first.text
    mine = first.json()
    copy = shop.saleor.store.get_checkout(mine["checkout_token"])
    await shop.saleor.update_checkout(
        copy,
        shipping_address=_address(shop, "1 Home Road"),
        billing_address=_address(shop, "2 Bank Street"),
    )
    await shop.drain()
    assert _carts_of(shop, "guest@example.com") == [mine["checkout_token"]]

    # The same e-mail link clicked again: the shopper's own cart, as they left it.
    again = await _restore(shop, link)
    assert again.status_code == 200, again.text
    assert again.json() == mine
    # Emptied by the shopper, it is still theirs: not filled again from the e-mailed cart.
    await shop.saleor.update_checkout(copy, set_quantities={fig.variants[0].id: 0})
    assert (await _restore(shop, link)).json() == mine
    assert len(shop.saleor.store.checkouts) == 2  # the original and the one copy
    await shop.drain()
    assert _carts_of(shop, "guest@example.com") == []  # the emptied copy left Mailchimp too


async def test_the_link_of_a_cart_ordered_from_its_copy_makes_no_new_cart(shop: Shop) -> None:
    """A shopper who ordered, or a mail scanner or link prefetcher opening the old link (the
    documented Next.js route is a GET): nothing is made, and the storefront is told the cart is
    gone (it shows the cart it has, or an empty one)."""
    fig = await shop.product("Fig", "2.00")
    original = await shop.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 2)], email="guest@example.com"
    )
    await shop.drain()
    link = _link(shop, str(original.token))
    mine = (await _restore(shop, link)).json()
    await shop.saleor.complete_checkout(shop.saleor.store.get_checkout(mine["checkout_token"]))
    await shop.drain()
    assert _carts_of(shop, "guest@example.com") == []
    checkouts = len(shop.saleor.store.checkouts)

    for _ in range(2):
        gone = await _restore(shop, link)
        assert gone.status_code == 404, gone.text
        assert gone.json()["error"]["code"] == "CART_GONE"
        assert "already opened" in gone.json()["error"]["message"]
    assert len(shop.saleor.store.checkouts) == checkouts  # the original is still in Saleor
    await shop.drain()
    assert _carts_of(shop, "guest@example.com") == []
