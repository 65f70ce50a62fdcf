"""A store-side change asked just before the member's address change in Mailchimp (`upemail`)
was applied: Mailchimp retries a webhook delivery for up to 75 minutes, so the change's job may
run while the move waits behind it in the contact's lane. Before, the job found no member at
the old address and did nothing, then the move copied Mailchimp's `subscribed`: a shopper's
unsubscribe was lost (the new address kept getting mail, her account said subscribed), and a
staff change of groups was dropped under "store wins" (the move also cleared its note). Now the
change follows the member to its new address, after the move."""

from __future__ import annotations

from sqlalchemy import select

from addon.subscriptions.metadata import EMAIL_PREFIX, STATUS_PREFIX
from addon.subscriptions.models import ContactState
from tests.conftest import dashboard_headers
from tests.subscriptions.conftest import (
    Shop,
    _account_page,
    _fire,
    _metadata,
    _subscribed_customer,
)

OLD, NEW = "ann@example.com", "ann@new.example"


async def _moved_in_mailchimp(shop: Shop) -> None:
    """Ann changes her address on Mailchimp's update-profile page; its webhook arrives."""
    news = shop.ids["news"]
    await shop.mc("PATCH", f"/lists/{news}/members/{OLD}", {"email_address": NEW})
    await _fire(shop, "upemail", {"old_email": OLD, "new_email": NEW, "new_id": "x"})


async def _emails(shop: Shop) -> set[str]:
    async with shop.services.db.session() as session:
        found = await session.scalars(
            select(ContactState.email).where(ContactState.list_id == shop.ids["news"])
        )
        return set(found)


async def test_an_unsubscribe_asked_just_before_the_move_reaches_the_new_address(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    customer = await _subscribed_customer(shop, OLD)
    await _account_page(shop, customer, news, subscribed=False)  # its job not run yet
    await _moved_in_mailchimp(shop)
    await shop.work()

    assert shop.member(news, OLD) is None  # nothing made at the address she gave up
    assert shop.member(news, NEW).status == "unsubscribed"
    assert _metadata(shop, customer)[STATUS_PREFIX + news] == "unsubscribed"
    assert _metadata(shop, customer)[EMAIL_PREFIX + news] == NEW
    assert OLD not in await _emails(shop)


async def test_a_staff_group_change_asked_just_before_the_move_reaches_it_under_store_wins(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news, fruit = shop.ids["news"], shop.ids["Fruit"]
    await shop.configure(
        active_list_ids=[news, shop.ids["deals"]],
        default_list_id=news,
        offered_category_ids=[shop.ids["topics"]],
        priority="store_wins",
    )
    customer = await _subscribed_customer(shop, OLD)
    headers = dashboard_headers(shop.saleor, shop.app, user_permissions=["MANAGE_USERS"])
    response = await shop.client.post(
        f"/api/subscriptions/customers/{customer.global_id}",
        json={"list_id": news, "action": "set_groups", "groups": [fruit]},
        headers=headers,
    )
    assert response.status_code == 202, response.text
    await _moved_in_mailchimp(shop)
    await shop.work()

    assert shop.member(news, OLD) is None
    assert shop.member(news, NEW).interests[fruit] is True
    # The move itself is no competing edit: the contact is where Mailchimp has it.
    assert await _emails(shop) >= {NEW} and OLD not in await _emails(shop)
    assert _metadata(shop, customer)[EMAIL_PREFIX + news] == NEW
