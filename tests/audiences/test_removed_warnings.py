"""The Audiences page's warning of a chosen audience or group removed from Mailchimp: shown
until the admin saves the choices without it (`AudienceService.update`), then gone for good.
Before, the removed row kept its choice whatever the admin saved, and the warning stayed."""

from __future__ import annotations

from typing import Any

from tests.subscriptions.conftest import Shop


async def _warnings(shop: Shop) -> list[str]:
    response = await shop.client.get("/api/audiences", headers=shop.headers)
    assert response.status_code == 200, response.text
    warnings: list[str] = response.json()["warnings"]
    return warnings


async def _refresh(shop: Shop) -> None:
    await shop.client.post("/api/audiences/refresh", headers=shop.headers)
    await shop.work()


async def test_saving_without_a_removed_group_clears_its_warning(shop: Shop) -> None:
    news = await shop.new_list("News")
    topics = await shop.new_category(news, "Topics", "checkboxes", "Fruit")
    diet = await shop.new_category(news, "Diet", "radio", "Vegan")
    await shop.connect()
    await shop.work()
    chosen: dict[str, Any] = {"active_list_ids": [news], "default_list_id": news}
    await shop.configure(**chosen, offered_category_ids=[topics, diet])
    await shop.mc("DELETE", f"/lists/{news}/interest-categories/{topics}")
    await _refresh(shop)
    assert any("“Topics”" in w for w in await _warnings(shop))

    await shop.configure(**chosen, offered_category_ids=[diet])  # the groups left

    assert await _warnings(shop) == []


async def test_saving_without_a_removed_audience_clears_its_warning(shop: Shop) -> None:
    news = await shop.new_list("News")
    old = await shop.new_list("Old")
    await shop.connect()
    await shop.work()
    await shop.configure(active_list_ids=[news, old], default_list_id=news)
    await shop.mc("DELETE", f"/lists/{old}")
    await _refresh(shop)
    assert any("“Old” was removed" in w for w in await _warnings(shop))

    await shop.configure(active_list_ids=[news], default_list_id=news)

    assert await _warnings(shop) == []


async def test_a_patch_of_other_settings_keeps_the_warnings(shop: Shop) -> None:
    """The Subscriptions page saves its own settings (PATCH): that is no answer to the
    Audiences page's warnings, which stay until the choices themselves are saved."""
    news = await shop.new_list("News")
    old = await shop.new_list("Old")
    topics = await shop.new_category(news, "Topics", "checkboxes", "Fruit")
    await shop.connect()
    await shop.work()
    await shop.configure(
        active_list_ids=[news, old], default_list_id=news, offered_category_ids=[topics]
    )
    await shop.mc("DELETE", f"/lists/{old}")
    await shop.mc("DELETE", f"/lists/{news}/interest-categories/{topics}")
    await _refresh(shop)
    before = await _warnings(shop)
    assert len(before) == 2

    response = await shop.client.patch(
        "/api/audiences/settings", json={"two_way": False}, headers=shop.headers
    )
    assert response.status_code == 200, response.text
    assert await _warnings(shop) == before

    response = await shop.client.patch(
        "/api/audiences/settings", json={"active_list_ids": [news]}, headers=shop.headers
    )
    assert response.status_code == 200, response.text
    assert await _warnings(shop) == [w for w in before if "“Topics”" in w]


async def test_a_patch_of_other_settings_keeps_a_removed_default(shop: Shop) -> None:
    """With several audiences left, the Subscriptions page's save cleared a default deleted in
    Mailchimp, and its warning with it: the store had no default and nobody was told."""
    news = await shop.new_list("News")
    deals = await shop.new_list("Deals")
    old = await shop.new_list("Old")
    await shop.connect()
    await shop.work()
    await shop.configure(active_list_ids=[news, deals, old], default_list_id=old)
    await shop.mc("DELETE", f"/lists/{old}")
    await _refresh(shop)
    before = await _warnings(shop)
    assert "The default audience is gone from Mailchimp: choose another one." in before

    response = await shop.client.patch(
        "/api/audiences/settings", json={"two_way": False}, headers=shop.headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["settings"]["default_list_id"] == old
    assert await _warnings(shop) == before
    # Choosing the audiences again is the answer: the default left with them is cleared.
    response = await shop.client.patch(
        "/api/audiences/settings", json={"active_list_ids": [news, deals]}, headers=shop.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["settings"]["default_list_id"] is None


async def test_a_patch_of_other_settings_keeps_a_removed_default_of_one_audience_left(
    shop: Shop,
) -> None:
    """One audience left is no reason to make it the default behind the admin's back."""
    news = await shop.new_list("News")
    old = await shop.new_list("Old")
    await shop.connect()
    await shop.work()
    await shop.configure(active_list_ids=[news, old], default_list_id=old)
    await shop.mc("DELETE", f"/lists/{old}")
    await _refresh(shop)

    response = await shop.client.patch(
        "/api/audiences/settings", json={"double_optin": "always"}, headers=shop.headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["settings"]["default_list_id"] == old
