"""A customer's new address, as Saleor takes it: refused when another user has it (`User.email`
is unique: "Email is used by other user." from `confirmEmailChange`, Django's "User with this
Email already exists." from `customerUpdate`), and the confirmed guest orders placed with it
become the customer's, with no webhook (`match_orders_with_new_user`, saleor/order/utils.py)."""

from __future__ import annotations

import pytest

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.order_models import OrderStatus
from sandboxes.saleor.store_customers import EmailTaken


async def test_an_address_another_user_has_is_refused_and_nothing_sent(
    sandbox: SaleorSandbox, emitted: list[str]
) -> None:
    ann = await sandbox.create_customer("ann@example.com", is_confirmed=True)
    await sandbox.create_customer("bob@example.com", is_confirmed=True)
    emitted.clear()
    with pytest.raises(EmailTaken, match=r"Email is used by other user\."):
        await sandbox.confirm_email_change(ann, "Bob@Example.com")
    with pytest.raises(EmailTaken, match=r"User with this Email already exists\."):
        await sandbox.update_customer(ann, email="bob@example.com")
    with pytest.raises(EmailTaken):
        sandbox.store.update_customer(ann, email="bob@example.com")
    assert sandbox.store.get_customer(ann.id).email == "ann@example.com"
    assert emitted == []
    # Her own address (in another case) is no other user's.
    await sandbox.update_customer(ann, email="ANN@example.com")
    assert sandbox.store.get_customer(ann.id).email == "ann@example.com"


async def test_the_new_address_takes_its_confirmed_guest_orders_without_a_webhook(
    sandbox: SaleorSandbox, emitted: list[str]
) -> None:
    ann = await sandbox.create_customer("ann@example.com", is_confirmed=True)
    guest = await sandbox.create_order(email="ann.lee@example.com")
    draft = await sandbox.create_order(email="ann.lee@example.com", status=OrderStatus.DRAFT)
    pending = await sandbox.create_order(
        email="ann.lee@example.com", status=OrderStatus.UNCONFIRMED
    )
    other = await sandbox.create_order(email="someone@example.com")
    stamp = guest.updated_at
    emitted.clear()
    await sandbox.confirm_email_change(ann, "ann.lee@example.com")
    assert emitted == ["CUSTOMER_UPDATED", "ACCOUNT_EMAIL_CHANGED"]
    assert guest.user_id == ann.id and guest.updated_at == stamp
    assert (draft.user_id, pending.user_id, other.user_id) == (None, None, None)
    assert [o.id for o in sandbox.store.orders_of(ann.id)] == [guest.id]

    # Staff's `customerUpdate` to another address does the same.
    later = await sandbox.create_order(email="al@example.com")
    await sandbox.update_customer(ann, email="al@example.com")
    assert later.user_id == ann.id


async def test_confirming_an_account_takes_its_guest_orders(sandbox: SaleorSandbox) -> None:
    guest = await sandbox.create_order(email="ann@example.com")
    ann = await sandbox.create_customer("ann@example.com")
    assert guest.user_id is None  # `accountRegister` matches none
    await sandbox.confirm_account(ann)
    assert guest.user_id == ann.id
