"""PATCH /api/audiences/settings changes only what it is given, so the Audiences page (audiences,
groups, rules) and the Subscriptions page (two-way options) do not overwrite each other."""

from __future__ import annotations

from typing import Any

import httpx

from tests.subscriptions.conftest import Shop

URL = "/api/audiences/settings"


async def _patch(shop: Shop, body: dict[str, Any]) -> httpx.Response:
    return await shop.client.patch(URL, json=body, headers=shop.headers)


def _everything(data: dict[str, Any]) -> dict[str, Any]:
    """The settings and choices both pages show."""
    return {
        "settings": data["settings"],
        "active": sorted(a["list_id"] for a in data["audiences"] if a["active"]),
        "offered": sorted(
            g["category_id"] for a in data["audiences"] for g in a["groups"] if g["offered"]
        ),
    }


async def test_two_way_options_leave_audiences_alone(newsletter: Shop) -> None:
    shop = newsletter
    before = _everything((await shop.client.get("/api/audiences", headers=shop.headers)).json())
    assert before["settings"]["two_way"] is True and before["offered"] == [shop.ids["topics"]]

    response = await _patch(shop, {"two_way": False, "priority": "store_wins"})
    assert response.status_code == 200, response.text
    after = _everything(response.json())
    assert after["settings"]["two_way"] is False
    assert after["settings"]["priority"] == "store_wins"
    assert {k: v for k, v in after["settings"].items() if k not in ("two_way", "priority")} == {
        k: v for k, v in before["settings"].items() if k not in ("two_way", "priority")
    }
    assert (after["active"], after["offered"]) == (before["active"], before["offered"])


async def test_audience_choices_leave_two_way_options_alone(newsletter: Shop) -> None:
    shop = newsletter
    news, deals = shop.ids["news"], shop.ids["deals"]
    assert (await _patch(shop, {"two_way": False, "priority": "store_wins"})).status_code == 200

    # The Audiences page's fields only: Deals no longer offered, a tag, an origin.
    response = await _patch(
        shop,
        {
            "active_list_ids": [news],
            "default_list_id": news,
            "offered_category_ids": [shop.ids["topics"]],
            "allow_multiple": False,
            "double_optin": "always",
            "tags": ["vip"],
            "allowed_origins": ["https://www.example.com"],
        },
    )
    assert response.status_code == 200, response.text
    after = _everything(response.json())
    assert after["active"] == [news] and deals not in after["active"]
    assert after["settings"]["tags"] == ["vip"]
    assert after["settings"]["double_optin"] == "always"
    assert (after["settings"]["two_way"], after["settings"]["priority"]) == (False, "store_wins")


async def test_deactivating_an_audience_drops_its_groups_and_default(newsletter: Shop) -> None:
    shop = newsletter
    news, deals = shop.ids["news"], shop.ids["deals"]
    response = await _patch(shop, {"active_list_ids": [deals]})
    assert response.status_code == 200, response.text
    after = _everything(response.json())
    assert after["active"] == [deals] and after["offered"] == []
    assert after["settings"]["default_list_id"] == deals  # the only active audience
    assert after["settings"]["tags"] == ["saleor"]
    assert news not in after["active"]


async def test_patch_validates_like_put(newsletter: Shop) -> None:
    shop = newsletter
    before = (await shop.client.get("/api/audiences", headers=shop.headers)).json()
    bad_default = await _patch(shop, {"default_list_id": "nope"})
    assert bad_default.status_code == 400
    assert bad_default.json()["error"]["code"] == "INVALID_DEFAULT_AUDIENCE"
    unknown = await _patch(shop, {"active_list_ids": ["zzz"]})
    assert unknown.json()["error"]["code"] == "UNKNOWN_AUDIENCE"
    bad_groups = await _patch(shop, {"offered_category_ids": ["nope"]})
    assert bad_groups.json()["error"]["code"] == "INVALID_GROUPS"
    assert (await _patch(shop, {"allowed_origins": ["shop.example.com/x"]})).status_code == 422
    # A port is at most 65535 (and never 0): no browser sends such an origin.
    for port in ("99999", "0"):
        beyond = await _patch(shop, {"allowed_origins": [f"https://shop.example.com:{port}"]})
        assert beyond.status_code == 422, port
    assert (await _patch(shop, {"tags": ["x" * 101]})).status_code == 422
    assert (await _patch(shop, {"surprise": True})).status_code == 422
    after = (await shop.client.get("/api/audiences", headers=shop.headers)).json()
    assert after["settings"] == before["settings"]  # nothing half-applied
    cleaned = await _patch(shop, {"tags": [" vip ", "vip", "Gold", "VIP"]})
    # Mailchimp names tags without regard to case: `VIP` is `vip`, kept as first spelled.
    assert cleaned.json()["settings"]["tags"] == ["vip", "Gold"]
    ported = await _patch(shop, {"allowed_origins": ["http://localhost:65535"]})
    assert ported.json()["settings"]["allowed_origins"] == ["http://localhost:65535"]
