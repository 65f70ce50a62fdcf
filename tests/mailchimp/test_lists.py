"""Audiences, interest categories, merge fields and list webhooks."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from addon.mailchimp import (
    AudienceList,
    MailchimpClient,
    NotFound,
    ValidationFailed,
    WebhookEvents,
    WebhookInput,
    WebhookSources,
)
from sandboxes.mailchimp.sandbox import MailchimpSandbox
from sandboxes.transport import HostRoutingTransport
from tests.mailchimp.conftest import RecordingTransport


async def make_list(
    client: MailchimpClient, name: str = "Newsletter", **extra: Any
) -> AudienceList:
    body = {
        "name": name,
        "contact": {
            "company": "Chimp Shop",
            "address1": "1 Main St",
            "city": "Atlanta",
            "state": "GA",
            "zip": "30308",
            "country": "US",
        },
        "permission_reminder": "You bought something from us.",
        "campaign_defaults": {
            "from_name": "Chimp Shop",
            "from_email": "news@chimp.test",
            "subject": "News",
            "language": "en",
        },
        "email_type_option": False,
        **extra,
    }
    return AudienceList.model_validate(await client.request("POST", "/lists", json=body))


async def test_lists_are_paginated(client: MailchimpClient, recorder: RecordingTransport) -> None:
    for i in range(5):
        await make_list(client, f"List {i}", double_optin=i % 2 == 0)
    names = [a.name async for a in client.lists(count=2)]
    assert names == [f"List {i}" for i in range(5)]
    assert len(recorder.to("/us21/3.0/lists")) - 5 == 3  # 5 POSTs, then pages 2 + 2 + 1
    assert [a.name async for a in client.lists(count=2, offset=3)] == ["List 3", "List 4"]


async def test_list_fields(client: MailchimpClient) -> None:
    created = await make_list(client, double_optin=True, marketing_permissions=True)
    [audience] = [a async for a in client.lists()]
    assert audience.id == created.id
    assert audience.double_optin is True
    assert audience.marketing_permissions is True
    assert audience.stats.member_count == 0
    assert (await client.get_list(created.id)).name == "Newsletter"


async def test_no_lists(client: MailchimpClient) -> None:
    assert [a async for a in client.lists()] == []


async def test_interest_categories_and_interests(client: MailchimpClient) -> None:
    audience = await make_list(client)
    category = await client.create_interest_category(audience.id, "Topics", "checkboxes")
    assert category.title == "Topics" and category.type == "checkboxes"
    shoes = await client.create_interest(audience.id, category.id, "Shoes")
    await client.create_interest(audience.id, category.id, "Hats", display_order=2)
    assert [c.id async for c in client.interest_categories(audience.id)] == [category.id]
    interests = [i async for i in client.interests(audience.id, category.id, count=1)]
    assert [i.name for i in interests] == ["Shoes", "Hats"]
    assert interests[0].id == shoes.id and interests[0].category_id == category.id
    with pytest.raises(ValidationFailed):
        await client.create_interest_category(audience.id, "Topics", "checkboxes")


async def test_merge_fields(client: MailchimpClient) -> None:
    audience = await make_list(client)
    created = await client.create_merge_field(audience.id, "Saleor ID", "text", tag="SALEORID")
    assert created.tag == "SALEORID"
    tags = [f.tag async for f in client.merge_fields(audience.id, count=2)]
    assert tags[:2] == ["FNAME", "LNAME"] and "SALEORID" in tags
    with pytest.raises(ValidationFailed, match="already exists"):
        await client.create_merge_field(audience.id, "Again", "text", tag="SALEORID")


async def test_webhooks_create_list_delete(
    client: MailchimpClient, sandbox: MailchimpSandbox, network: HostRoutingTransport
) -> None:
    received: list[str] = []

    async def hook(request: Request) -> PlainTextResponse:
        received.append(request.method)
        return PlainTextResponse("ok")

    network.add("app.test", Starlette(routes=[Route("/hook", hook, methods=["GET", "POST"])]))
    sandbox.transport = network
    audience = await make_list(client)
    created = await client.create_webhook(
        audience.id,
        WebhookInput(
            url="http://app.test/hook",
            events=WebhookEvents(subscribe=True, unsubscribe=True, campaign=False),
            sources=WebhookSources(user=True, admin=True),
        ),
    )
    assert received == ["GET"]  # Mailchimp's URL check
    assert created.events["subscribe"] is True and created.events["campaign"] is False
    assert [w.id for w in await client.list_webhooks(audience.id)] == [created.id]
    await client.delete_webhook(audience.id, created.id)
    assert await client.list_webhooks(audience.id) == []
    with pytest.raises(NotFound):
        await client.delete_webhook(audience.id, created.id)


async def test_webhook_url_that_fails_verification_is_a_field_error(
    client: MailchimpClient, sandbox: MailchimpSandbox, network: HostRoutingTransport
) -> None:
    sandbox.transport = network  # nothing listens on unreachable.test
    audience = await make_list(client)
    with pytest.raises(ValidationFailed) as info:
        await client.create_webhook(audience.id, WebhookInput(url="http://unreachable.test/h"))
    assert info.value.status == 400
    assert list(info.value.field_errors) == ["url"]
    assert "url: We couldn't verify" in str(info.value)
