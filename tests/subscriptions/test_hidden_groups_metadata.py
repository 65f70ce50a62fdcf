"""The groups the app writes on a customer (`mailchimp.groups.<list id>`): their public metadata
is the customer's own to read (Saleor's `metadata` field: "Can be accessed without
permissions", saleor/graphql/meta/types.py `ObjectWithMetadata`; `me` returns the signed-in
user), so a storefront reading it shows what Mailchimp's own profile page would show the
contact, never a hidden group (the store's segmentation). Every group the contact is in goes in
the private metadata under the same key, which only staff with MANAGE_USERS and apps read
(saleor/graphql/meta/permissions.py `private_user_permissions`)."""

from __future__ import annotations

from typing import Any

from addon.subscriptions.metadata import GROUPS_PREFIX
from tests.subscriptions.conftest import Shop
from tests.subscriptions.test_signup_form_known_contacts import ANN, STORE, _with_hidden_group

ME = "{ me { metadata { key value } } }"
ME_PRIVATE = "{ me { privateMetadata { key value } } }"
STAFF = "query($id: ID!) { user(id: $id) { metadata { key value } privateMetadata { key value } } }"


def _items(found: list[dict[str, str]]) -> dict[str, str]:
    return {item["key"]: item["value"] for item in found}


async def _ann_chooses_veg(shop: Shop) -> tuple[str, str]:
    """Ann (in Fruit and the hidden Fair) picks Veg on her account page: Mailchimp has her in
    Veg and Fair, and the app writes her status back. Her customer id and token."""
    customer_id = await _with_hidden_group(shop)
    token = shop.saleor.mint_customer_token(shop.saleor.store.find_customer_by_email(ANN))
    news = shop.ids["news"]
    saved = await shop.client.put(
        "/api/storefront/me/subscriptions",
        params=STORE,
        headers={"Authorization": f"Bearer {token}"},
        json={"audiences": [{"list_id": news, "subscribed": True, "groups": [shop.ids["Veg"]]}]},
    )
    assert saved.status_code == 202, saved.text
    await shop.work()
    assert shop.member(news, ANN).interests[shop.ids["Fair"]] is True
    return customer_id, token


async def test_the_storefront_reads_no_hidden_group_in_the_customers_metadata(
    newsletter: Shop,
) -> None:
    shop = newsletter
    _, token = await _ann_chooses_veg(shop)
    news, veg, fair = shop.ids["news"], shop.ids["Veg"], shop.ids["Fair"]

    body: dict[str, Any] = await shop.saleor.execute(ME, token=token)
    mine = _items(body["data"]["me"]["metadata"])
    assert mine[GROUPS_PREFIX + news] == veg
    assert fair not in ",".join(mine.values())

    # The private metadata is not hers to read (Saleor refuses the field).
    refused = await shop.saleor.execute(ME_PRIVATE, token=token)
    assert refused.get("errors"), refused


async def test_staff_and_the_app_read_every_group_in_the_private_metadata(
    newsletter: Shop,
) -> None:
    shop = newsletter
    customer_id, _ = await _ann_chooses_veg(shop)
    news, veg, fair = shop.ids["news"], shop.ids["Veg"], shop.ids["Fair"]

    body = await shop.saleor.execute(STAFF, {"id": customer_id}, app=shop.app)
    user = body["data"]["user"]
    assert _items(user["metadata"])[GROUPS_PREFIX + news] == veg
    assert _items(user["privateMetadata"])[GROUPS_PREFIX + news] == ",".join(sorted([veg, fair]))
