"""Member tags: made active and inactive, named without regard to case."""

from __future__ import annotations

import httpx

from .helpers import create_list
from .test_lists_members import member_path


async def test_tags(client: httpx.AsyncClient) -> None:
    list_id = await create_list(client)
    email = "h@example.org"
    await client.post(
        f"/lists/{list_id}/members",
        json={"email_address": email, "status": "subscribed", "tags": ["customer"]},
    )
    path = member_path(list_id, email)
    response = await client.post(
        f"{path}/tags",
        json={
            "tags": [
                {"name": "vip", "status": "active"},
                {"name": "customer", "status": "inactive"},
            ]
        },
    )
    assert response.status_code == 204
    member = (await client.get(path)).json()
    assert [t["name"] for t in member["tags"]] == ["vip"] and member["tags_count"] == 1
    tags = (await client.get(f"{path}/tags")).json()
    assert tags["total_items"] == 1 and "date_added" in tags["tags"][0]

    # Named without regard to case: "VIP" is the tag "vip", as first spelled; made inactive
    # in another case, it goes.
    await client.post(f"{path}/tags", json={"tags": [{"name": "VIP", "status": "active"}]})
    assert [t["name"] for t in (await client.get(path)).json()["tags"]] == ["vip"]
    await client.post(
        f"{path}/tags",
        json={"tags": [{"name": "Vip", "status": "active"}, {"name": "VIP", "status": "inactive"}]},
    )
    assert (await client.get(path)).json()["tags"] == []
