"""The Mailchimp request-contract checker, and the sandbox's example traffic against it."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from sandboxes.mailchimp import MailchimpSandbox, subscriber_hash
from tests.contracts.mailchimp import ContractCheckingTransport, validate_request
from tests.contracts.mailchimp_plugin import MailchimpContractRecorder

MEMBER = {"email_address": "ann@example.org", "status": "subscribed"}


def test_accepts_valid_requests() -> None:
    assert validate_request("GET", "/ping", {}, None) == []
    assert validate_request("GET", "/", {}, None) == []
    assert validate_request("GET", "/lists", {"count": "50", "offset": "0"}, None) == []
    assert (
        validate_request("GET", "/lists/abc/members", {"fields": "members.id,total_items"}, None)
        == []
    )
    assert validate_request("POST", "/lists/abc/members", {}, MEMBER) == []
    # merge field values are strings in practice (the spec's "object" is a known defect)
    with_merges = {**MEMBER, "merge_fields": {"FNAME": "Ann", "AGE": 3, "ADDRESS": {"addr1": "x"}}}
    assert validate_request("POST", "/lists/abc/members", {}, with_merges) == []
    (merges,) = validate_request("POST", "/lists/abc/members", {}, {**MEMBER, "merge_fields": []})
    assert "merge_fields" in merges
    hash_ = subscriber_hash(MEMBER["email_address"])
    put = {"email_address": MEMBER["email_address"], "status_if_new": "subscribed"}
    assert validate_request("PUT", f"/lists/abc/members/{hash_}", {}, put) == []
    assert (
        validate_request("POST", f"/lists/abc/members/{hash_}/actions/delete-permanent", {}, None)
        == []
    )
    assert validate_request("GET", "/us21/3.0/lists/abc", {}, None) == []


def test_rejects_unknown_path() -> None:
    violations = validate_request("GET", "/lists/abc/nonsense", {}, None)
    assert len(violations) == 1 and "no path in the spec matches" in violations[0]


def test_rejects_wrong_method() -> None:
    violations = validate_request("PUT", "/lists/abc", {}, {"name": "x"})
    assert len(violations) == 1 and "method not allowed" in violations[0]
    # PUT exists for members but not for stores
    assert validate_request("PUT", "/ecommerce/stores/s1", {}, {})


def test_rejects_undeclared_and_mistyped_query_params() -> None:
    (undeclared,) = validate_request("GET", "/lists", {"colour": "red"}, None)
    assert "'colour' is not declared" in undeclared
    (mistyped,) = validate_request("GET", "/lists", {"count": "ten"}, None)
    assert "'count'" in mistyped and "not an integer" in mistyped
    (too_big,) = validate_request("GET", "/lists", {"count": "5000"}, None)
    assert "maximum" in too_big
    (enum,) = validate_request("GET", "/lists/abc/members", {"status": "happy"}, None)
    assert "'status'" in enum
    (boolean,) = validate_request("GET", "/lists/abc/members", {"vip_only": "yes"}, None)
    assert "boolean" in boolean


def test_rejects_bad_bodies() -> None:
    (missing,) = validate_request("POST", "/lists/abc/members", {}, {"email_address": "a@b.org"})
    assert "'status' is a required property" in missing
    wrong = validate_request("POST", "/lists/abc/members", {}, {**MEMBER, "vip": "yes"})
    assert len(wrong) == 1 and "vip" in wrong[0] and "boolean" in wrong[0]
    (absent,) = validate_request("POST", "/lists/abc/members", {}, None)
    assert "request body is required" in absent
    (unexpected,) = validate_request("GET", "/ping", {}, {"x": 1})
    assert "takes no request body" in unexpected
    order = {"id": "o1", "customer": {}, "currency_code": "USD", "order_total": 1, "lines": []}
    (customer_id,) = validate_request("POST", "/ecommerce/stores/s/orders", {}, order)
    assert "customer" in customer_id and "'id' is a required property" in customer_id


def test_checks_date_time_formats() -> None:
    # The spec's `format: date-time` is RFC 3339's: a date, "T", a time and an offset.
    order = {
        "id": "o1",
        "customer": {"id": "c1"},
        "currency_code": "USD",
        "order_total": 1.0,
        "lines": [
            {"id": "l1", "product_id": "p", "product_variant_id": "v", "quantity": 1, "price": 1.0}
        ],
    }
    path = "/ecommerce/stores/s1/orders"
    for good in ("2024-01-02T10:00:00+00:00", "2024-01-02T10:00:00.123456Z"):
        assert validate_request("POST", path, {}, {**order, "processed_at_foreign": good}) == []
    for bad in ("2024-01-02", "2024-01-02T10:00:00", "2024-01-02 10:00:00+00:00", ""):
        (violation,) = validate_request("POST", path, {}, {**order, "processed_at_foreign": bad})
        assert "body processed_at_foreign:" in violation and "is not a 'date-time'" in violation


def test_checks_batch_operations() -> None:
    body = {
        "operations": [
            {"method": "POST", "path": "/lists/a/members", "body": json.dumps(MEMBER)},
            {
                "method": "POST",
                "path": "/lists/a/members",
                "operation_id": "bad-member",
                "body": json.dumps({"email_address": "x@y.org"}),
            },
            {"method": "GET", "path": "/lists", "params": {"count": 5000}},
            {"method": "DELETE", "path": "/nowhere"},
            {"method": "POST", "path": "/lists/a/members", "body": "{not json"},
        ]
    }
    violations = validate_request("POST", "/batches", {}, body)
    assert any("operations[1] (bad-member)" in v and "'status'" in v for v in violations)
    assert any("operations[2]" in v and "maximum" in v for v in violations)
    assert any("operations[3]" in v and "no path" in v for v in violations)
    assert any("operations[4]" in v and "not valid JSON" in v for v in violations)
    assert not any("operations[0]" in v for v in violations)
    envelope = validate_request("POST", "/batches", {}, {"operations": [{"path": "/ping"}]})
    assert any("'method' is a required property" in v for v in envelope)


async def test_transport_records_only_marketing_api_requests() -> None:
    sandbox = MailchimpSandbox()
    account = sandbox.create_account("Shop", "o@shop.test")
    transport = ContractCheckingTransport(httpx.ASGITransport(app=sandbox.app))
    async with httpx.AsyncClient(transport=transport, base_url="http://mailchimp.test") as client:
        await client.get("/us21/3.0/ping", auth=("u", account.api_key))
        await client.get("/us21/3.0/lists", params={"bogus": "1"}, auth=("u", account.api_key))
        await client.get("/oauth2/metadata", headers={"Authorization": "OAuth x"})
    assert [r.path for r in transport.requests] == ["/ping", "/lists"]
    assert len(transport.violations) == 1 and "'bogus'" in transport.violations[0]


def test_plugin_recorder_collects_violations() -> None:
    recorder = MailchimpContractRecorder()
    transport = recorder(httpx.MockTransport(lambda request: httpx.Response(200)))
    assert recorder.transports == [transport]
    assert recorder.violations == []


# --- the sandbox's own example traffic --------------------------------------------------


@pytest.fixture
async def checked_client() -> Any:
    sandbox = MailchimpSandbox()
    account = sandbox.create_account("Shop", "o@shop.test")
    transport = ContractCheckingTransport(httpx.ASGITransport(app=sandbox.app))
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://mailchimp.test/us21/3.0",
        auth=("u", account.api_key),
    ) as client:
        yield sandbox, transport, client
    await sandbox.aclose()


async def test_sandbox_example_traffic_validates(checked_client: Any) -> None:
    from tests.sandbox_mailchimp.examples import run_example_traffic

    sandbox, transport, client = checked_client
    await run_example_traffic(sandbox, client)
    assert len(transport.requests) > 10
    assert transport.violations == []
