"""A user's e-mail is unique (Saleor: `account_user.email`, `unique=True` in
saleor/account/models.py) and found by it, whichever way it last changed: the store's index of
e-mails follows creations, deletions, updates and a direct assignment to the model."""

from __future__ import annotations

import pytest

from sandboxes.saleor.store import SaleorStore


def test_an_email_is_found_and_unique_after_every_kind_of_change() -> None:
    store = SaleorStore()
    ann = store.create_customer(" Ann@Example.com ")
    bob = store.create_customer("bob@example.com")
    assert store.find_customer_by_email("ANN@example.com") is ann
    with pytest.raises(ValueError, match="already exists"):
        store.create_customer("ann@example.com")

    store.update_customer(ann, email="Anna@Example.com")
    assert store.find_customer_by_email("ann@example.com") is None
    assert store.find_customer_by_email("anna@example.com") is ann
    assert store.create_customer("ann@example.com").email == "ann@example.com"

    bob.email = "robert@example.com"  # straight on the model, as a mutation's resolver may
    assert store.find_customer_by_email("bob@example.com") is None
    assert store.find_customer_by_email("robert@example.com") is bob

    store.delete_customer(bob)
    assert store.find_customer_by_email("robert@example.com") is None
    assert store.create_customer("robert@example.com").id != bob.id
