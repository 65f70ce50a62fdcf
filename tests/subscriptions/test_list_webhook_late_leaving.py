"""A bounce or an unsubscribe of an address the member has since left in Mailchimp (`upemail`),
delivered late: Mailchimp retries a failed delivery for up to 75 minutes (its guide "Synchronize
Audience Data with Webhooks"), and a contact cannot change its address once cleaned ("you can't
edit them", Mailchimp's help on cleaned contacts), so such an event was fired before the move.

Before, the app found no member at the old address, took the event's word, and wrote `cleaned`
(or `unsubscribed`, `archived`) and the old address onto the customer, whose contact at the new
address Mailchimp still has subscribed. Now the event is not applied: the member moved, and the
move read its status where it is."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from addon.subscriptions.metadata import EMAIL_PREFIX, STATUS_PREFIX
from addon.subscriptions.models import ContactState
from tests.conftest import dashboard_headers
from tests.subscriptions.conftest import Shop, _fire, _metadata, _subscribed_customer

OLD, NEW = "ann@example.com", "ann@new.example"

LATE = {
    "cleaned": {"reason": "hard", "campaign_id": "4fjk2ma9xd"},
    "unsubscribe": {"action": "unsub", "reason": "manual"},
    "unsubscribe delete": {"action": "delete", "reason": "manual"},
}


async def _statuses(shop: Shop) -> dict[str, str]:
    async with shop.services.db.session() as session:
        rows = await session.scalars(
            select(ContactState).where(ContactState.list_id == shop.ids["news"])
        )
        return {r.email: r.status for r in rows}


async def _moved(shop: Shop) -> Any:
    """Ann, subscribed to News, changed her address in Mailchimp; its webhook was applied."""
    news = shop.ids["news"]
    customer = await _subscribed_customer(shop, OLD)
    await shop.mc("PATCH", f"/lists/{news}/members/{OLD}", {"email_address": NEW})
    await _fire(shop, "upemail", {"old_email": OLD, "new_email": NEW, "new_id": "x"})
    await shop.work()
    return customer


@pytest.mark.parametrize("late", list(LATE))
async def test_a_late_leaving_of_the_address_the_member_left_changes_nothing(
    newsletter: Shop, late: str
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    customer = await _moved(shop)

    await _fire(shop, late.split()[0], {"email": OLD, **LATE[late]})
    await shop.work()

    assert shop.member(news, NEW).status == "subscribed"
    assert _metadata(shop, customer)[STATUS_PREFIX + news] == "subscribed"
    assert _metadata(shop, customer)[EMAIL_PREFIX + news] == NEW
    assert (await _statuses(shop)).get(NEW) == "subscribed"
    assert (await _statuses(shop)).get(OLD, "none") == "none"
    headers = dashboard_headers(shop.saleor, shop.app, user_permissions=["MANAGE_USERS"])
    panel = await shop.client.get(
        f"/api/subscriptions/customers/{customer.global_id}", headers=headers
    )
    [mine] = [a for a in panel.json()["audiences"] if a["list_id"] == news]
    assert (mine["status"], mine["contact_email"]) == ("subscribed", NEW)


async def test_a_new_contact_at_the_address_left_is_still_archived_when_deleted(
    newsletter: Shop,
) -> None:
    """The address left is subscribed anew (a form), then the contact is deleted: the app knew
    a contact there since the move, and the deletion is its."""
    shop = newsletter
    news = shop.ids["news"]
    await _moved(shop)
    await shop.mc(
        "PUT", f"/lists/{news}/members/{OLD}", {"email_address": OLD, "status_if_new": "subscribed"}
    )
    await _fire(shop, "subscribe", {"email": OLD})
    await shop.work()
    assert (await _statuses(shop))[OLD] == "subscribed"

    await shop.mc("POST", f"/lists/{news}/members/{OLD}/actions/delete-permanent")
    await _fire(shop, "unsubscribe", {"email": OLD, **LATE["unsubscribe delete"]}, "admin")
    await shop.work()
    assert (await _statuses(shop))[OLD] == "archived"
