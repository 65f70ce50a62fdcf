"""The response contract check, and the sandbox's answers for unset date-time and enum fields."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandboxes.mailchimp import MailchimpSandbox
from tests.contracts.mailchimp_responses import ResponseRecorder, validate_response

MEMBER_PATH = "/lists/abc/members/0123456789abcdef0123456789abcdef"


def test_empty_strings_for_dates_and_enums_are_violations() -> None:
    (date,) = validate_response("GET", "/batches/b1", {}, 200, b'{"completed_at": ""}')
    assert "completed_at: '' is not a 'date-time'" in date
    assert (
        validate_response("GET", "/batches/b1", {}, 200, {"completed_at": "2026-01-01T00:00:00Z"})
        == []
    )
    (enum,) = validate_response(
        "GET", "/ecommerce/stores/s/orders/o", {}, 200, {"tracking_code": ""}
    )
    assert "tracking_code: '' is not one of ['prec']" in enum


def test_status_and_body_must_be_declared() -> None:
    (undeclared,) = validate_response("GET", "/ping", {}, 201, {"health_status": "ok"})
    assert "status 201 is not declared" in undeclared
    # Errors are answered by the default Problem Detail Document...
    problem = {"type": "t", "title": "Not Found", "status": 404, "detail": "d", "instance": "i"}
    assert validate_response("GET", MEMBER_PATH, {}, 404, problem) == []
    (missing,) = validate_response("GET", "/ping", {}, 429, b"")
    assert "no body where the spec has one" in missing
    (typed,) = validate_response("GET", MEMBER_PATH, {}, 404, {**problem, "status": "404"})
    assert "status" in typed
    # ... a 204 has no body, and a gateway's HTML page on a 5xx is not Mailchimp's doing.
    assert validate_response("DELETE", MEMBER_PATH, {}, 204, b"") == []
    (body,) = validate_response("DELETE", MEMBER_PATH, {}, 204, b"{}")
    assert "a body where the spec has none" in body
    assert validate_response("GET", "/ping", {}, 502, b"<html>502 Bad Gateway</html>") == []
    (html,) = validate_response("GET", "/ping", {}, 400, b"<html>oops</html>")
    assert "not JSON" in html


def test_known_spec_defects_are_forgiven_and_only_those() -> None:
    # The spec types merge-field values as objects; Mailchimp sends strings and numbers.
    member = {"merge_fields": {"FNAME": "Ann", "AGE": 42}}
    assert validate_response("GET", MEMBER_PATH, {}, 200, member) == []
    (wrong,) = validate_response("GET", MEMBER_PATH, {}, 200, {"merge_fields": "Ann"})
    assert "merge_fields" in wrong
    # The spec gives DELETE of a store a 204 *with* a body: no body is right.
    assert validate_response("DELETE", "/ecommerce/stores/s", {}, 204, b"") == []


def test_partial_answers_may_leave_out_required_keys() -> None:
    partial = {"members": [{"email_address": "a@b.example"}]}
    query = {"fields": "members.email_address"}
    assert validate_response("GET", "/lists/abc/members", query, 200, partial) == []


async def test_the_fixture_catches_a_sandbox_answer_off_the_spec(
    mailchimp_responses: ResponseRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sandboxes.mailchimp import core

    sandbox = MailchimpSandbox()
    account = sandbox.create_account("Shop", "o@shop.test")
    real_root = core.root

    def old_root(request: Any) -> dict[str, Any]:
        return {**real_root(request), "first_payment": ""}  # what the sandbox answered before

    handler_index = next(
        i for i, r in enumerate(sandbox.router._routes) if r.template == "/" and r.method == "GET"
    )
    monkeypatch.setattr(sandbox.router._routes[handler_index], "handler", old_root)
    await sandbox.call(account, "GET", "/")
    assert mailchimp_responses.violations == [
        "GET / -> 200: first_payment: '' is not a 'date-time'"
    ]
    mailchimp_responses.violations.clear()  # seen: do not fail this test at teardown


async def test_unset_dates_and_enums_are_left_out(
    mailchimp_responses: ResponseRecorder,
) -> None:
    sandbox = MailchimpSandbox()
    account = sandbox.create_account("Shop", "o@shop.test")
    transport = httpx.ASGITransport(app=sandbox.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://mailchimp.test/us21/3.0", auth=("u", account.api_key)
    ) as client:
        root = (await client.get("/")).json()
        assert root["first_payment"] == root["member_since"]  # a monthly plan, paid at sign-up

        sandbox.batches_paused = True
        ops = [{"method": "GET", "path": "/ping", "operation_id": "p"}]
        running = (await client.post("/batches", json={"operations": ops})).json()
        assert running["status"] == "pending" and "completed_at" not in running
        sandbox.batches_paused = False
        await sandbox.drain_batches()
        finished = (await client.get(f"/batches/{running['id']}")).json()
        assert finished["status"] == "finished" and finished["completed_at"]

        list_id = (
            await client.post(
                "/lists",
                json={
                    "name": "News",
                    "contact": {
                        "company": "Shop",
                        "address1": "1 Main St",
                        "city": "Town",
                        "state": "",
                        "zip": "1",
                        "country": "US",
                    },
                    "permission_reminder": "You bought from us.",
                    "campaign_defaults": {
                        "from_name": "Shop",
                        "from_email": "o@shop.test",
                        "subject": "",
                        "language": "en",
                    },
                    "email_type_option": False,
                },
            )
        ).json()["id"]
        store = {"id": "s1", "list_id": list_id, "name": "Shop", "currency_code": "USD"}
        assert (await client.post("/ecommerce/stores", json=store)).status_code == 200
        product = {"id": "p1", "title": "Pear", "variants": [{"id": "v1", "title": "Pear"}]}
        created = (await client.post("/ecommerce/stores/s1/products", json=product)).json()
        assert "published_at_foreign" not in created
        order = {
            "id": "o1",
            "customer": {"id": "c1", "email_address": "ann@example.com", "opt_in_status": False},
            "currency_code": "USD",
            "order_total": 3.0,
            "lines": [
                {
                    "id": "l1",
                    "product_id": "p1",
                    "product_variant_id": "v1",
                    "quantity": 1,
                    "price": 3.0,
                }
            ],
        }
        placed = (await client.post("/ecommerce/stores/s1/orders", json=order)).json()
        for unset in ("tracking_code", "cancelled_at_foreign", "processed_at_foreign"):
            assert unset not in placed
        cancelled = (
            await client.patch(
                "/ecommerce/stores/s1/orders/o1",
                json={"cancelled_at_foreign": "2026-11-29T10:00:00+00:00", "tracking_code": "prec"},
            )
        ).json()
        assert cancelled["cancelled_at_foreign"] == "2026-11-29T10:00:00+00:00"
        assert cancelled["tracking_code"] == "prec"
    await sandbox.aclose()
    assert mailchimp_responses.checked >= 8
