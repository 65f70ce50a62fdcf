"""Mailchimp → store through audience webhooks: an unsubscribe, a cleaned or archived contact, a
profile or address change reaches the customer's metadata, as Mailchimp holds the member now;
conflicting changes follow the priority rule; the admin's customer API, which never subscribes
again without fresh consent. The webhooks themselves: tests/subscriptions/test_audience_webhooks.py;
what Mailchimp refuses: tests/subscriptions/test_subscription_refusals.py."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from addon.subscriptions.metadata import EMAIL_PREFIX, GROUPS_PREFIX
from addon.subscriptions.metadata import STATUS_PREFIX as STATUS
from addon.subscriptions.models import ContactState
from tests.conftest import dashboard_headers
from tests.subscriptions.conftest import (
    Shop,
    _account_page,
    _fire,
    _metadata,
    _subscribed_customer,
    _unsubscribed_in_mailchimp,
)


async def test_unsubscribe_cleaned_profile_and_upemail_reach_saleor_metadata(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    customer = await _subscribed_customer(shop, "ola@example.com")
    assert _metadata(shop, customer)[STATUS + news] == "subscribed"

    # Profile: the contact picks a group on Mailchimp's preference page.
    await shop.mc(
        "PATCH", f"/lists/{news}/members/ola@example.com", {"interests": {shop.ids["Veg"]: True}}
    )
    await _fire(shop, "profile", {"email": "ola@example.com"})
    await shop.work()
    assert _metadata(shop, customer)[GROUPS_PREFIX + news] == shop.ids["Veg"]

    # upemail: the address changes in Mailchimp; the state follows the same customer.
    await shop.mc(
        "PATCH", f"/lists/{news}/members/ola@example.com", {"email_address": "ola@new.example"}
    )
    await _fire(
        shop,
        "upemail",
        {"old_email": "ola@example.com", "new_email": "ola@new.example", "new_id": "x"},
    )
    await shop.work()
    assert _metadata(shop, customer)[EMAIL_PREFIX + news] == "ola@new.example"

    shop.mailchimp.set_member_status(shop.account, news, "ola@new.example", "unsubscribed")
    await _fire(shop, "unsubscribe", {"email": "ola@new.example", "reason": "manual"})
    await shop.work()
    assert _metadata(shop, customer)[STATUS + news] == "unsubscribed"

    other = await _subscribed_customer(shop, "pia@example.com")
    shop.mailchimp.set_member_status(shop.account, news, "pia@example.com", "cleaned")
    await _fire(shop, "cleaned", {"email": "pia@example.com", "reason": "hard"}, source="admin")
    await shop.work()
    assert _metadata(shop, other)[STATUS + news] == "cleaned"


async def _deleted_by_an_admin(shop: Shop, email: str) -> None:
    """An admin deletes (archives) the contact in Mailchimp, which says so by webhook."""
    await shop.mc("DELETE", f"/lists/{shop.ids['news']}/members/{email}")
    await _fire(
        shop,
        "unsubscribe",
        {"action": "delete", "reason": "manual", "email": email},
        source="admin",
    )


async def test_a_contact_an_admin_deleted_in_mailchimp_is_archived_not_unsubscribed(
    newsletter: Shop,
) -> None:
    """Mailchimp sends `unsubscribe` with `data[action]=delete` when an admin archives a contact
    (Mailchimp's webhooks guide): not the shopper's refusal, so staff may subscribe them again."""
    shop = newsletter
    news = shop.ids["news"]
    customer = await _subscribed_customer(shop, "ida@example.com")
    await _deleted_by_an_admin(shop, "ida@example.com")
    await shop.work()
    assert _metadata(shop, customer)[STATUS + news] == "archived"
    # One who had unsubscribed keeps that when an admin then archives them (a clean-up).
    other = await _subscribed_customer(shop, "ula@example.com")
    await shop.mc("PATCH", f"/lists/{news}/members/ula@example.com", {"status": "unsubscribed"})
    await _fire(shop, "unsubscribe", {"action": "unsub", "email": "ula@example.com"})
    await _deleted_by_an_admin(shop, "ula@example.com")
    await shop.work()
    assert _metadata(shop, other)[STATUS + news] == "unsubscribed"

    headers = dashboard_headers(shop.saleor, shop.app, user_permissions=["MANAGE_USERS"])
    url = f"/api/subscriptions/customers/{customer.global_id}"
    panel = (await shop.client.get(url, headers=headers)).json()
    [audience] = [a for a in panel["audiences"] if a["list_id"] == news]
    assert audience["can_subscribe"] is True and audience["subscribe_blocked_reason"] is None
    response = await shop.client.post(
        url, json={"list_id": news, "action": "subscribe"}, headers=headers
    )
    assert response.status_code == 202, response.text
    await shop.work()
    assert shop.member(news, "ida@example.com").status == "subscribed"


async def test_unsubscribed_contact_is_not_resubscribed_without_fresh_consent(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    customer = await _unsubscribed_in_mailchimp(shop, "quinn@example.com")

    # An admin subscribing them is not their consent: refused, with why and what can be done.
    headers = dashboard_headers(shop.saleor, shop.app, user_permissions=["MANAGE_USERS"])
    url = f"/api/subscriptions/customers/{customer.global_id}"
    response = await shop.client.post(
        url, json={"list_id": news, "action": "subscribe"}, headers=headers
    )
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["code"] == "CONSENT_REQUIRED"
    assert error["message"].startswith("This customer unsubscribed from News")
    assert "storefront" in error["message"]
    assert await shop.work() == 0  # nothing was queued
    assert shop.member(news, "quinn@example.com").status == "unsubscribed"
    panel = (await shop.client.get(url, headers=headers)).json()
    [audience] = [a for a in panel["audiences"] if a["list_id"] == news]
    assert audience["can_subscribe"] is False
    assert audience["subscribe_blocked_reason"] == error["message"]

    # Their own fresh consent (on the account page) asks for confirmation: pending.
    await _account_page(shop, customer, news, subscribed=True)
    await shop.work()
    assert shop.member(news, "quinn@example.com").status == "pending"
    assert "quinn@example.com" in [c.email_address for c in shop.mailchimp.confirmations]


@pytest.mark.parametrize("priority", ["mailchimp_wins", "store_wins"])
async def test_conflicting_changes_follow_the_priority(newsletter: Shop, priority: str) -> None:
    shop = newsletter
    news = shop.ids["news"]
    await shop.configure(
        active_list_ids=[news],
        offered_category_ids=[shop.ids["topics"]],
        priority=priority,
    )
    customer = await _subscribed_customer(shop, "sam@example.com")
    fruit, veg = shop.ids["Fruit"], shop.ids["Veg"]

    # The admin puts them in "Fruit" while, in Mailchimp, they choose "Veg".
    headers = dashboard_headers(shop.saleor, shop.app, user_permissions=["MANAGE_USERS"])
    response = await shop.client.post(
        f"/api/subscriptions/customers/{customer.global_id}",
        json={"list_id": news, "action": "set_groups", "groups": [fruit]},
        headers=headers,
    )
    assert response.status_code == 202
    await shop.mc("PATCH", f"/lists/{news}/members/sam@example.com", {"interests": {veg: True}})
    await _fire(shop, "profile", {"email": "sam@example.com"})
    await shop.work()

    member = shop.member(news, "sam@example.com")
    chosen = {i for i, on in member.interests.items() if on}
    if priority == "mailchimp_wins":
        assert chosen == {veg}
        assert _metadata(shop, customer)[GROUPS_PREFIX + news] == veg
    else:
        assert chosen == {fruit}
        assert _metadata(shop, customer)[GROUPS_PREFIX + news] == fruit


async def test_admin_panel_reads_and_edits_a_customer(newsletter: Shop) -> None:
    shop = newsletter
    news, deals = shop.ids["news"], shop.ids["deals"]
    customer = await _subscribed_customer(shop, "tia@example.com")
    headers = dashboard_headers(shop.saleor, shop.app, user_permissions=["MANAGE_USERS"])
    url = f"/api/subscriptions/customers/{customer.global_id}"

    panel = (await shop.client.get(url, headers=headers)).json()
    assert panel["email"] == "tia@example.com"
    by_list = {a["list_id"]: a for a in panel["audiences"]}
    assert by_list[news]["status"] == "subscribed" and by_list[news]["tags"] == ["saleor"]
    assert by_list[news]["last_change_source"] == "registration"
    assert {p["text"] for p in by_list[news]["marketing_permissions"]} >= {"Email"}
    assert by_list[deals]["status"] == "none"

    for body in (
        {"list_id": deals, "action": "subscribe"},
        {"list_id": news, "action": "set_groups", "groups": [shop.ids["Veg"]]},
    ):
        assert (await shop.client.post(url, json=body, headers=headers)).status_code == 202
    await shop.work()
    assert shop.member(deals, "tia@example.com").status == "pending"  # double opt-in audience
    assert shop.member(news, "tia@example.com").interests[shop.ids["Veg"]] is True
    await shop.client.post(url, json={"list_id": news, "action": "unsubscribe"}, headers=headers)
    await shop.work()
    assert shop.member(news, "tia@example.com").status == "unsubscribed"
    panel = (await shop.client.get(url, headers=headers)).json()
    assert {a["list_id"]: a for a in panel["audiences"]}[news]["last_change_source"] == "admin"

    no_users = dashboard_headers(shop.saleor, shop.app, user_permissions=["MANAGE_APPS"])
    assert (await shop.client.get(url, headers=no_users)).status_code == 403


async def test_manifest_mounts_the_customer_panel(newsletter: Shop) -> None:
    manifest = (await newsletter.client.get("/api/manifest")).json()
    [panel] = [e for e in manifest["extensions"] if e["url"].endswith("/app/customer-panel")]
    assert panel["mount"] == "CUSTOMER_DETAILS_MORE_ACTIONS" and panel["target"] == "POPUP"
    assert panel["permissions"] == ["MANAGE_USERS"]
    assert panel["url"].startswith("http://app.test/")


async def test_an_unsubscribe_delivered_after_the_contact_came_back_leaves_them_subscribed(
    newsletter: Shop,
) -> None:
    """Mailchimp retries a failed delivery for 75 minutes: the unsubscribe may arrive after
    the contact subscribed again. The member as Mailchimp holds it now wins."""
    shop = newsletter
    news = shop.ids["news"]
    customer = await _subscribed_customer(shop, "ola@example.com")
    await shop.mc("PATCH", f"/lists/{news}/members/ola@example.com", {"status": "unsubscribed"})
    # Back through Mailchimp's confirmation (an unsubscribed contact cannot simply be put back).
    await shop.mc("PATCH", f"/lists/{news}/members/ola@example.com", {"status": "pending"})
    shop.mailchimp.set_member_status(shop.account, news, "ola@example.com", "subscribed")
    await _fire(shop, "unsubscribe", {"email": "ola@example.com", "action": "unsub"})
    await shop.work()
    assert _metadata(shop, customer)[STATUS + news] == "subscribed"
    async with shop.services.db.session() as session:
        state = await session.scalar(
            select(ContactState).where(ContactState.email == "ola@example.com")
        )
        assert state is not None and state.status == "subscribed"


async def test_an_unsubscribe_is_applied_though_mailchimp_cannot_be_read(newsletter: Shop) -> None:
    """The member read before an unsubscribe is a check, never a condition: Mailchimp failing
    it (an outage, a 429) must not lose the unsubscribe."""
    shop = newsletter
    news = shop.ids["news"]
    customer = await _subscribed_customer(shop, "ola@example.com")
    shop.mailchimp.set_member_status(shop.account, news, "ola@example.com", "unsubscribed")
    shop.mailchimp.faults.outage(account=shop.account)
    await _fire(shop, "unsubscribe", {"email": "ola@example.com", "action": "unsub"})
    await shop.work()
    assert _metadata(shop, customer)[STATUS + news] == "unsubscribed"


async def test_an_unsubscribe_is_sent_though_mailchimp_changed_the_contact_meanwhile(
    newsletter: Shop,
) -> None:
    """Under "Mailchimp wins", a store change is dropped when the contact changed in Mailchimp
    since: never an opt-out, which is kept whichever side it comes from."""
    shop = newsletter
    news = shop.ids["news"]
    await shop.configure(active_list_ids=[news], priority="mailchimp_wins")
    customer = await _subscribed_customer(shop, "sam@example.com")
    # Staff fix the member's first name in Mailchimp; before the worker applies it, the
    # customer unsubscribes on the account page.
    await shop.mc(
        "PATCH", f"/lists/{news}/members/sam@example.com", {"merge_fields": {"FNAME": "Sam"}}
    )
    await _fire(shop, "profile", {"email": "sam@example.com"}, source="admin")
    await _account_page(shop, customer, news, subscribed=False)
    await shop.work()

    assert shop.member(news, "sam@example.com").status == "unsubscribed"
    assert _metadata(shop, customer)[STATUS + news] == "unsubscribed"
