"""A registered customer's names in Mailchimp where the account has none: Saleor's sign-up asks
only an e-mail and a password, and a checkout puts names on its addresses, never on the account
(saleor/account/utils.py `store_user_address` keeps the address alone). Mailchimp's order and
cart e-mails greet a contact by the names its e-commerce customer brought, so the order's billing
address (and, for the customer's own record, its default billing address) names them."""

from __future__ import annotations

from typing import Any

from sandboxes.saleor.models import Address
from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import Shop


def _billing(shop: Shop, first_name: str, last_name: str) -> Address:
    return shop.saleor.store.new_address(
        first_name=first_name,
        last_name=last_name,
        street_address_1="2 Elm Rd",
        city="Leeds",
        postal_code="LS1 1AA",
        country="GB",
    )


async def _bought(shop: Shop, customer: Any, billing: Address) -> str:
    """The customer's checkout of one fig, billed to `billing`, completed; the order's id."""
    fig = await shop.product("Fig", "2.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 1)], customer=customer
    )
    await shop.saleor.update_checkout(
        checkout,
        billing_address=billing,
        shipping_address=billing.model_copy(update={"id": shop.saleor.store.next_id()}),
    )
    order = await shop.saleor.complete_checkout(checkout)
    await shop.drain()
    return str(order.id)


async def test_a_nameless_account_is_named_by_its_orders_billing_address(shop: Shop) -> None:
    dee = await shop.saleor.create_customer("dee@example.com")
    order_id = await _bought(shop, dee, _billing(shop, "Dee", "Park"))

    customer = shop.orders()[order_id].customer
    assert (customer.id, customer.first_name, customer.last_name) == (str(dee.id), "Dee", "Park")
    [record] = shop.mailchimp.customers(shop.account, shop.store_id)
    assert (record.first_name, record.last_name) == ("Dee", "Park")


async def test_the_accounts_own_names_win_over_the_billing_address(shop: Shop) -> None:
    """A gift bought with someone else's card is still the account holder's order."""
    eve = await shop.saleor.create_customer("eve@example.com", "Eve", "")
    order_id = await _bought(shop, eve, _billing(shop, "Sam", "Cole"))

    customer = shop.orders()[order_id].customer
    assert (customer.first_name, customer.last_name or "") == ("Eve", "")


async def test_a_nameless_customers_record_takes_its_default_billing_address(shop: Shop) -> None:
    """The checkout kept its billing address as the account's default (Saleor's
    `store_user_address`); the customer's next update sends that address's names."""
    flo = await shop.saleor.create_customer("flo@example.com")
    await _bought(shop, flo, _billing(shop, "Flo", "Reed"))
    assert shop.saleor.store.get_customer(flo.id).default_billing_address_id is not None

    await shop.saleor.update_customer(flo, note="prefers e-mail")
    await shop.drain()
    [record] = shop.mailchimp.customers(shop.account, shop.store_id)
    assert (record.first_name, record.last_name) == ("Flo", "Reed")
    assert record.address is not None and record.address["city"] == "Leeds"


async def test_a_carts_customer_is_named_by_the_checkouts_billing_address(shop: Shop) -> None:
    """A guest's cart (and a nameless account's) greets the shopper by the names typed into the
    checkout's billing address; a guest's also brings its address, as an order does."""
    fig = await shop.product("Fig", "2.00")
    gia = await shop.saleor.create_customer("gia@example.com")
    guest = await shop.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 1)], email="hal@example.com"
    )
    registered = await shop.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 1)], customer=gia
    )
    await shop.saleor.update_checkout(guest, billing_address=_billing(shop, "Hal", "Moss"))
    await shop.saleor.update_checkout(registered, billing_address=_billing(shop, "Gia", "Lind"))
    await shop.drain()

    carts = shop.carts()
    hal, gia_cart = carts[str(guest.token)].customer, carts[str(registered.token)].customer
    assert (hal.first_name, hal.last_name) == ("Hal", "Moss")
    assert hal.address is not None and hal.address["city"] == "Leeds"
    assert (gia_cart.id, gia_cart.first_name, gia_cart.last_name) == (str(gia.id), "Gia", "Lind")
