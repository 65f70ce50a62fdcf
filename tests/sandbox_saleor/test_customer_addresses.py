"""A customer's address edited or deleted, as Saleor's `BaseAddressUpdate` and
`BaseAddressDelete` do (saleor/graphql/account/mutations/base.py): the owner's `updated_at`
saved, a deleted default cleared (`SET_NULL`), an order's copy left alone."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sandboxes.saleor.store import SaleorStore
from sandboxes.saleor.store_base import NotFound


def test_an_edit_saves_the_owner_and_leaves_an_orders_copy() -> None:
    store = SaleorStore()
    home = store.new_address(street_address_1="1 Main St", city="Leeds")
    ann = store.create_customer("ann@example.com", addresses=[home])
    ann.updated_at -= timedelta(days=1)
    before = ann.updated_at
    order_copy = ann.addresses[0]

    edited = store.update_address(ann, home.id, street_address_1="9 Elm St")

    assert edited.id == home.id and ann.addresses == [edited]
    assert ann.default_billing_address_id == home.id
    assert ann.updated_at > before
    assert order_copy.street_address_1 == "1 Main St"
    with pytest.raises(ValueError):
        store.update_address(ann, home.id, no_such_field="x")


def test_a_deletion_clears_the_defaults_it_was() -> None:
    store = SaleorStore()
    home = store.new_address(city="Leeds")
    ann = store.create_customer("ann@example.com", addresses=[home])
    bob = store.create_customer("bob@example.com")
    with pytest.raises(NotFound):
        store.delete_address(bob, home.id)  # not bob's

    removed = store.delete_address(ann, home.id)

    assert removed.id == home.id
    assert ann.addresses == []
    assert ann.default_billing_address_id is None and ann.default_shipping_address_id is None


def test_a_deleted_users_checkouts_go_and_orders_stay_as_a_guests() -> None:
    """Saleor's foreign keys: `Checkout.user` CASCADE, `Order.user` SET_NULL."""
    store = SaleorStore()
    ann = store.create_customer("ann@example.com")
    bob = store.create_customer("bob@example.com")
    mine, theirs = store.create_checkout(customer=ann), store.create_checkout(customer=bob)
    order = store.create_order(user=ann)
    assert store.orders_of(ann.id) == [order]

    store.delete_customer(ann)

    assert list(store.checkouts.values()) == [theirs] and mine.token not in store.checkouts
    assert order.user_id is None and order.user_email == "ann@example.com"
    assert store.orders_of(ann.id) == []
