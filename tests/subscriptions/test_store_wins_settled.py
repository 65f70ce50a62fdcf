"""Store wins: a store change whose job wrote nothing to Mailchimp (no member to change) is over
all the same, so it no longer overrides the contact's later changes in Mailchimp. Before, it
stayed pending for good and every Mailchimp change of the contact was dropped as "overridden by
the store's"."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from addon.clock import ManualClock
from addon.db.types import utcnow
from addon.subscriptions.metadata import STATUS_PREFIX as STATUS
from addon.subscriptions.models import ContactState
from tests.conftest import dashboard_headers
from tests.subscriptions.conftest import Shop, _account_page, _fire, _metadata


async def _unticked_on_account_page(shop: Shop, customer: Any) -> None:
    """She saves her account page with News unticked (she never was in it)."""
    await _account_page(shop, customer, shop.ids["news"], subscribed=False)


async def _put_in_a_group_by_an_admin(shop: Shop, customer: Any) -> None:
    """An admin puts her in "Fruit" in the dashboard (she is no contact of the audience)."""
    headers = dashboard_headers(shop.saleor, shop.app, user_permissions=["MANAGE_USERS"])
    response = await shop.client.post(
        f"/api/subscriptions/customers/{customer.global_id}",
        json={"list_id": shop.ids["news"], "action": "set_groups", "groups": [shop.ids["Fruit"]]},
        headers=headers,
    )
    assert response.status_code == 202


@pytest.mark.parametrize("store_change", [_unticked_on_account_page, _put_in_a_group_by_an_admin])
async def test_a_signup_in_mailchimp_after_a_store_change_with_no_member_reaches_saleor(
    newsletter: Shop, store_change: Any
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    await shop.configure(
        active_list_ids=[news, shop.ids["deals"]],
        default_list_id=news,
        offered_category_ids=[shop.ids["topics"]],
        priority="store_wins",
    )
    customer = await shop.saleor.create_customer("ivy@example.com", is_confirmed=True)  # no consent
    await shop.work()
    await store_change(shop, customer)
    await shop.work()
    assert shop.member(news, "ivy@example.com") is None

    # Weeks later she signs up through the audience's own Mailchimp form.
    await shop.mc(
        "PUT",
        f"/lists/{news}/members/ivy@example.com",
        {"email_address": "ivy@example.com", "status_if_new": "subscribed"},
    )
    await _fire(shop, "subscribe", {"email": "ivy@example.com"})
    await shop.work()

    assert _metadata(shop, customer).get(STATUS + news) == "subscribed"
    async with shop.services.db.session() as session:
        contact = (ContactState.list_id == news) & (ContactState.email == "ivy@example.com")
        state = await session.scalar(select(ContactState).where(contact))
        assert state is not None and state.status == "subscribed"
        assert state.last_problem is None


async def test_a_store_change_asked_while_one_ran_stays_pending(
    newsletter: Shop, clock: ManualClock
) -> None:
    """Only the change the job ran is over: one asked meanwhile (marked in its request,
    outside the contact's lane) still counts, its job to come."""
    shop = newsletter
    news = shop.ids["news"]
    await shop.configure(active_list_ids=[news], default_list_id=news, priority="store_wins")
    customer = await shop.saleor.create_customer("ivy@example.com", is_confirmed=True)
    await shop.work()
    await _unticked_on_account_page(shop, customer)
    clock.advance(1)
    contact = (ContactState.list_id == news) & (ContactState.email == "ivy@example.com")
    async with shop.services.db.transaction() as session:
        state = await session.scalar(select(ContactState).where(contact))
        assert state is not None
        state.store_changed_at = asked = utcnow()
    await shop.work()

    async with shop.services.db.session() as session:
        state = await session.scalar(select(ContactState).where(contact))
        assert state is not None and state.store_changed_at == asked
