"""Bad input that the fuzzing's generators do not make, once answered 500 (but one): each is now
refused in the app's error shape with a status its route declares.

* A lone UTF-16 surrogate in a JSON body (`"\\ud800"`, or its bytes raw, or in a UTF-16 body):
  Python's json reads it, but UTF-8 cannot encode it, so storing it (the database, the JSON
  columns' orjson) or echoing it in an error message failed (`http_limits`).
* A JSON body in UTF-16 escaping a NUL, which the NUL check read past (`http_limits`): no 500
  seen, but the NUL reached the app, which the check exists to prevent.
* A signed Saleor delivery nested deeper than Python recurses, deeper than the job column's
  orjson stores (254 levels), or holding an integer past 64 bits (`installations.webhooks`).
* An APP_STATUS_CHANGED whose `issuedAt` has no offset, or leaves the years a datetime holds
  once in UTC (`installations.lifecycle_body`).
* A signed Saleor delivery declared `text/plain` (or anything but JSON) escaping a NUL in its
  JSON: stored, as the check before routing looked into JSON-declared bodies only
  (`http_limits`).
* `%2F` in the Mailchimp webhook URL's secret: a 404 of the router's the POST does not declare
  (`subscriptions.endpoints`).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from addon.errors import ErrorCode
from addon.services import Services
from sandboxes.saleor import SaleorSandbox, SandboxApp
from tests.deliveries import post_signed
from tests.factories import count_jobs, installation
from tests.test_fuzz_openapi import Credentials, credentials  # noqa: F401 (a fixture)


@pytest.fixture
def connected(credentials: Credentials) -> dict[str, str]:  # noqa: F811
    """The fuzzing's store (connected, an active audience): a dashboard user's JSON headers."""
    return {**credentials.headers, "content-type": "application/json"}


def assert_error(answer: httpx.Response, status: int, code: ErrorCode) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["success"] is False and set(body) == {"success", "error"}
    assert body["error"]["code"] == code.value
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


# Bodies of `{"tags": [<a value>]}`, written by hand: json.dumps cannot write raw surrogate bytes.
LONE_SURROGATES = {
    "high_escaped": b'{"tags": ["a\\ud800"]}',
    "low_escaped": b'{"tags": ["\\udfffb"]}',
    "high_then_text": b'{"tags": ["\\ud83d\\\\ude00"]}',  # the "low" one is the text \ude00
    "raw_bytes": b'{"tags": ["a\xed\xa0\x80"]}',
    "utf16": '{"tags": ["a\\ud800"]}'.encode("utf-16"),
    # The code unit 0xD800 itself, little-endian after the byte order mark.
    "utf16_raw": '\ufeff{"tags": ["a'.encode("utf-16-le") + b"\x00\xd8" + b'"\x00]\x00}\x00',
}


@pytest.mark.parametrize("body", LONE_SURROGATES.values(), ids=LONE_SURROGATES.keys())
async def test_a_lone_surrogate_in_a_json_body_is_refused(
    app_client: httpx.AsyncClient,
    connected: dict[str, str],
    body: bytes,
) -> None:
    """Once a 500: PATCH stored the tag, PUT echoed an unknown audience id in its message.
    (Fields with a length limit refused it already: pydantic cannot measure such a string.)"""
    answer = await app_client.patch("/api/audiences/settings", content=body, headers=connected)
    assert_error(answer, 422, ErrorCode.INVALID_INPUT)
    put = body.replace(b'"tags"', b'"active_list_ids"')
    answer = await app_client.put("/api/audiences/settings", content=put, headers=connected)
    assert_error(answer, 422, ErrorCode.INVALID_INPUT)


async def test_a_surrogate_pair_or_its_text_is_no_lone_surrogate(
    app_client: httpx.AsyncClient,
    connected: dict[str, str],
) -> None:
    """What the refusal above must not take for a lone surrogate."""
    # A pair (an emoji), a backslash before the text "ud800", in UTF-8 and in UTF-16.
    tags = b'{"tags": ["\\ud83d\\ude00", "\\\\ud800"]}'
    for body in (tags, tags.decode().encode("utf-16")):
        answer = await app_client.patch("/api/audiences/settings", content=body, headers=connected)
        assert answer.status_code == 200, answer.text
        assert answer.json()["settings"]["tags"] == ["\U0001f600", "\\ud800"]


async def test_a_nul_escaped_in_a_utf16_json_body_is_refused(
    app_client: httpx.AsyncClient,
    connected: dict[str, str],
) -> None:
    """json reads UTF-16: the NUL check now reads it too (the tag was stored, NUL and all)."""
    body = '{"tags": ["a\\u0000"]}'.encode("utf-16")
    answer = await app_client.patch("/api/audiences/settings", content=body, headers=connected)
    assert_error(answer, 422, ErrorCode.INVALID_INPUT)


CUSTOMER = {"user": {"id": "VXNlcjox", "email": "ann@example.com"}}


def _nested(depth: int) -> bytes:
    return b'{"user": {"id": "VXNlcjox"}, "x": ' + b"[" * depth + b"]" * depth + b"}"


UNSTORABLE = {
    "nested_10k": _nested(10_000),  # json.loads: RecursionError
    "nested_300": _nested(300),  # json reads it, orjson stores 254 levels at most
    "int_past_64_bits": json.dumps({**CUSTOMER, "x": 2**64}).encode(),
    "negative_int_past_64_bits": json.dumps({**CUSTOMER, "x": -(2**63) - 1}).encode(),
}


@pytest.mark.parametrize("body", UNSTORABLE.values(), ids=UNSTORABLE.keys())
async def test_a_signed_delivery_the_app_cannot_store_is_refused(
    app_client: httpx.AsyncClient,
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    services: Services,
    body: bytes,
) -> None:
    """Signed by Saleor's key (the signature covers the body alone), so past every check before
    the job is stored: once a 500, and Saleor's retries."""
    before = await count_jobs(services)
    answer = await app_client.post(
        "/api/webhooks/subscriptions-customer-created",
        content=body,
        headers={
            "Content-Type": "application/json",
            "Saleor-Event": "CUSTOMER_CREATED",
            "Saleor-Api-Url": saleor.api_url,
            "Saleor-Signature": saleor.sign(body),
        },
    )
    assert_error(answer, 400, ErrorCode.INVALID_BODY)
    assert await count_jobs(services) == before


# What the check of bodies before routing refuses in JSON, under any declared Content-Type: the
# receiver of Saleor's webhooks reads the body as JSON whatever the header says.
UNREADABLE = {
    "nul_escaped": b'{"user": {"id": "VXNlcjox", "email": "a\\u0000@example.com"}}',
    "nul_escaped_utf16": '{"user": {"id": "VXNlcjox", "note": "a\\u0000"}}'.encode("utf-16"),
    "lone_surrogate": b'{"user": {"id": "VXNlcjox", "email": "\\ud800@example.com"}}',
}


@pytest.mark.parametrize("content_type", ["text/plain", "application/octet-stream", None])
@pytest.mark.parametrize("body", UNREADABLE.values(), ids=UNREADABLE.keys())
async def test_a_signed_delivery_is_checked_as_json_whatever_its_content_type(
    app_client: httpx.AsyncClient,
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    services: Services,
    body: bytes,
    content_type: str | None,
) -> None:
    """Saleor sends `application/json`; signed and sent as anything else, a NUL escaped in the
    JSON was stored, in a job the worker then handled."""
    before = await count_jobs(services)
    headers = {
        "Saleor-Event": "CUSTOMER_CREATED",
        "Saleor-Api-Url": saleor.api_url,
        "Saleor-Signature": saleor.sign(body),
    }
    if content_type is not None:
        headers["Content-Type"] = content_type
    answer = await app_client.post(
        "/api/webhooks/subscriptions-customer-created", content=body, headers=headers
    )
    assert_error(answer, 422, ErrorCode.INVALID_INPUT)
    assert await count_jobs(services) == before


async def test_a_signed_delivery_as_deep_as_storable_is_queued(
    app_client: httpx.AsyncClient, saleor: SaleorSandbox, installed_app: SandboxApp
) -> None:
    """The job wraps the body in one level: 253 levels inside the body is orjson's limit."""
    body = _nested(252)
    answer = await post_signed(
        app_client, saleor, "subscriptions-customer-created", "CUSTOMER_CREATED", body
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "queued"


ISSUED_AT = {
    "no_offset": "2030-01-01T00:00:00",
    "date_only": "2030-01-01",
    "year_1_ahead_of_utc": "0001-01-01T00:00:00+01:00",
    "year_9999_behind_utc": "9999-12-31T23:59:59-01:00",
}


@pytest.mark.parametrize("issued_at", ISSUED_AT.values(), ids=ISSUED_AT.keys())
async def test_a_status_change_at_a_time_saleor_never_writes_is_refused(
    app_client: httpx.AsyncClient,
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    services: Services,
    issued_at: str,
) -> None:
    """Saleor confirms the app is active, so the body went on to be applied: once a 500 (a
    naive time cannot be compared nor stored; the others overflow in UTC)."""
    stored = await installation(services)
    assert stored is not None
    payload: dict[str, Any] = {
        "issuedAt": issued_at,
        "app": {"id": installed_app.global_id, "isActive": True},
    }
    body = json.dumps(payload).encode()
    answer = await post_signed(app_client, saleor, "app-status-changed", "APP_STATUS_CHANGED", body)
    assert_error(answer, 400, ErrorCode.INVALID_BODY)
    after = await installation(services)
    assert after is not None and after.status_changed_at == stored.status_changed_at


async def test_a_slash_escaped_in_the_mailchimp_webhook_url_is_answered_as_declared(
    app_client: httpx.AsyncClient, installed_app: SandboxApp, services: Services
) -> None:
    """`%2F` in the secret's segment: decoded before routing, the path had a segment more and
    matched no route, a 404 the POST does not declare. It is a wrong secret, answered as one:
    410 to a delivery (Mailchimp disables such a webhook), 404 to Mailchimp's check."""
    stored = await installation(services)
    assert stored is not None
    path = "/api/subscriptions/mailchimp-webhook/{installation_id}/{secret}"
    declared = (await app_client.get("/api/openapi.json")).json()["paths"][path]
    url = f"/api/subscriptions/mailchimp-webhook/{stored.id}/a%2Fb"
    form = {"content-type": "application/x-www-form-urlencoded"}
    for method, status in (("get", 404), ("post", 410)):
        answer = await app_client.request(method.upper(), url, content=b"type=x", headers=form)
        assert str(answer.status_code) in declared[method]["responses"], (method, answer.text)
        assert_error(answer, status, ErrorCode.UNKNOWN_WEBHOOK)
