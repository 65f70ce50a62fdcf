"""Mapped values Mailchimp could not take: one that cannot be converted to its field's type, or
a required field without a value, is reported (Activity, and the audience's mapping) with the
customer and the audience, never made up; the rest of the member is sent."""

from __future__ import annotations

from tests.audiences.conftest import _birthday_and_visits, _customer, _not_sent
from tests.subscriptions.conftest import Shop


async def test_a_value_that_cannot_be_converted_is_reported_and_the_rest_is_sent(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    response = await _birthday_and_visits(shop, {"merge_tag": "FNAME", "source": "first_name"})
    assert response.status_code == 200, response.text
    await _customer(shop, "bo@example.com", birthday="someday", visits="12")
    await shop.work()

    member = shop.member(news, "bo@example.com")
    assert member.status == "subscribed"
    assert member.merge_fields["VISITS"] == 12
    assert member.merge_fields["FNAME"] == "Ann"
    assert member.merge_fields["BIRTHDAY"] == ""
    [problem] = await _not_sent(shop)
    assert "Birthday (BIRTHDAY)" in problem and "“someday” is not a date" in problem
    assert "bo@example.com" in problem and "News" in problem
    read = await shop.client.get(f"/api/audiences/{news}/mapping", headers=shop.headers)
    assert [n["message"] for n in read.json()["not_sent"]] == [problem]


async def _company_required(shop: Shop, list_id: str) -> None:
    """The audience gets a required merge field COMPANY, and the app learns it."""
    await shop.mc(
        "POST",
        f"/lists/{list_id}/merge-fields",
        {"name": "Company", "tag": "COMPANY", "type": "text", "required": True},
    )
    await shop.client.post("/api/audiences/refresh", headers=shop.headers)
    await shop.work()


async def test_a_required_field_without_a_value_is_reported_never_made_up(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    await _company_required(shop, news)
    await _customer(shop, "cy@example.com")
    await shop.work()

    member = shop.member(news, "cy@example.com")
    assert member.status == "subscribed"
    assert member.merge_fields["COMPANY"] == ""
    [problem] = await _not_sent(shop)
    assert "Company (COMPANY) is required in Mailchimp" in problem


async def test_a_re_added_contact_lacking_a_required_field_is_reported_too(
    newsletter: Shop,
) -> None:
    """An archived contact re-added, or a transactional one subscribed, by the customer's own
    consent (their address confirmed: an unproven one adds groups alone), is added without the
    required field as a new one is: reported, unless the contact holds a value already."""
    shop = newsletter
    news = shop.ids["news"]
    await _company_required(shop, news)
    for email, status, company in (
        ("ari@example.com", "archived", ""),
        ("tam@example.com", "transactional", "Tam & Co"),
    ):
        added = await shop.mailchimp.call(
            shop.account,
            "PUT",
            f"/lists/{news}/members/{email}",
            query={"skip_merge_validation": "true"},
            body={"email_address": email, "status_if_new": "transactional",
                  "merge_fields": {"COMPANY": company}},
        )  # fmt: skip
        assert added.status == 200, added.body
        if status == "archived":
            await shop.mc("DELETE", f"/lists/{news}/members/{email}")
        assert shop.member(news, email).status == status

    await _customer(shop, "ari@example.com", confirmed=True)
    await _customer(shop, "tam@example.com", confirmed=True)
    await shop.work()

    assert shop.member(news, "ari@example.com").status == "subscribed"
    assert shop.member(news, "tam@example.com").status == "subscribed"
    [problem] = await _not_sent(shop)
    assert "Company (COMPANY) is required in Mailchimp" in problem and "ari@example.com" in problem
