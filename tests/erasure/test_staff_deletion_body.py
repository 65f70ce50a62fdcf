"""A deletion body about a customer made staff: `user(id:)` and `user(email:)` answer null to
the app for a staff member without orders (saleor/graphql/account/resolvers.py `resolve_user`,
`User.objects.customers()`), as for a deleted user. A body about them (another delivery's, as
any app subscribed to it receives one) posted as CUSTOMER_DELETED or ACCOUNT_DELETED verifies:
the app asks Saleor once more (a metadata mutation naming no key) and erases only a user Saleor
answers NOT_FOUND for, never a staff member it still has (PermissionDenied)."""

from __future__ import annotations

import json

import pytest

from tests.deliveries import post_signed
from tests.ecommerce.conftest import Shop
from tests.erasure.test_customer_deleted import (
    BO,
    _checks_after_a_refused_call,
    _subscribed_customer,
)


@pytest.mark.parametrize(
    ("slug", "event"),
    [
        ("erasure-account-deleted", "ACCOUNT_DELETED"),
        ("erasure-customer-deleted", "CUSTOMER_DELETED"),
    ],
)
async def test_a_body_about_a_staff_member_erases_nothing(
    shop: Shop, slug: str, event: str
) -> None:
    customer = await _subscribed_customer(shop)
    await shop.saleor.make_staff(customer)
    await shop.drain()
    body = json.dumps({"user": {"id": customer.global_id, "email": BO}}).encode()
    response = await post_signed(shop.client, shop.saleor, slug, event, body)
    assert response.status_code == 200, response.text
    await shop.drain()
    member = shop.mailchimp.member(shop.account, shop.list_id, BO)
    assert member is not None and member.status == "subscribed"
    assert [c.email_address for c in shop.mailchimp.customers(shop.account, shop.store_id)] == [BO]
    # The expected refusal is not taken for the app's token being refused.
    assert await _checks_after_a_refused_call(shop) == 0


async def test_a_deleted_customers_deletion_still_erases(shop: Shop) -> None:
    customer = await _subscribed_customer(shop)
    await shop.saleor.delete_account(customer)
    await shop.drain()
    assert shop.mailchimp.member(shop.account, shop.list_id, BO) is None
