"""A customer's new address, as Saleor takes it: refused when a user has it (`User.email` is
unique: "Email is used by other user." from `confirmEmailChange`, Django's "User with this Email
already exists." from `customerUpdate`), and the confirmed guest orders placed with it become the
customer's, with no webhook (`match_orders_with_new_user`, saleor/order/utils.py). Last, a staff
account, which no customer deletion takes."""

from __future__ import annotations

import pytest

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.order_models import OrderStatus
from sandboxes.saleor.sandbox_customers import DeleteStaffAccount
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


async def test_confirming_a_change_to_ones_own_address_is_refused(
    sandbox: SaleorSandbox, emitted: list[str]
) -> None:
    """`confirmEmailChange` refuses an address any user has, the customer included
    (saleor/graphql/account/mutations/account/confirm_email_change.py, 3.20.119 as HEAD:
    `models.User.objects.filter(email=new_email).exists()`): no event."""
    ann = await sandbox.create_customer("ann@example.com", is_confirmed=True)
    emitted.clear()
    with pytest.raises(EmailTaken, match=r"Email is used by other user\."):
        await sandbox.confirm_email_change(ann, "Ann@Example.com")
    assert emitted == []


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


async def test_a_staff_member_cannot_be_deleted_as_a_customer(
    sandbox: SaleorSandbox, emitted: list[str]
) -> None:
    """`customerDelete` and `accountDelete` refuse a staff account, DELETE_STAFF_ACCOUNT
    (saleor/graphql/account/mutations/base.py `CustomerDeleteMixin`, account/account_delete.py
    `clean_instance`, 3.20.119 as HEAD): nothing deleted or sent."""
    ann = await sandbox.create_customer("ann@example.com", is_confirmed=True)
    await sandbox.make_staff(ann)
    emitted.clear()
    for delete in (sandbox.delete_customer, sandbox.delete_account):
        with pytest.raises(DeleteStaffAccount, match=r"^Cannot delete a staff account\.$"):
            await delete(ann)
    assert sandbox.store.get_customer(ann.id).email == "ann@example.com"
    assert emitted == []
