"""An app changing its own webhooks (`webhookUpdate`, `webhookDelete`), with Saleor's rules
(saleor/graphql/webhook/mutations/): its own webhooks only, queries validated against the
version's schema, events replaced only when some are given or derived, and deliveries following
the webhook as it stands."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx

from sandboxes.saleor import SaleorSandbox, SandboxApp
from sandboxes.saleor.store_catalog import VariantSpec
from sandboxes.saleor.store_checkouts import LineSpec

from .conftest import APP_HOST, FakeApp, gql

UPDATE = """
mutation Update($id: ID!, $input: WebhookUpdateInput!) {
  webhookUpdate(id: $id, input: $input) {
    webhook { id name targetUrl isActive subscriptionQuery asyncEvents { eventType } }
    errors { field message code }
  }
}"""
DELETE = """
mutation Delete($id: ID!) {
  webhookDelete(id: $id) { webhook { id } errors { field message code } }
}"""
CREATE = """
mutation Create($input: WebhookCreateInput!) {
  webhookCreate(input: $input) { webhook { id targetUrl } errors { field message code } }
}"""
OWN = "{ app { webhooks { id name } } }"
ORDER_NUMBER_ONLY = "subscription { event { ... on OrderCreated { order { id number } } } }"


async def _install(sandbox: SaleorSandbox, variant: str | None = None) -> SandboxApp:
    manifest = f"http://{APP_HOST}/api/manifest" + (f"/{variant}" if variant else "")
    return await sandbox.install_app(manifest)


def _hook(app: SandboxApp, name: str) -> Any:
    return next(h for h in app.webhooks if h.name == name)


async def _update(
    client: httpx.AsyncClient, app: SandboxApp, hook: Any, **input: Any
) -> dict[str, Any]:
    body = await gql(client, UPDATE, {"id": hook.global_id, "input": input}, app.auth_token)
    answer: dict[str, Any] = body["data"]["webhookUpdate"]
    return answer


async def test_an_app_updates_its_own_webhook_and_deliveries_follow(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    app = await _install(sandbox)
    hook = _hook(app, "Order created")
    answer = await _update(client, app, hook, name="Orders", query=ORDER_NUMBER_ONLY)
    assert answer["errors"] == []
    webhook = answer["webhook"]
    # Left out: kept. The events: those the new query names.
    assert webhook["name"] == "Orders" and webhook["isActive"] is True
    assert webhook["targetUrl"] == f"http://{APP_HOST}/api/webhooks/order-created"
    assert webhook["subscriptionQuery"] == ORDER_NUMBER_ONLY
    assert webhook["asyncEvents"] == [{"eventType": "ORDER_CREATED"}]

    product = sandbox.store.create_product("Mug", [VariantSpec(sku="MUG", price=Decimal("2"))])
    lines = [LineSpec(product.variants[0].id, 1)]
    checkout = await sandbox.create_checkout(lines=lines, email="ann@example.com")
    order = await sandbox.complete_checkout(checkout)
    [delivery] = [d for d in sandbox.deliveries if d.event_type == "ORDER_CREATED"]
    payload = json.loads(delivery.body)
    assert payload == {"order": {"id": order.global_id, "number": str(order.number)}}


async def test_events_are_replaced_only_when_some_are_given(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    app = await _install(sandbox)
    hook = _hook(app, "Lifecycle")
    assert (await _update(client, app, hook, name="Renamed"))["errors"] == []
    assert hook.async_events == ["APP_STATUS_CHANGED", "APP_DELETED"]
    answer = await _update(client, app, hook, asyncEvents=["APP_DELETED"])
    assert answer["webhook"]["asyncEvents"] == [{"eventType": "APP_DELETED"}]


async def test_a_query_is_validated_against_the_saleors_schema(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    app = await _install(sandbox)
    hook = _hook(app, "Order created")
    before = hook.query
    syntax = await _update(client, app, hook, query="subscription { event {")
    assert [e["code"] for e in syntax["errors"]] == ["SYNTAX"] and syntax["webhook"] is None
    unknown = "subscription { event { ... on OrderCreated { order { noSuchField } } } }"
    invalid = await _update(client, app, hook, query=unknown)
    assert [(e["field"], e["code"]) for e in invalid["errors"]] == [("query", "GRAPHQL_ERROR")]
    assert hook.query == before


async def test_a_target_url_is_checked_as_saleors_model_does(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    """`full_clean`: Saleor's URL validator (http, https, awssqs, gcpubsub; a host without a
    dot; a port of two digits or more) and 255 characters at most, as a name."""
    app = await _install(sandbox)
    hook = _hook(app, "Order created")
    before = hook.target_url
    invalid = [{"field": "targetUrl", "message": "Enter a valid URL.", "code": "INVALID"}]
    for url in (
        "ftp://app.example/hook",
        "http://app.example:8/hook",
        "http://app example/hook",
        "app.example/hook",
        "http://-app.example/hook",
    ):
        assert (await _update(client, app, hook, targetUrl=url))["errors"] == invalid, url
    too_long = await _update(
        client, app, hook, targetUrl="https://app.example/" + "x" * 250, name="n" * 256
    )
    assert [(e["field"], e["code"]) for e in too_long["errors"]] == [
        ("name", "INVALID"),
        ("targetUrl", "INVALID"),
    ]
    assert too_long["errors"][1]["message"].endswith("at most 255 characters (it has 270).")
    assert hook.target_url == before and hook.name == "Order created"
    for url in (
        "http://app/api/webhooks/order-created",
        "http://localhost:8000/hook",
        "https://[::1]:8443/hook",
        "https://user:secret@mailchimp.shop.example/app/hook?x=1",
        "awssqs://key:secret@sqs.eu-west-1.amazonaws.com/123/queue",
    ):
        assert (await _update(client, app, hook, targetUrl=url))["errors"] == [], url
    blank = await gql(client, CREATE, {"input": {"asyncEvents": ["ORDER_CREATED"]}}, app.auth_token)
    assert blank["data"]["webhookCreate"]["errors"] == [
        {"field": "targetUrl", "message": "This field cannot be blank.", "code": "REQUIRED"}
    ]


async def test_the_whole_webhook_is_checked_after_its_query(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    """`clean_input` (the query, its events) answers first; then `full_clean` checks the
    webhook as it would be saved, fields not given included; a null replaces a field (with
    its default where the column is not nullable)."""
    app = await _install(sandbox)
    hook = _hook(app, "Order created")
    no_event = "subscription { event { __typename } }"
    both = await _update(client, app, hook, query=no_event, targetUrl="ftp://x.example/h")
    assert both["errors"] == [
        {"field": "query", "message": "Can't find a single event.", "code": "MISSING_EVENT"}
    ]
    hook.target_url = "not a url"  # as if stored by an older Saleor
    renamed = await _update(client, app, hook, name="Orders")
    assert [(e["field"], e["code"]) for e in renamed["errors"]] == [("targetUrl", "INVALID")]
    hook.target_url = f"http://{APP_HOST}/api/webhooks/order-created"
    blank = await _update(client, app, hook, targetUrl=None)
    assert blank["errors"] == [
        {"field": "targetUrl", "message": "This field cannot be blank.", "code": "REQUIRED"}
    ]
    unnamed = await _update(client, app, hook, name=None)
    assert unnamed["errors"] == [] and unnamed["webhook"]["name"] is None
    # Without a query a webhook may have no events; a query must name one.
    bare = {"targetUrl": f"http://{APP_HOST}/hook"}
    created = await gql(client, CREATE, {"input": bare}, app.auth_token)
    assert created["data"]["webhookCreate"]["errors"] == []
    named_none = {**bare, "query": no_event}
    refused = await gql(client, CREATE, {"input": named_none}, app.auth_token)
    assert [e["code"] for e in refused["data"]["webhookCreate"]["errors"]] == ["MISSING_EVENT"]


async def test_an_app_reaches_no_other_apps_webhook(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    mine, other = await _install(sandbox), await _install(sandbox, variant="other")
    theirs = _hook(other, "Order created")
    answer = await _update(client, mine, theirs, name="Mine now")
    assert answer == {
        "webhook": None,
        "errors": [
            {
                "field": "id",
                "message": f"Couldn't resolve to a node: {theirs.global_id}",
                "code": "NOT_FOUND",
            }
        ],
    }
    deleted = await gql(client, DELETE, {"id": theirs.global_id}, mine.auth_token)
    assert [(e["field"], e["code"]) for e in deleted["data"]["webhookDelete"]["errors"]] == [
        (None, "GRAPHQL_ERROR")
    ]
    assert theirs in other.webhooks and theirs.name == "Order created"


async def test_an_app_deletes_its_own_webhook(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    app = await _install(sandbox)
    hook = _hook(app, "Order created")
    deleted = await gql(client, DELETE, {"id": hook.global_id}, app.auth_token)
    assert deleted["data"]["webhookDelete"] == {"webhook": {"id": hook.global_id}, "errors": []}
    own = await gql(client, OWN, token=app.auth_token)
    assert [h["name"] for h in own["data"]["app"]["webhooks"]] == ["Lifecycle"]
    again = await gql(client, DELETE, {"id": hook.global_id}, app.auth_token)
    assert [e["code"] for e in again["data"]["webhookDelete"]["errors"]] == ["NOT_FOUND"]


async def test_without_a_token_nothing_changes(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    app = await _install(sandbox)
    hook = _hook(app, "Order created")
    body = await gql(client, UPDATE, {"id": hook.global_id, "input": {"name": "x"}})
    assert body["data"]["webhookUpdate"] is None
    assert body["errors"][0]["extensions"]["exception"]["code"] == "PermissionDenied"
    assert hook.name == "Order created"


HEADERS = """
mutation Update($id: ID!, $input: WebhookUpdateInput!) {
  webhookUpdate(id: $id, input: $input) {
    webhook { customHeaders }
    errors { field message code }
  }
}"""


async def _set_headers(
    client: httpx.AsyncClient, app: SandboxApp, hook: Any, headers: Any
) -> dict[str, Any]:
    variables = {"id": hook.global_id, "input": {"customHeaders": headers}}
    body = await gql(client, HEADERS, variables, app.auth_token)
    answer: dict[str, Any] = body["data"]["webhookUpdate"]
    return answer


async def test_custom_headers_are_a_string_of_json_and_go_with_each_delivery(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    """`customHeaders` is a JSONString (saleor/graphql/core/fields.py): a string of JSON, kept
    with lower-cased names (custom_headers_validator) and sent with each delivery."""
    app = await _install(sandbox)
    hook = _hook(app, "Order created")
    answer = await _set_headers(client, app, hook, json.dumps({"X-Key": "k1"}))
    assert answer["errors"] == []
    assert json.loads(answer["webhook"]["customHeaders"]) == {"x-key": "k1"}
    product = sandbox.store.create_product("Mug", [VariantSpec(sku="MUG", price=Decimal("2"))])
    checkout = await sandbox.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], email="ann@example.com"
    )
    await sandbox.complete_checkout(checkout)
    [delivery] = [d for d in sandbox.deliveries if d.event_type == "ORDER_CREATED"]
    assert delivery.headers["x-key"] == "k1"


async def test_custom_headers_given_as_an_object_clear_them_without_an_error(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    """graphene's `JSONString.parse_value` is `json.loads`: an object fails it, and Saleor's
    JSONString takes the failure for None, stored as null (the column is nullable)."""
    app = await _install(sandbox)
    hook = _hook(app, "Order created")
    await _set_headers(client, app, hook, json.dumps({"X-Key": "k1"}))
    answer = await _set_headers(client, app, hook, {"X-Key": "k2"})
    assert answer == {"errors": [], "webhook": {"customHeaders": None}}


async def test_custom_headers_saleor_does_not_take_are_refused(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
) -> None:
    app = await _install(sandbox)
    hook = _hook(app, "Order created")
    answer = await _set_headers(client, app, hook, json.dumps({"Key": "v"}))
    [error] = answer["errors"]
    assert (error["field"], error["code"]) == ("customHeaders", "INVALID_CUSTOM_HEADERS")
    assert hook.custom_headers == {}
