"""The public signup form proves nothing of who typed the address, also for a contact that is in
the audience without having subscribed (a buyer, `transactional`) or that an admin removed
(`archived`): it adds the groups chosen, asks a removed one to confirm by e-mail, and leaves
the contact's names and consents. And a shopper's whole choice of groups (the account page, a
checkout's groups key) leaves the hidden groups, which are for the store to set and are never
shown to shoppers; staff, who see every group, choose them all."""

from __future__ import annotations

from typing import Any

from addon.subscriptions.metadata import CONSENT_SUBSCRIBE
from tests.conftest import SALEOR_API_URL, dashboard_headers
from tests.subscriptions.conftest import Shop

STORE = {"saleor_api_url": SALEOR_API_URL}
ANN = "ann.real@example.com"


async def _signup(shop: Shop, **body: Any) -> None:
    response = await shop.client.post("/api/storefront/subscribe", params=STORE, json=body)
    assert response.status_code == 202, response.text
    await shop.work()


async def _known(shop: Shop, status: str) -> None:
    """Ann, a contact of News named by her own details, in `status`."""
    body = {
        "email_address": ANN,
        "status": "subscribed" if status == "archived" else status,
        "merge_fields": {"FNAME": "Ann", "LNAME": "Real"},
    }
    await shop.mc("POST", f"/lists/{shop.ids['news']}/members", body)
    if status == "archived":
        await shop.mc("DELETE", f"/lists/{shop.ids['news']}/members/{ANN}")


async def test_a_stranger_subscribes_a_buyer_without_renaming_them(newsletter: Shop) -> None:
    shop = newsletter
    news, fruit, veg = shop.ids["news"], shop.ids["Fruit"], shop.ids["Veg"]
    permission = await shop.offered_permission()
    await _known(shop, "transactional")

    await _signup(
        shop,
        email=ANN,
        first_name="Mallory",
        last_name="Stranger",
        groups=[fruit],
        permissions=[permission],
    )

    member = shop.member(news, ANN)
    assert member.status == "subscribed"  # as an address new to the audience would be
    assert (member.merge_fields["FNAME"], member.merge_fields["LNAME"]) == ("Ann", "Real")
    assert (member.interests[fruit], member.interests.get(veg, False)) == (True, False)
    assert shop.consents(ANN).get(permission, False) is False


async def test_a_stranger_brings_a_removed_contact_back_only_through_a_confirmation(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news, fruit = shop.ids["news"], shop.ids["Fruit"]
    await _known(shop, "archived")
    assert shop.member(news, ANN).status == "archived"

    await _signup(shop, email=ANN, first_name="Mallory", groups=[fruit])

    member = shop.member(news, ANN)
    assert member.status == "pending"  # Mailchimp asks her to confirm by e-mail
    assert member.merge_fields["FNAME"] == "Ann"
    assert member.interests[fruit] is True


async def _with_hidden_group(shop: Shop) -> str:
    """News also offers a hidden group, "Source" ("Fair"): the store sets it, shoppers never
    see it. Ann is a confirmed customer subscribed to News with Fruit and Fair."""
    news, fruit = shop.ids["news"], shop.ids["Fruit"]
    source = await shop.new_category(news, "Source", "hidden", "Fair")
    refreshed = await shop.client.post("/api/audiences/refresh", headers=shop.headers)
    assert refreshed.status_code == 202, refreshed.text
    await shop.work()
    await shop.configure(
        active_list_ids=[news, shop.ids["deals"]],
        default_list_id=news,
        offered_category_ids=[shop.ids["topics"], source],
        allow_multiple=True,
    )
    customer = await shop.saleor.create_customer(
        ANN, metadata={CONSENT_SUBSCRIBE: "true"}, is_confirmed=True
    )
    await shop.work()
    interests = {fruit: True, shop.ids["Fair"]: True}
    await shop.mc("PATCH", f"/lists/{news}/members/{ANN}", {"interests": interests})
    return str(customer.global_id)


async def test_the_account_page_leaves_the_hidden_groups_staff_choose_them_too(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news, fruit, veg = shop.ids["news"], shop.ids["Fruit"], shop.ids["Veg"]
    customer_id = await _with_hidden_group(shop)
    fair = shop.ids["Fair"]
    token = shop.saleor.mint_customer_token(shop.saleor.store.find_customer_by_email(ANN))

    # Her choice of the groups she is shown: Veg, not Fruit.
    response = await shop.client.put(
        "/api/storefront/me/subscriptions",
        params=STORE,
        headers={"Authorization": f"Bearer {token}"},
        json={"audiences": [{"list_id": news, "subscribed": True, "groups": [veg]}]},
    )
    assert response.status_code == 202, response.text
    await shop.work()
    interests = shop.member(news, ANN).interests
    assert (interests[fruit], interests[veg], interests[fair]) == (False, True, True)

    # Staff see every group: their whole choice turns the hidden one off too.
    headers = dashboard_headers(shop.saleor, shop.app, user_permissions=["MANAGE_USERS"])
    response = await shop.client.post(
        f"/api/subscriptions/customers/{customer_id}",
        json={"list_id": news, "action": "set_groups", "groups": [veg]},
        headers=headers,
    )
    assert response.status_code == 202, response.text
    await shop.work()
    interests = shop.member(news, ANN).interests
    assert (interests[fruit], interests[veg], interests[fair]) == (False, True, False)


async def _my_page(shop: Shop, token: str, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"}
    if body is None:
        return await shop.client.get(
            "/api/storefront/me/subscriptions", params=STORE, headers=headers
        )
    return await shop.client.put(
        "/api/storefront/me/subscriptions", params=STORE, headers=headers, json=body
    )


async def test_the_account_page_does_not_show_the_hidden_groups_a_contact_is_in(
    newsletter: Shop,
) -> None:
    """Mailchimp shows a contact no hidden group on its own profile page (they are the store's
    segmentation: "contacts can't see them"); the account page shows them none either, and a
    save of what it shows keeps them, also of an audience no longer offered."""
    shop = newsletter
    news, fruit, veg = shop.ids["news"], shop.ids["Fruit"], shop.ids["Veg"]
    await _with_hidden_group(shop)
    fair = shop.ids["Fair"]
    token = shop.saleor.mint_customer_token(shop.saleor.store.find_customer_by_email(ANN))
    saved = await _my_page(
        shop, token, {"audiences": [{"list_id": news, "subscribed": True, "groups": [veg]}]}
    )
    assert saved.status_code == 202, saved.text
    await shop.work()
    assert shop.member(news, ANN).interests[fair] is True

    page = await _my_page(shop, token)
    assert page.status_code == 200, page.text
    shown = next(a for a in page.json()["audiences"] if a["list_id"] == news)
    assert shown["groups"] == [veg]

    # No longer offered: saved as shown, she stays as she is (not "change its groups": 409).
    await shop.configure(active_list_ids=[shop.ids["deals"]], default_list_id=shop.ids["deals"])
    page = await _my_page(shop, token)
    shown = next(a for a in page.json()["audiences"] if a["list_id"] == news)
    assert (shown["groups"], shown["joinable"]) == ([veg], False)
    again = await _my_page(
        shop, token, {"audiences": [{"list_id": news, "subscribed": True, "groups": [veg]}]}
    )
    assert again.status_code == 202, again.text
    await shop.work()
    interests = shop.member(news, ANN).interests
    assert (interests[fruit], interests[veg], interests[fair]) == (False, True, True)
