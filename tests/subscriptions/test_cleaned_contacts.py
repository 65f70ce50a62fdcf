"""A contact whose address bounced (cleaned) is never edited: Mailchimp lets no one ("you can't
edit them", its help on cleaned contacts). Staff cannot change its groups; a shopper's fresh
consent asks for the confirmation by e-mail alone, and says what was not sent."""

from __future__ import annotations

from typing import Any

from addon.subscriptions.member_write import CLEANED_CHOICES_NOT_SENT, CLEANED_GROUPS_KEPT
from addon.subscriptions.metadata import CONSENT_SUBSCRIBE
from tests.conftest import SALEOR_API_URL, dashboard_headers
from tests.subscriptions.conftest import Shop

STORE = {"saleor_api_url": SALEOR_API_URL}
EMAIL = "wes@example.com"


async def _cleaned_customer(shop: Shop, *, tell_the_app: bool = True) -> Any:
    """A subscribed customer whose address then bounced (`tell_the_app`: Mailchimp's webhook
    reached the app)."""
    news = shop.ids["news"]
    customer = await shop.saleor.create_customer(
        EMAIL, metadata={CONSENT_SUBSCRIBE: "true"}, is_confirmed=True
    )
    await shop.work()
    assert shop.member(news, EMAIL).status == "subscribed"
    shop.mailchimp.set_member_status(shop.account, news, EMAIL, "cleaned")
    if tell_the_app:
        await shop.mailchimp.fire_list_webhook(
            shop.account, news, "cleaned", {"email": EMAIL, "reason": "hard"}
        )
        await shop.work()
    return customer


def _writes(shop: Shop, since: int) -> list[tuple[str, int, Any]]:
    """The member writes sent to Mailchimp since `since` (method, answer's status, body)."""
    return [
        (q.method, q.status, q.body)
        for q in shop.mailchimp.state.request_log[since:]
        if q.method in ("PATCH", "PUT") and "/members/" in q.path and "/tags" not in q.path
    ]


async def _panel(shop: Shop, customer: Any) -> dict[str, Any]:
    headers = dashboard_headers(shop.saleor, shop.app, user_permissions=["MANAGE_USERS"])
    url = f"/api/subscriptions/customers/{customer.global_id}"
    panel = (await shop.client.get(url, headers=headers)).json()
    [mine] = [a for a in panel["audiences"] if a["list_id"] == shop.ids["news"]]
    return dict(mine)


async def test_staff_cannot_change_a_cleaned_contacts_groups(newsletter: Shop) -> None:
    shop = newsletter
    news, veg = shop.ids["news"], shop.ids["Veg"]
    customer = await _cleaned_customer(shop)
    headers = dashboard_headers(shop.saleor, shop.app, user_permissions=["MANAGE_USERS"])
    url = f"/api/subscriptions/customers/{customer.global_id}"
    since = len(shop.mailchimp.state.request_log)

    response = await shop.client.post(
        url, json={"list_id": news, "action": "set_groups", "groups": [veg]}, headers=headers
    )

    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["code"] == "CONSENT_REQUIRED"
    assert "bounced" in error["message"] and "groups" in error["message"]
    assert await shop.work() == 0
    assert _writes(shop, since) == []
    assert shop.member(news, EMAIL).interests[veg] is False
    # Another audience's contact is not cleaned: its groups change as ever.
    other = await shop.client.post(
        url,
        json={"list_id": shop.ids["deals"], "action": "set_groups", "groups": []},
        headers=headers,
    )
    assert other.status_code == 202, other.text


async def test_a_bounce_the_app_has_not_heard_of_keeps_the_groups_as_they_are(
    newsletter: Shop,
) -> None:
    """The panel's change reaches the worker before Mailchimp's webhook: the worker reads the
    contact, sees it cleaned, and sends nothing."""
    shop = newsletter
    news, veg = shop.ids["news"], shop.ids["Veg"]
    customer = await _cleaned_customer(shop, tell_the_app=False)
    headers = dashboard_headers(shop.saleor, shop.app, user_permissions=["MANAGE_USERS"])
    url = f"/api/subscriptions/customers/{customer.global_id}"
    since = len(shop.mailchimp.state.request_log)

    response = await shop.client.post(
        url, json={"list_id": news, "action": "set_groups", "groups": [veg]}, headers=headers
    )
    assert response.status_code == 202, response.text
    await shop.work()

    assert _writes(shop, since) == []
    assert shop.member(news, EMAIL).interests[veg] is False
    mine = await _panel(shop, customer)
    assert (mine["status"], mine["last_problem"]) == ("cleaned", CLEANED_GROUPS_KEPT)


async def test_a_customers_fresh_consent_asks_a_cleaned_contact_to_confirm_and_nothing_more(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news, veg = shop.ids["news"], shop.ids["Veg"]
    customer = await _cleaned_customer(shop)
    permission = await shop.offered_permission()
    auth = {"Authorization": f"Bearer {shop.saleor.mint_customer_token(customer)}"}
    since = len(shop.mailchimp.state.request_log)

    saved = await shop.client.put(
        "/api/storefront/me/subscriptions",
        params=STORE,
        headers=auth,
        json={
            "audiences": [{"list_id": news, "subscribed": True, "groups": [veg]}],
            "permissions": [permission],
        },
    )
    assert saved.status_code == 202, saved.text
    await shop.work()

    assert _writes(shop, since) == [("PATCH", 200, {"status": "pending"})]
    member = shop.member(news, EMAIL)
    assert member.status == "pending" and member.interests[veg] is False
    assert [c.email_address for c in shop.mailchimp.state.confirmations] == [EMAIL]
    mine = await _panel(shop, customer)
    assert (mine["status"], mine["last_problem"]) == ("pending", CLEANED_CHOICES_NOT_SENT)


async def test_the_signup_forms_consent_asks_a_cleaned_contact_to_confirm_and_nothing_more(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news, veg = shop.ids["news"], shop.ids["Veg"]
    customer = await _cleaned_customer(shop)
    since = len(shop.mailchimp.state.request_log)

    answer = await shop.client.post(
        "/api/storefront/subscribe",
        params=STORE,
        json={"email": EMAIL, "audiences": [news], "groups": [veg]},
    )
    assert answer.status_code == 202, answer.text
    await shop.work()

    assert _writes(shop, since) == [("PATCH", 200, {"status": "pending"})]
    member = shop.member(news, EMAIL)
    assert member.status == "pending" and member.interests[veg] is False
    mine = await _panel(shop, customer)
    assert (mine["status"], mine["last_problem"]) == ("pending", CLEANED_CHOICES_NOT_SENT)
