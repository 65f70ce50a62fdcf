"""A customer's address edited in Saleor reaches their Mailchimp customer.

`addressUpdate` and `accountAddressUpdate` send ADDRESS_UPDATED alone, whose `address` names no
user (saleor/graphql/account/mutations/base.py); the owner is found among the customers Saleor
changed since (addon/saleor/address_owners.py)."""

from __future__ import annotations

from addon.saleor import address_owners
from tests.ecommerce.conftest import Shop


async def _customer_with_address(shop: Shop, email: str, street: str) -> int:
    address = shop.saleor.store.new_address(
        first_name="Cy", street_address_1=street, city="Leeds", postal_code="LS1", country="GB"
    )
    customer = await shop.saleor.create_customer(email, "Cy", "Oak", addresses=[address])
    return customer.id


def _street(shop: Shop, email: str) -> str:
    [found] = [
        c for c in shop.mailchimp.customers(shop.account, shop.store_id) if c.email_address == email
    ]
    return str(found.address["address1"])


async def test_an_edited_default_address_reaches_the_mailchimp_customer(shop: Shop) -> None:
    pk = await _customer_with_address(shop, "cy@example.com", "2 Elm Rd")
    await _customer_with_address(shop, "di@example.com", "3 Oak Rd")
    await shop.drain()
    assert _street(shop, "cy@example.com") == "2 Elm Rd"
    before, writes = len(shop.saleor.deliveries), len(shop.writes())

    customer = shop.saleor.store.get_customer(pk)
    await shop.saleor.update_address(
        customer, customer.addresses[0].id, street_address_1="9 New St"
    )
    # As Saleor: the address event alone, nothing of the customer's.
    assert {d.event_type for d in shop.saleor.deliveries[before:]} == {"ADDRESS_UPDATED"}
    await shop.drain()

    assert _street(shop, "cy@example.com") == "9 New St"
    assert _street(shop, "di@example.com") == "3 Oak Rd"
    assert shop.writes()[writes:] == [f"PUT /customers/{pk}"]


async def test_the_owner_is_found_among_many_customers_changed_since(shop: Shop) -> None:
    """More customers changed since the edit than a page holds: the owner is still found."""
    pages, page = address_owners.MAX_PAGES, address_owners.PAGE
    address_owners.MAX_PAGES, address_owners.PAGE = 3, 2
    try:
        pks = [
            await _customer_with_address(shop, f"c{i}@example.com", "1 Old Rd") for i in range(5)
        ]
        await shop.drain()
        owner = shop.saleor.store.get_customer(pks[3])
        await shop.saleor.update_address(owner, owner.addresses[0].id, street_address_1="7 Far Rd")
        await shop.drain()
    finally:
        address_owners.MAX_PAGES, address_owners.PAGE = pages, page
    assert _street(shop, "c3@example.com") == "7 Far Rd"
    assert {_street(shop, f"c{i}@example.com") for i in (0, 1, 2, 4)} == {"1 Old Rd"}


async def test_a_deleted_address_pushes_only_what_changed(shop: Shop) -> None:
    """A deleted address names no owner any more: the customers changed around it are
    candidates, and a push sends nothing for a record that did not change."""
    pk = await _customer_with_address(shop, "cy@example.com", "2 Elm Rd")
    await _customer_with_address(shop, "di@example.com", "3 Oak Rd")
    store = shop.saleor.store
    spare = store.new_address(street_address_1="5 Spare Ln", city="Hull", country="GB")
    store.get_customer(pk).addresses.append(spare)  # not a default
    await shop.drain()
    writes = len(shop.writes())

    await shop.saleor.delete_address(store.get_customer(pk), spare.id)
    await shop.drain()
    assert shop.writes()[writes:] == []
    assert _street(shop, "cy@example.com") == "2 Elm Rd"
