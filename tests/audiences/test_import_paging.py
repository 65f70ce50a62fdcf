"""An audience deleted in Mailchimp while the import pages through the account's audiences shifts
the later ones back a place (offset paging): the first of the next page was never listed, and
the import took it for removed, so its shoppers' changes were dropped until the next import.
A known audience the listing leaves out is now asked for by itself (`fetch_audiences`)."""

from __future__ import annotations

from typing import Any

import pytest

from addon.mailchimp.client_base import PAGE_SIZE
from tests.subscriptions.conftest import Shop


async def _removed(shop: Shop) -> dict[str, bool]:
    response = await shop.client.get("/api/audiences", headers=shop.headers)
    assert response.status_code == 200, response.text
    return {a["name"]: a["removed"] for a in response.json()["audiences"]}


async def test_an_audience_deleted_between_two_pages_hides_no_other(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [await shop.new_list(f"List {n:03}") for n in range(PAGE_SIZE + 1)]
    await shop.connect()
    await shop.work()
    assert not any((await _removed(shop)).values())
    call = shop.mailchimp.router.call
    paged: list[str] = []

    async def deleting_between_pages(request: Any) -> Any:
        if request.method == "GET" and request.path == "/lists":
            paged.append(request.query.get("offset", "0"))
            if request.query.get("offset") == str(PAGE_SIZE):
                await shop.mc("DELETE", f"/lists/{ids[0]}")  # the first page's first audience
        return await call(request)

    monkeypatch.setattr(shop.mailchimp.router, "call", deleting_between_pages)
    await shop.client.post("/api/audiences/refresh", headers=shop.headers)
    await shop.work()

    assert paged == ["0", str(PAGE_SIZE)]  # the deletion happened between the two pages
    # "List 100" was never listed: the first of the second page moved back into the first.
    assert (await _removed(shop))["List 100"] is False
    # "List 000" was listed before it was deleted: the next import finds it gone.
    monkeypatch.setattr(shop.mailchimp.router, "call", call)
    await shop.client.post("/api/audiences/refresh", headers=shop.headers)
    await shop.work()
    removed = await _removed(shop)
    assert [name for name, gone in removed.items() if gone] == ["List 000"]
