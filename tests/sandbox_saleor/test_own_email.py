"""A signed-in shopper's checkout `email` and order `userEmail`: the account's current address
before Saleor 3.21.3, their own since (saleor/saleor#17753; `versions.shows_own_email`)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sandboxes.saleor import SaleorSandbox, SandboxApp
from sandboxes.saleor.store_catalog import VariantSpec
from sandboxes.saleor.store_checkouts import LineSpec
from sandboxes.saleor.versions import CURRENT_VERSION, OLDEST_VERSION, shows_own_email

STAFF = SandboxApp(
    id=0,
    name="staff",
    identifier="staff",
    version="1",
    permissions=["MANAGE_ORDERS", "MANAGE_CHECKOUTS", "MANAGE_USERS"],
)


def test_the_change_came_with_3_21_3() -> None:
    assert not shows_own_email("3.20.119")
    assert not shows_own_email("3.21.2")
    assert shows_own_email("3.21.3")
    assert shows_own_email(CURRENT_VERSION)


@pytest.mark.parametrize("version", [OLDEST_VERSION, CURRENT_VERSION])
async def test_a_signed_in_shoppers_checkout_and_order_show_the_address_the_version_shows(
    sandbox: SaleorSandbox, version: str
) -> None:
    sandbox.version = version
    ann = await sandbox.create_customer("ann@example.com", is_confirmed=True)
    product = sandbox.store.create_product("Fig", [VariantSpec(sku="FIG", price=Decimal(2))])
    checkout = await sandbox.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], email="gift@example.com", customer=ann
    )
    order = await sandbox.create_order(user=ann, email="gift@example.com")
    await sandbox.confirm_email_change(ann, "ann.new@example.com")

    read = await sandbox.execute(
        "query($c: ID!, $o: ID!) { checkout(id: $c) { email user { email } }"
        " order(id: $o) { userEmail user { email } } }",
        {"c": checkout.global_id, "o": order.global_id},
        app=STAFF,
    )
    data = read["data"]
    if version == OLDEST_VERSION:  # the account's address as it is now
        assert data["checkout"]["email"] == data["order"]["userEmail"] == "ann.new@example.com"
    else:  # their own
        assert data["checkout"]["email"] == data["order"]["userEmail"] == "gift@example.com"
    assert data["checkout"]["user"]["email"] == data["order"]["user"]["email"]


@pytest.mark.parametrize("version", [OLDEST_VERSION, CURRENT_VERSION])
async def test_an_empty_own_address_falls_back_to_the_users(
    sandbox: SaleorSandbox, version: str
) -> None:
    """Since 3.21.3 an order without `user_email` answers its user's (saleor/graphql/order/
    types.py:2608 `resolve_user_email`), a checkout without `email` its user's
    (saleor/checkout/models.py:368 `get_customer_email`); before, the user's anyway."""
    sandbox.version = version
    ann = await sandbox.create_customer("ann@example.com", is_confirmed=True)
    product = sandbox.store.create_product("Fig", [VariantSpec(sku="FIG", price=Decimal(2))])
    checkout = await sandbox.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], email="x@example.com", customer=ann
    )
    checkout.email = None
    order = await sandbox.create_order(user=ann, email="x@example.com")
    order.user_email = None
    read = await sandbox.execute(
        "query($c: ID!, $o: ID!) { checkout(id: $c) { email } order(id: $o) { userEmail } }",
        {"c": checkout.global_id, "o": order.global_id},
        app=STAFF,
    )
    data = read["data"]
    assert data["checkout"]["email"] == data["order"]["userEmail"] == "ann@example.com"


@pytest.mark.parametrize("version", [OLDEST_VERSION, CURRENT_VERSION])
async def test_a_signed_in_shoppers_order_stores_the_address_the_version_stores(
    sandbox: SaleorSandbox, version: str
) -> None:
    """`checkoutComplete` stores `CheckoutInfo.get_customer_email()` as the order's
    `user_email` (saleor/checkout/complete_checkout.py): the account's address at 3.20.119
    (`user.email if user else checkout.email`, saleor/checkout/fetch.py), the checkout's since
    saleor/saleor#17753. Read once the account is gone, the stored one shows."""
    sandbox.version = version
    ann = await sandbox.create_customer("ann@example.com", is_confirmed=True)
    product = sandbox.store.create_product("Fig", [VariantSpec(sku="FIG", price=Decimal(2))])
    checkout = await sandbox.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], email="gift@example.com", customer=ann
    )
    order = await sandbox.complete_checkout(checkout)
    await sandbox.delete_customer(ann)
    read = await sandbox.execute(
        "query($o: ID!) { order(id: $o) { userEmail user { email } } }",
        {"o": order.global_id},
        app=STAFF,
    )
    stored = "ann@example.com" if version == OLDEST_VERSION else "gift@example.com"
    assert read["data"]["order"] == {"userEmail": stored, "user": None}
