"""The newsletter shop of tests/subscriptions, for the merge-field mapping tests, and the steps
those tests share: merge fields made and mapped from the app, a registered customer with an
address who consented, the values not sent, and a profile edited on Mailchimp's preference page."""

from __future__ import annotations

from typing import Any

from addon.subscriptions.metadata import CONSENT_SUBSCRIBE
from sandboxes.saleor import Customer
from tests.subscriptions.conftest import Shop, newsletter, shop

__all__ = ["newsletter", "shop"]

ADDRESS = {
    "street_address_1": "1 Main St",
    "city": "Springfield",
    "postal_code": "62701",
    "country": "US",
    "country_area": "IL",
    "phone": "+14155552671",
}


async def _create_field(shop: Shop, list_id: str, **body: Any) -> dict[str, Any]:
    response = await shop.client.post(
        f"/api/audiences/{list_id}/merge-fields", json=body, headers=shop.headers
    )
    assert response.status_code == 201, response.text
    mapping: dict[str, Any] = response.json()
    return mapping


async def _map(shop: Shop, list_id: str, fields: list[dict[str, Any]], **extra: Any) -> Any:
    return await shop.client.put(
        f"/api/audiences/{list_id}/mapping",
        json={"fields": fields, **extra},
        headers=shop.headers,
    )


async def _customer(
    shop: Shop, email: str, *, confirmed: bool = False, **metadata: str
) -> Customer:
    """A registered customer with an address, who consented at registration (→ News);
    `confirmed`: made with the address confirmed (staff's `customerCreate`)."""
    address = shop.saleor.store.new_address(**ADDRESS)
    return await shop.saleor.create_customer(
        email,
        "Ann",
        "Apple",
        addresses=[address],
        metadata={CONSENT_SUBSCRIBE: "true", **metadata},
        language_code="fr-ca",
        is_confirmed=confirmed,
    )


async def _birthday_and_visits(shop: Shop, *more: dict[str, Any]) -> Any:
    """News maps BIRTHDAY and a number field VISITS (made here) to metadata keys, and `more`."""
    news = shop.ids["news"]
    await _create_field(shop, news, name="Visits", tag="VISITS", type="number")
    fields = [
        {"merge_tag": "BIRTHDAY", "source": "metadata", "key": "birthday"},
        {"merge_tag": "VISITS", "source": "metadata", "key": "visits"},
    ]
    return await _map(shop, news, [*fields, *more])


async def _not_sent(shop: Shop) -> list[str]:
    response = await shop.client.get("/api/activity", headers=shop.headers)
    assert response.status_code == 200
    return [
        item["last_error"]
        for item in response.json()["items"]
        if item["kind"] == "subscriptions.merge_value_not_sent"
    ]


async def _fire(shop: Shop, event: str, data: dict[str, Any]) -> None:
    responses = await shop.mailchimp.fire_list_webhook(
        shop.account, shop.ids["news"], event, data, source="user"
    )
    assert responses and all(r.status_code == 200 for r in responses)


async def _edited_in_mailchimp(shop: Shop, email: str) -> None:
    """The contact changes their profile on Mailchimp's preference page."""
    await shop.mc(
        "PATCH",
        f"/lists/{shop.ids['news']}/members/{email}",
        {
            "merge_fields": {
                "FNAME": "Annie",
                "LNAME": "Pear",
                "COMPANY": "Pear Co",
                "PHONE": "+1 555 0100 200",
            }
        },
    )
    await _fire(shop, "profile", {"email": email})
    await shop.work()
