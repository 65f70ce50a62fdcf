"""`checkoutComplete` keeps the order's addresses in the buyer's address book, as Saleor's
`store_user_address` does (saleor/account/utils.py, called from saleor/checkout/
complete_checkout.py, at 3.20.119 and 723cd4e): an equal address reused, a new one copied in, a
default set only where there is none, nothing past `MAX_USER_ADDRESSES`, and no webhook."""

from __future__ import annotations

from decimal import Decimal

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.models import Address, Customer
from sandboxes.saleor.order_models import Order
from sandboxes.saleor.store_catalog import VariantSpec
from sandboxes.saleor.store_checkouts import LineSpec
from sandboxes.saleor.store_customers import MAX_USER_ADDRESSES


def _address(sandbox: SaleorSandbox, street: str, first_name: str = "Dee") -> Address:
    return sandbox.store.new_address(
        first_name=first_name, last_name="Park", street_address_1=street, city="Leeds"
    )


async def _bought(
    sandbox: SaleorSandbox, buyer: Customer, billing: Address, shipping: Address | None = None
) -> Order:
    store = sandbox.store
    product = store.create_product(
        f"Mug {len(store.products)}", [VariantSpec(sku=None, price=Decimal("5.00"))]
    )
    checkout = await sandbox.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], customer=buyer
    )
    await sandbox.update_checkout(checkout, billing_address=billing, shipping_address=shipping)
    return await sandbox.complete_checkout(checkout)


async def test_a_first_order_gives_a_bare_account_its_default_addresses(
    sandbox: SaleorSandbox, emitted: list[str]
) -> None:
    dee = sandbox.store.create_customer("dee@example.com")
    before = dee.updated_at
    billing, shipping = _address(sandbox, "1 Bank St"), _address(sandbox, "2 Home Rd")
    emitted.clear()

    order = await _bought(sandbox, dee, billing, shipping)

    assert "CUSTOMER_UPDATED" not in emitted  # no webhook for the address book
    kept = {a.street_address_1: a for a in dee.addresses}
    assert set(kept) == {"1 Bank St", "2 Home Rd"}
    assert dee.default_billing_address_id == kept["1 Bank St"].id
    assert dee.default_shipping_address_id == kept["2 Home Rd"].id
    assert dee.updated_at > before
    # Copies: the order's addresses are not the account's.
    assert order.billing_address is not None
    assert kept["1 Bank St"] is not order.billing_address
    assert kept["1 Bank St"].id != billing.id


async def test_an_equal_address_is_reused_and_defaults_are_kept(sandbox: SaleorSandbox) -> None:
    home = _address(sandbox, "1 Bank St")
    eve = sandbox.store.create_customer("eve@example.com", addresses=[home])
    [held] = eve.addresses

    await _bought(sandbox, eve, _address(sandbox, "1 Bank St"))  # equal but for its id
    assert [a.id for a in eve.addresses] == [held.id]

    await _bought(sandbox, eve, _address(sandbox, "9 Far Lane", first_name="Sam"))
    assert [a.street_address_1 for a in eve.addresses] == ["1 Bank St", "9 Far Lane"]
    assert eve.default_billing_address_id == held.id  # a default is never replaced


async def test_a_full_address_book_takes_no_more(sandbox: SaleorSandbox) -> None:
    many = [_address(sandbox, f"{n} Bank St") for n in range(MAX_USER_ADDRESSES)]
    flo = sandbox.store.create_customer("flo@example.com", addresses=many)

    await _bought(sandbox, flo, _address(sandbox, "1 New Road"))

    assert len(flo.addresses) == MAX_USER_ADDRESSES
    assert "1 New Road" not in {a.street_address_1 for a in flo.addresses}


async def test_an_address_differing_in_its_metadata_alone_is_another(
    sandbox: SaleorSandbox,
) -> None:
    """`as_data()` holds every field but the id, metadata too (an address is a
    `ModelWithMetadata`): such an address is copied in, its metadata with it."""
    home = _address(sandbox, "1 Bank St")
    gus = sandbox.store.create_customer("gus@example.com", addresses=[home])
    tagged = _address(sandbox, "1 Bank St").model_copy(update={"metadata": {"door": "blue"}})

    await _bought(sandbox, gus, tagged)

    assert [a.metadata for a in gus.addresses] == [{}, {"door": "blue"}]
