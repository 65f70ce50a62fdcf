"""Issue 13, problem 4b: "N audiences imported" counts only audiences that still exist."""

from __future__ import annotations

from typing import Any

from tests.subscriptions.conftest import Shop


async def _read(shop: Shop) -> dict[str, Any]:
    response = await shop.client.get("/api/audiences", headers=shop.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_removed_audiences_are_not_counted_as_imported(shop: Shop) -> None:
    news = await shop.new_list("News")
    old = await shop.new_list("Old")
    await shop.connect()
    await shop.work()
    assert (await _read(shop))["imported_count"] == 2

    await shop.mc("DELETE", f"/lists/{old}")
    await shop.client.post("/api/audiences/refresh", headers=shop.headers)
    await shop.work()
    body = await _read(shop)
    assert body["imported_count"] == 1
    assert {a["list_id"]: a["removed"] for a in body["audiences"]} == {news: False, old: True}

    await shop.mc("DELETE", f"/lists/{news}")
    await shop.client.post("/api/audiences/refresh", headers=shop.headers)
    await shop.work()
    assert (await _read(shop))["imported_count"] == 0
