"""Whom an abandoned cart is for: Mailchimp's PATCH cannot change a cart's customer, so a checkout
whose e-mail or customer changed (a guest's typo corrected, a shopper signing in on it) has its
cart replaced, as changed lines do; else its e-mails would go on to the old address."""

from __future__ import annotations

from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import Shop


async def test_a_corrected_email_replaces_the_cart(shop: Shop) -> None:
    fig = await shop.product("Fig", "2.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 1)], email="ann@exmaple.com"
    )
    await shop.drain()
    assert shop.carts()[str(checkout.token)].customer.email_address == "ann@exmaple.com"
    start = len(shop.writes())
    await shop.saleor.update_checkout(checkout, email="ann@example.com")
    await shop.drain()
    assert shop.carts()[str(checkout.token)].customer.email_address == "ann@example.com"
    # Posted at an address new to the audience: refused once, the contact added, then taken
    # (`cart_audience.py`).
    writes = [f"DELETE /carts/{checkout.token}", "POST /carts", "POST /carts"]
    assert shop.writes()[start:] == writes


async def test_a_shopper_signing_in_on_the_checkout_gets_the_cart(shop: Shop) -> None:
    fig = await shop.product("Fig", "2.00")
    bob = await shop.saleor.create_customer("bob@example.com", "Bob", "Brown")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 1)], email="guest@example.com"
    )
    await shop.drain()
    await shop.saleor.update_checkout(checkout, user_id=bob.id, email="bob@example.com")
    await shop.drain()
    cart = shop.carts()[str(checkout.token)]
    assert (cart.customer.id, cart.customer.email_address) == (str(bob.id), "bob@example.com")


async def test_a_cart_changed_otherwise_is_patched_as_before(shop: Shop) -> None:
    fig = await shop.product("Fig", "2.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 1)], email="ann@example.com"
    )
    await shop.drain()
    start = len(shop.writes())
    await shop.saleor.update_checkout(checkout, metadata={"note": "gift"})
    await shop.drain()
    assert all(not w.startswith("DELETE") for w in shop.writes()[start:])
