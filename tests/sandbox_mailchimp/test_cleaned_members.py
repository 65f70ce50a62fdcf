"""A cleaned member (its address bounced) cannot be edited: any field a PATCH or a PUT carries
is refused ("Member In Compliance State"); its status alone may still become `pending` (the
confirmation by e-mail)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandboxes.mailchimp import MailchimpSandbox

from .helpers import create_list
from .test_core import assert_problem
from .test_lists_members import member_path

EMAIL = "bounced@example.org"


async def _interest(client: httpx.AsyncClient, list_id: str) -> str:
    category = await client.post(
        f"/lists/{list_id}/interest-categories", json={"title": "Topics", "type": "checkboxes"}
    )
    interest = await client.post(
        f"/lists/{list_id}/interest-categories/{category.json()['id']}/interests",
        json={"name": "Veg"},
    )
    return str(interest.json()["id"])


async def _member(client: httpx.AsyncClient, list_id: str, status: str) -> dict[str, Any]:
    body = {"email_address": EMAIL, "status": status, "merge_fields": {"FNAME": "Wes"}}
    created = await client.post(f"/lists/{list_id}/members", json=body)
    assert created.status_code == 200, created.text
    return dict(created.json())


@pytest.mark.parametrize(
    "fields",
    [
        {"merge_fields": {"FNAME": "Wesley"}},
        {"merge_fields": {"FNAME": "Wes"}},  # unchanged: refused all the same
        {"interests": "VEG"},
        {"language": "fr"},
        {"email_type": "text"},
        {"vip": True},
        {"status": "pending", "interests": "VEG"},
    ],
)
async def test_a_cleaned_member_cannot_be_edited(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient, fields: dict[str, Any]
) -> None:
    list_id = await create_list(client)
    veg = await _interest(client, list_id)
    if fields.get("interests") == "VEG":
        fields = {**fields, "interests": {veg: True}}
    before = await _member(client, list_id, "cleaned")
    path = member_path(list_id, EMAIL)

    for response in (
        await client.patch(path, json=fields),
        await client.put(
            path, json={"email_address": EMAIL, "status_if_new": "subscribed", **fields}
        ),
    ):
        doc = assert_problem(response, 400, "Member In Compliance State")
        assert EMAIL in str(doc["detail"])

    after = (await client.get(path)).json()
    for key in ("status", "merge_fields", "language", "email_type", "vip"):
        assert after[key] == before[key], key
    assert after["interests"] == {veg: False}
    assert sandbox.confirmations == []


async def test_a_cleaned_member_may_be_asked_to_confirm_and_then_edited(
    sandbox: MailchimpSandbox, client: httpx.AsyncClient
) -> None:
    list_id = await create_list(client)
    veg = await _interest(client, list_id)
    await _member(client, list_id, "cleaned")
    path = member_path(list_id, EMAIL)

    pending = await client.patch(path, json={"status": "pending"})
    assert pending.status_code == 200 and pending.json()["status"] == "pending"
    assert [c.email_address for c in sandbox.confirmations] == [EMAIL]
    # No longer cleaned: a pending member is edited as any other.
    edited = await client.patch(path, json={"interests": {veg: True}})
    assert edited.status_code == 200 and edited.json()["interests"] == {veg: True}


async def test_an_unsubscribed_member_can_still_be_edited(client: httpx.AsyncClient) -> None:
    list_id = await create_list(client)
    await _member(client, list_id, "unsubscribed")
    path = member_path(list_id, EMAIL)
    edited = await client.patch(path, json={"merge_fields": {"FNAME": "Wesley"}})
    assert edited.status_code == 200
    assert edited.json()["merge_fields"]["FNAME"] == "Wesley"
    assert edited.json()["status"] == "unsubscribed"
