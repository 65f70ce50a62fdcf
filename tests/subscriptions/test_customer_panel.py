"""The customer panel's API is complete for staff who may only manage users: group names and
offered choices come with the customer, and whether staff may subscribe them (and why not)."""

from __future__ import annotations

from typing import Any

from addon.subscriptions.metadata import CONSENT_SUBSCRIBE
from tests.conftest import dashboard_headers
from tests.subscriptions.conftest import Shop


def _users_only(shop: Shop) -> dict[str, str]:
    return dashboard_headers(shop.saleor, shop.app, user_permissions=["MANAGE_USERS"])


async def _subscribed_customer(shop: Shop, email: str) -> Any:
    customer = await shop.saleor.create_customer(email, metadata={CONSENT_SUBSCRIBE: "true"})
    await shop.work()
    assert shop.member(shop.ids["news"], email).status == "subscribed"
    return customer


async def test_staff_with_only_manage_users_see_group_names_and_change_groups(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news, deals = shop.ids["news"], shop.ids["deals"]
    fruit, veg = shop.ids["Fruit"], shop.ids["Veg"]
    headers = _users_only(shop)
    assert (await shop.client.get("/api/audiences", headers=headers)).status_code == 403
    customer = await _subscribed_customer(shop, "uma@example.com")
    url = f"/api/subscriptions/customers/{customer.global_id}"

    panel = (await shop.client.get(url, headers=headers)).json()
    by_list = {a["list_id"]: a for a in panel["audiences"]}
    [topics] = by_list[news]["offered_groups"]
    assert (topics["category_id"], topics["title"], topics["type"]) == (
        shop.ids["topics"],
        "Topics",
        "checkboxes",
    )
    assert {i["id"]: i["name"] for i in topics["interests"]} == {fruit: "Fruit", veg: "Veg"}
    assert by_list[deals]["offered_groups"] == []  # Deals offers no group
    assert all(
        a["can_subscribe"] and a["subscribe_blocked_reason"] is None for a in by_list.values()
    )

    response = await shop.client.post(
        url, json={"list_id": news, "action": "set_groups", "groups": [veg]}, headers=headers
    )
    assert response.status_code == 202, response.text
    await shop.work()
    assert shop.member(news, "uma@example.com").interests[veg] is True
    panel = (await shop.client.get(url, headers=headers)).json()
    [mine] = [a for a in panel["audiences"] if a["list_id"] == news]
    assert mine["groups"] == [veg]
    assert mine["group_names"] == {veg: "Topics: Veg"}


async def test_a_group_no_longer_offered_is_not_offered_to_staff(newsletter: Shop) -> None:
    shop = newsletter
    await shop.configure(
        active_list_ids=[shop.ids["news"]],
        default_list_id=shop.ids["news"],
        offered_category_ids=[],
    )
    customer = await _subscribed_customer(shop, "vic@example.com")
    url = f"/api/subscriptions/customers/{customer.global_id}"
    panel = (await shop.client.get(url, headers=_users_only(shop))).json()
    assert [a["offered_groups"] for a in panel["audiences"]] == [[]]


async def test_staff_cannot_subscribe_a_cleaned_address(newsletter: Shop) -> None:
    shop = newsletter
    news = shop.ids["news"]
    customer = await _subscribed_customer(shop, "wes@example.com")
    shop.mailchimp.set_member_status(shop.account, news, "wes@example.com", "cleaned")
    responses = await shop.mailchimp.fire_list_webhook(
        shop.account, news, "cleaned", {"email": "wes@example.com", "reason": "hard"}
    )
    assert responses and all(r.status_code == 200 for r in responses)
    await shop.work()
    headers = _users_only(shop)
    url = f"/api/subscriptions/customers/{customer.global_id}"

    panel = (await shop.client.get(url, headers=headers)).json()
    [mine] = [a for a in panel["audiences"] if a["list_id"] == news]
    assert (mine["status"], mine["can_subscribe"]) == ("cleaned", False)
    assert "bounced" in mine["subscribe_blocked_reason"]

    response = await shop.client.post(
        url, json={"list_id": news, "action": "subscribe"}, headers=headers
    )
    assert response.status_code == 409
    assert response.json()["error"]["message"] == mine["subscribe_blocked_reason"]
    assert await shop.work() == 0
    # Another audience is unaffected.
    response = await shop.client.post(
        url, json={"list_id": shop.ids["deals"], "action": "subscribe"}, headers=headers
    )
    assert response.status_code == 202
