"""Lists, merge fields, interests, members (hash, compliance, forgotten), webhooks."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount, subscriber_hash
from sandboxes.transport import HostRoutingTransport

from .helpers import create_list, list_body
from .test_core import assert_problem


def member_path(list_id: str, email: str) -> str:
    return f"/lists/{list_id}/members/{subscriber_hash(email)}"


async def test_list_crud_pagination_and_fields(client: httpx.AsyncClient) -> None:
    ids = [await create_list(client, name=f"L{i}") for i in range(3)]
    page = (await client.get("/lists", params={"count": "2", "offset": "1"})).json()
    assert page["total_items"] == 3
    assert [item["id"] for item in page["lists"]] == ids[1:3]
    only = (await client.get("/lists", params={"fields": "lists.id,total_items"})).json()
    assert only == {"lists": [{"id": i} for i in ids], "total_items": 3}
    excluded = await client.get(f"/lists/{ids[0]}", params={"exclude_fields": "stats,contact"})
    assert "stats" not in excluded.json() and "name" in excluded.json()
    patched = await client.patch(f"/lists/{ids[0]}", json={"double_optin": True})
    assert patched.json()["double_optin"] is True
    assert (await client.delete(f"/lists/{ids[0]}")).status_code == 204
    assert_problem(await client.get(f"/lists/{ids[0]}"), 404, "Resource Not Found")


async def test_list_requires_fields(client: httpx.AsyncClient) -> None:
    body = list_body()
    del body["permission_reminder"]
    doc = assert_problem(await client.post("/lists", json=body), 400, "Invalid Resource")
    # Mailchimp's wording (drewm/mailchimp-api#179): one entry, the fields in its message, first.
    assert doc["errors"][0] == {
        "field": "",
        "message": "Required fields were not provided: permission_reminder",
    }
    del body["name"], body["contact"]["company"]
    doc = assert_problem(await client.post("/lists", json=body), 400, "Invalid Resource")
    assert doc["errors"][:2] == [
        {"field": "", "message": "Required fields were not provided: name, permission_reminder"},
        {"field": "contact", "message": "Required fields were not provided: company"},
    ]


async def test_member_hash_and_member_exists(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, account: SandboxAccount
) -> None:
    list_id = await create_list(client)
    email = "Ann.Smith@Example.org"
    response = await client.post(
        f"/lists/{list_id}/members",
        json={"email_address": email, "status": "subscribed", "merge_fields": {"FNAME": "Ann"}},
    )
    assert response.status_code == 200
    member = response.json()
    assert member["id"] == hashlib.md5(email.lower().encode()).hexdigest()
    assert member["merge_fields"]["FNAME"] == "Ann"
    again = await client.post(
        f"/lists/{list_id}/members", json={"email_address": email, "status": "subscribed"}
    )
    doc = assert_problem(again, 400, "Member Exists")
    assert email in doc["detail"]
    got = await client.get(member_path(list_id, email.lower()))
    assert got.json()["status"] == "subscribed"
    lst = (await client.get(f"/lists/{list_id}")).json()
    assert lst["stats"]["member_count"] == 1
    stored = sandbox.member(account, list_id, email)
    assert stored is not None and stored.status == "subscribed"


async def test_put_upsert_and_patch(client: httpx.AsyncClient) -> None:
    list_id = await create_list(client)
    email = "bob@example.org"
    path = member_path(list_id, email)
    created = await client.put(
        path, json={"email_address": email, "status_if_new": "transactional"}
    )
    assert created.json()["status"] == "transactional"
    updated = await client.put(
        path, json={"email_address": email, "status_if_new": "pending", "status": "subscribed"}
    )
    assert updated.json()["status"] == "subscribed"
    patched = await client.patch(path, json={"merge_fields": {"LNAME": "Builder"}, "vip": True})
    assert patched.json()["merge_fields"]["LNAME"] == "Builder" and patched.json()["vip"]
    mismatch = await client.put(
        path, json={"email_address": "other@example.org", "status_if_new": "subscribed"}
    )
    assert_problem(mismatch, 400, "Invalid Resource")
    assert_problem(
        await client.patch(member_path(list_id, "nobody@example.org"), json={"vip": True}),
        404,
        "Resource Not Found",
    )


@pytest.mark.parametrize("blocked", ["unsubscribed", "cleaned"])
async def test_compliance_state(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, blocked: str
) -> None:
    list_id = await create_list(client)
    email = "carol@example.org"
    path = member_path(list_id, email)
    await client.post(f"/lists/{list_id}/members", json={"email_address": email, "status": blocked})
    for response in (
        await client.patch(path, json={"status": "subscribed"}),
        await client.put(
            path,
            json={"email_address": email, "status_if_new": "subscribed", "status": "subscribed"},
        ),
    ):
        doc = assert_problem(response, 400, "Member In Compliance State")
        assert email in doc["detail"]
    pending = await client.patch(path, json={"status": "pending"})
    assert pending.json()["status"] == "pending"
    assert [c.email_address for c in sandbox.confirmations] == [email]


async def test_archive_and_forget(client: httpx.AsyncClient) -> None:
    list_id = await create_list(client)
    email = "dan@example.org"
    path = member_path(list_id, email)
    await client.post(
        f"/lists/{list_id}/members", json={"email_address": email, "status": "subscribed"}
    )
    assert (await client.delete(path)).status_code == 204
    assert (await client.get(path)).json()["status"] == "archived"
    readded = await client.post(
        f"/lists/{list_id}/members", json={"email_address": email, "status": "subscribed"}
    )
    assert readded.status_code == 200 and readded.json()["status"] == "subscribed"
    assert (await client.post(f"{path}/actions/delete-permanent")).status_code == 204
    assert_problem(await client.get(path), 404, "Resource Not Found")
    for response in (
        await client.post(
            f"/lists/{list_id}/members", json={"email_address": email, "status": "subscribed"}
        ),
        await client.put(path, json={"email_address": email, "status_if_new": "subscribed"}),
    ):
        doc = assert_problem(response, 400, "Forgotten Email Not Subscribed")
        assert email in doc["detail"]


async def test_a_pending_or_cleaned_member_cannot_be_archived(client: httpx.AsyncClient) -> None:
    """405 'Can not archive a contact that is bounced, pending or archived' (amro/gibbon#320)."""
    list_id = await create_list(client)
    for email, status in (("eve@example.org", "pending"), ("fay@example.org", "cleaned")):
        path = member_path(list_id, email)
        await client.post(
            f"/lists/{list_id}/members", json={"email_address": email, "status": status}
        )
        doc = assert_problem(await client.delete(path), 405, "Method Not Allowed")
        assert "Can not archive a contact that is bounced, pending or archived" in doc["detail"]
        assert (await client.get(path)).json()["status"] == status


async def test_a_put_brings_an_archived_contact_back_only_with_a_status(
    client: httpx.AsyncClient,
) -> None:
    """`status_if_new` alone leaves it archived (tbar0970/jethro-pmm#708); `status` re-adds it."""
    list_id = await create_list(client)
    email = "eve@example.org"
    path = member_path(list_id, email)
    await client.post(
        f"/lists/{list_id}/members", json={"email_address": email, "status": "subscribed"}
    )
    assert (await client.delete(path)).status_code == 204
    kept = await client.put(path, json={"email_address": email, "status_if_new": "subscribed"})
    assert kept.status_code == 200 and kept.json()["status"] == "archived"
    back = await client.put(
        path, json={"email_address": email, "status_if_new": "subscribed", "status": "subscribed"}
    )
    assert back.status_code == 200 and back.json()["status"] == "subscribed"


async def test_member_validation(client: httpx.AsyncClient) -> None:
    list_id = await create_list(client)
    bad_email = await client.post(
        f"/lists/{list_id}/members", json={"email_address": "not-an-email", "status": "subscribed"}
    )
    assert_problem(bad_email, 400, "Invalid Resource")
    # Two dots in a row (Saleor's hidden "j...@…" of an old guest order) make no address.
    # And no character outside ASCII before the @ (after it, an international domain is fine).
    for refused_address in ("j...@example.org", ".j@example.org", "j.@example.org", "josé@x.org"):
        body = {"email_address": refused_address, "status": "subscribed"}
        refused = await client.post(f"/lists/{list_id}/members", json=body)
        assert_problem(refused, 400, "Invalid Resource")
    body = {"email_address": "test@ñoñó1234.org", "status": "subscribed"}
    assert (await client.post(f"/lists/{list_id}/members", json=body)).status_code == 200
    bad_status = await client.post(
        f"/lists/{list_id}/members", json={"email_address": "e@example.org", "status": "happy"}
    )
    doc = assert_problem(bad_status, 400, "Invalid Resource")
    assert doc["errors"][0]["field"] == "status"
    bad_interest = await client.post(
        f"/lists/{list_id}/members",
        json={"email_address": "e@example.org", "status": "subscribed", "interests": {"zz": True}},
    )
    assert_problem(bad_interest, 400, "Invalid Resource")


async def test_required_merge_field(client: httpx.AsyncClient) -> None:
    list_id = await create_list(client)
    created = await client.post(
        f"/lists/{list_id}/merge-fields",
        json={"name": "Shoe size", "type": "number", "required": True, "tag": "SHOE"},
    )
    assert created.json()["tag"] == "SHOE"
    member = {"email_address": "f@example.org", "status": "subscribed"}
    doc = assert_problem(
        await client.post(f"/lists/{list_id}/members", json=member), 400, "Invalid Resource"
    )
    assert doc["errors"] == [{"field": "SHOE", "message": "Please enter a value"}]
    skipped = await client.post(
        f"/lists/{list_id}/members", params={"skip_merge_validation": "true"}, json=member
    )
    assert skipped.status_code == 200
    fields = (await client.get(f"/lists/{list_id}/merge-fields")).json()
    assert [f["tag"] for f in fields["merge_fields"]][:2] == ["FNAME", "LNAME"]


async def test_interests_and_marketing_permissions(client: httpx.AsyncClient) -> None:
    list_id = await create_list(client, marketing_permissions=True)
    categories = {}
    for kind in ("checkboxes", "dropdown", "radio", "hidden"):
        response = await client.post(
            f"/lists/{list_id}/interest-categories", json={"title": f"T {kind}", "type": kind}
        )
        assert response.status_code == 200
        categories[kind] = response.json()["id"]
    interest = (
        await client.post(
            f"/lists/{list_id}/interest-categories/{categories['checkboxes']}/interests",
            json={"name": "Shoes"},
        )
    ).json()
    assert_problem(
        await client.post(
            f"/lists/{list_id}/interest-categories", json={"title": "Bad", "type": "select"}
        ),
        400,
        "Invalid Resource",
    )
    member = (
        await client.post(
            f"/lists/{list_id}/members",
            json={"email_address": "g@example.org", "status": "subscribed"},
        )
    ).json()
    assert member["interests"] == {interest["id"]: False}
    permission_id = member["marketing_permissions"][0]["marketing_permission_id"]
    patched = (
        await client.patch(
            f"/lists/{list_id}/members/{member['id']}",
            json={
                "interests": {interest["id"]: True},
                "marketing_permissions": [
                    {"marketing_permission_id": permission_id, "enabled": True}
                ],
            },
        )
    ).json()
    assert patched["interests"][interest["id"]] is True
    assert patched["marketing_permissions"][0]["enabled"] is True
    listed = await client.get(
        f"/lists/{list_id}/interest-categories/{categories['checkboxes']}/interests"
    )
    assert listed.json()["interests"][0]["subscriber_count"] == "1"


async def test_webhooks_registration_check_and_delivery(
    sandbox: MailchimpSandbox,
    network: HostRoutingTransport,
    client: httpx.AsyncClient,
    account: SandboxAccount,
) -> None:
    received: list[dict[str, list[str]]] = []
    checks: list[str] = []

    async def hook(request: Request) -> PlainTextResponse:
        if request.method == "GET":
            checks.append(str(request.url))
        else:
            assert request.headers["content-type"] == "application/x-www-form-urlencoded"
            received.append(parse_qs((await request.body()).decode()))
        return PlainTextResponse("ok")

    async def broken(request: Request) -> PlainTextResponse:
        return PlainTextResponse("nope", status_code=404)

    network.add(
        "app.test",
        Starlette(
            routes=[
                Route("/hook", hook, methods=["GET", "POST"]),
                Route("/broken", broken, methods=["GET", "POST"]),
            ]
        ),
    )
    list_id = await create_list(client)
    created = await client.post(
        f"/lists/{list_id}/webhooks",
        json={
            "url": "http://app.test/hook",
            "events": {"subscribe": True, "unsubscribe": True, "campaign": False},
            "sources": {"user": True, "admin": True, "api": False},
        },
    )
    assert created.status_code == 200, created.text
    assert checks == ["http://app.test/hook"]
    failed = await client.post(f"/lists/{list_id}/webhooks", json={"url": "http://app.test/broken"})
    assert_problem(failed, 400, "Invalid Resource")
    unreachable = await client.post(
        f"/lists/{list_id}/webhooks", json={"url": "http://nohost.test/x"}
    )
    assert_problem(unreachable, 400, "Invalid Resource")
    listed = (await client.get(f"/lists/{list_id}/webhooks")).json()
    assert [w["url"] for w in listed["webhooks"]] == ["http://app.test/hook"]
    assert [w.url for w in sandbox.webhooks(account, list_id)] == ["http://app.test/hook"]

    responses = await sandbox.fire_list_webhook(
        account,
        list_id,
        "unsubscribe",
        {"email": "x@example.org", "merges": {"FNAME": "X"}, "reason": "manual"},
        fired_at="2024-01-01 12:00:00",
    )
    assert [r.status_code for r in responses] == [200]
    assert received == [
        {
            "type": ["unsubscribe"],
            "fired_at": ["2024-01-01 12:00:00"],
            "data[list_id]": [list_id],
            "data[email]": ["x@example.org"],
            "data[merges][FNAME]": ["X"],
            "data[reason]": ["manual"],
        }
    ]
    assert await sandbox.fire_list_webhook(account, list_id, "campaign", {}) == []
    assert await sandbox.fire_list_webhook(account, list_id, "subscribe", {}, source="api") == []
    hook_id = listed["webhooks"][0]["id"]
    assert (await client.delete(f"/lists/{list_id}/webhooks/{hook_id}")).status_code == 204
    assert sandbox.webhooks(account, list_id) == []


async def test_members_from_before_gdpr_fields_carry_the_audiences_permissions(
    client: httpx.AsyncClient,
) -> None:
    """Permissions turned on for an audience later are listed on its earlier members too (once
    a PATCH with one of them was a 500)."""
    list_id = await create_list(client)
    body = {"email_address": "early@example.org", "status": "subscribed"}
    assert (await client.post(f"/lists/{list_id}/members", json=body)).status_code == 200
    patched = await client.patch(f"/lists/{list_id}", json={"marketing_permissions": True})
    assert patched.status_code == 200
    [member] = (await client.get(f"/lists/{list_id}/members?count=1")).json()["members"]
    permissions = member["marketing_permissions"]
    assert permissions and not any(p["enabled"] for p in permissions)
    first = permissions[0]["marketing_permission_id"]
    changed = await client.patch(
        f"/lists/{list_id}/members/early@example.org",
        json={"marketing_permissions": [{"marketing_permission_id": first, "enabled": True}]},
    )
    assert changed.status_code == 200
    enabled = {
        p["marketing_permission_id"]: p["enabled"] for p in changed.json()["marketing_permissions"]
    }
    assert enabled[first] is True
