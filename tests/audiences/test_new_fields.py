"""Merge fields made from the app, and the mapping's input: what Mailchimp would refuse, or
what could not be read back, is refused with the reason before anything is saved."""

from __future__ import annotations

from typing import Any

import httpx

from tests.subscriptions.conftest import Shop


async def _create(shop: Shop, **body: Any) -> httpx.Response:
    list_id = shop.ids["news"]
    return await shop.client.post(
        f"/api/audiences/{list_id}/merge-fields", json=body, headers=shop.headers
    )


async def test_a_date_takes_a_year_and_a_birthday_none(newsletter: Shop) -> None:
    shop = newsletter
    for kind, fmt in (("birthday", "MM/DD/YYYY"), ("date", "DD/MM"), ("text", "MM/DD")):
        refused = await _create(shop, name="Day", tag="DAY", type=kind, date_format=fmt)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "INVALID_INPUT"
    made = await _create(shop, name="Day", tag="DAY", type="birthday", date_format="DD/MM")
    assert made.status_code == 201, made.text
    [day] = [f for f in made.json()["merge_fields"] if f["tag"] == "DAY"]
    assert day["options"]["date_format"] == "DD/MM"


async def test_a_full_audience_refuses_another_field_with_mailchimps_reason(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    listed = len((await shop.mc("GET", f"/lists/{news}/merge-fields"))["merge_fields"])
    for i in range(29 - listed):
        made = await _create(shop, name=f"Field {i}", tag=f"F{i}", type="text")
        assert made.status_code == 201, made.text
    refused = await _create(shop, name="One more", tag="MORE", type="text")
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["code"] == "MERGE_FIELD_REFUSED"
    assert "more merge fields than 30" in error["message"]


async def test_a_tags_key_of_spaces_is_refused_and_the_mapping_still_reads(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    body = {"fields": [], "tags": {"source": "metadata", "key": "   "}}
    refused = await shop.client.put(
        f"/api/audiences/{news}/mapping", json=body, headers=shop.headers
    )
    assert refused.status_code == 422, refused.text
    body["tags"]["key"] = "  segments "  # type: ignore[index]
    saved = await shop.client.put(f"/api/audiences/{news}/mapping", json=body, headers=shop.headers)
    assert saved.status_code == 200, saved.text
    read = await shop.client.get(f"/api/audiences/{news}/mapping", headers=shop.headers)
    assert read.status_code == 200 and read.json()["tags"]["key"] == "segments"
