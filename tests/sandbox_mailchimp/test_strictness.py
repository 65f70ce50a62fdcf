"""The Mailchimp sandbox refuses every request body Mailchimp's spec refuses, for the writes the
app makes.

For each write of the app's typed client (`app_requests.CASES`), the body the client sends is
taken apart into single-constraint violations of the spec's request schema (`spec_mutations`):
a string over its ``maxLength``, a value outside an ``enum``, a value of another JSON type, a
``date-time`` that is not RFC 3339's, a required property left out. The spec itself must refuse
each (`validate_request`); the sandbox must refuse each with 400 "Invalid Resource", a Problem
Detail Document naming the field in its ``errors`` (Mailchimp's answer to a body its JSON
schema refuses: drewm/mailchimp-api#179, VingtCinq/python-mailchimp#56; the fields an object
leaves out in one "Required fields were not provided: …" entry), directly and, for the writes
the app batches, as an operation of ``POST /batches`` (that operation's result). The untouched
body is accepted last: the refusals were not for want of what it refers to. A sandbox laxer
than Mailchimp would let the app's
tests pass on bodies Mailchimp refuses in production.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

import httpx
import pytest

from addon.mailchimp import batches, promos
from addon.mailchimp.client import MailchimpClient
from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount, subscriber_hash
from sandboxes.mailchimp.bodies import field_name
from tests.contracts.mailchimp import validate_request

from .app_examples import MEMBER, build_world
from .app_requests import CASES, OP, AppRequest, Case, as_operation, capture
from .helpers import order_body
from .spec_mutations import Mutation, mutations
from .test_batches import read_results
from .test_core import assert_problem

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}
REQUIRED = "Required fields were not provided: "
BATCHED = tuple(case for case in CASES if case.batch is not None)


def refusal_problem(status: int, doc: Any, mutation: Mutation) -> str | None:
    """Why an answer is not Mailchimp's refusal of ``mutation``'s body (``None`` if it is)."""
    if status != 400:
        return f"answered {status}"
    if not isinstance(doc, dict) or not doc.keys() >= PROBLEM_KEYS:
        return f"answered {doc!r}, not a problem document"
    if (doc["status"], doc["title"]) != (400, "Invalid Resource"):
        return f"refused as {doc['status']} {doc['title']!r} ({doc['detail']})"
    if not str(doc["type"]).startswith("https://mailchimp.com/developer/") or not doc["detail"]:
        return f"problem document off Mailchimp's shape: {doc!r}"
    errors = doc.get("errors")
    if not isinstance(errors, list) or not all(
        isinstance(e, dict) and isinstance(e.get("field"), str) and e.get("message") for e in errors
    ):
        return f"errors off Mailchimp's shape: {errors!r}"
    if mutation.kind == "required":
        # One entry for an object's fields left out, named in its message (drewm/mailchimp-api#179).
        *parent, name = mutation.path
        where = field_name(parent)
        listed = [
            e["message"].removeprefix(REQUIRED).split(", ")
            for e in errors
            if e["field"] == where and e["message"].startswith(REQUIRED)
        ]
        if not any(name in names for names in listed):
            return f"not refused as a required field left out: {errors!r}"
    elif mutation.field not in [e["field"] for e in errors]:
        return f"refused for another field: {errors!r}"
    return None


def listing(case: Case, failures: list[str]) -> str:
    lines = "\n".join(f"  - {failure}" for failure in failures)
    return (
        f"{case.name}: the sandbox let {len(failures)} violation(s) of the spec through:\n{lines}"
    )


async def _sent(
    case: Case, sandbox: MailchimpSandbox, account: SandboxAccount, client: httpx.AsyncClient
) -> tuple[AppRequest, list[Mutation]]:
    sent = await capture(case, await build_world(sandbox, account, client))
    found = mutations(sent.method, sent.template, sent.body)
    assert found, f"{case.name}: no constraint of the spec to break"
    assert not validate_request(sent.method, sent.path, sent.query, sent.body)
    for mutation in found:
        assert validate_request(sent.method, sent.path, sent.query, mutation.body), (
            f"{case.name}: the spec takes {mutation.label}"
        )
    return sent, found


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
async def test_the_sandbox_refuses_what_the_spec_refuses(
    case: Case, sandbox: MailchimpSandbox, account: SandboxAccount, client: httpx.AsyncClient
) -> None:
    sent, found = await _sent(case, sandbox, account, client)
    failures = []
    for mutation in found:
        response = await client.request(
            sent.method, sent.path, params=sent.query, json=mutation.body
        )
        doc = response.json() if response.content else None
        why = refusal_problem(response.status_code, doc, mutation)
        if why is None and not response.headers["content-type"].startswith(
            "application/problem+json"
        ):
            why = f"content-type {response.headers['content-type']}"
        if why is not None:
            failures.append(f"{mutation.label}: {why}")
    assert not failures, listing(case, failures)
    valid = await client.request(sent.method, sent.path, params=sent.query, json=sent.body)
    assert valid.is_success, (case.name, valid.text)


@pytest.mark.parametrize("case", BATCHED, ids=lambda case: case.name)
async def test_batch_operations_are_refused_as_the_spec_refuses(
    case: Case, sandbox: MailchimpSandbox, account: SandboxAccount, client: httpx.AsyncClient
) -> None:
    sent, found = await _sent(case, sandbox, account, client)
    operations = [as_operation(sent, m.body, f"m{i}") for i, m in enumerate(found)]
    for operation, mutation in zip(operations, found, strict=True):
        assert validate_request("POST", "/batches", {}, {"operations": [operation]}), (
            f"{case.name}: the spec takes {mutation.label} in a batch"
        )
    operations.append(as_operation(sent, sent.body, "valid"))
    submitted = await client.post("/batches", json={"operations": operations})
    assert submitted.status_code == 200, submitted.text
    await sandbox.drain_batches()
    batch = (await client.get(f"/batches/{submitted.json()['id']}")).json()
    assert batch["status"] == "finished", batch
    archive = await client.get(batch["response_body_url"])
    results = {r["operation_id"]: r for r in read_results(archive.content)}
    failures = []
    for index, mutation in enumerate(found):
        result = results[f"m{index}"]
        doc = json.loads(result["response"]) if result["response"] else None
        why = refusal_problem(result["status_code"], doc, mutation)
        if why is not None:
            failures.append(f"{mutation.label}: {why}")
    assert not failures, listing(case, failures)
    assert results["valid"]["status_code"] == 200, results["valid"]


@pytest.mark.parametrize("case", BATCHED, ids=lambda case: case.name)
async def test_a_batched_write_is_the_clients_write(
    case: Case, sandbox: MailchimpSandbox, account: SandboxAccount, client: httpx.AsyncClient
) -> None:
    """The app's batch operation of a case is the request its client sends directly."""
    world = await build_world(sandbox, account, client)
    sent = await capture(case, world)
    operation = case.operation(world).body()
    assert (operation["method"], operation["path"]) == (sent.method, sent.path)
    assert json.loads(operation["body"]) == sent.body
    assert operation["operation_id"] == OP


def _writes(owner: type[object]) -> set[str]:
    """The methods of ``owner`` that send a body: they create, update or upsert."""
    return {
        name
        for name, _ in inspect.getmembers(owner, inspect.isfunction)
        if name.split("_", 1)[0] in ("create", "update", "upsert")
    }


def test_every_write_of_the_client_is_a_case() -> None:
    """The cases are the app's writes: every body-sending method of its clients, and every
    builder of a batch operation with a body (`addon.mailchimp.batches`, the promo codes' and
    rules' in `addon.mailchimp.promos`)."""
    names = {case.name for case in CASES}
    assert _writes(MailchimpClient) <= names
    assert {f"PromoClient.{name}" for name in _writes(promos.PromoClient)} <= names
    builders = {getattr(batches, name) for name in batches.__all__} - {batches.parse_batch_results}
    builders |= {
        getattr(promos, name)
        for name in dir(promos)
        if name.endswith("_op") and "delete" not in name
    }
    assert {case.batch[0] for case in BATCHED if case.batch} == builders


async def test_refusals_are_worded_as_mailchimp_words_them(
    sandbox: MailchimpSandbox, account: SandboxAccount, client: httpx.AsyncClient
) -> None:
    """The ``errors`` of a refused body, in Mailchimp's words where they are published (see
    the sandbox's `bodies.py`)."""
    world = await build_world(sandbox, account, client)
    store = "/ecommerce/stores/store-1"
    customer = {"id": "c9", "email_address": "c9@acme.test", "opt_in_status": False}
    member = f"/lists/{world.list_id}/members/{subscriber_hash(MEMBER)}"
    refusals = [
        (
            f"{store}/customers",
            {**customer, "opt_in_status": "true"},
            "opt_in_status",
            "Schema describes boolean, string found instead",
        ),
        (
            f"{store}/customers",
            {**customer, "company": None},
            "company",
            "Schema describes string, NULL found instead",
        ),
        (
            f"{store}/customers",
            {**customer, "address": []},
            "address",
            "Schema describes object, array found instead",
        ),
        (
            f"{store}/customers",
            {**customer, "id": "c" * 51},
            "id",
            "This value is too long. It should have 50 characters or less.",
        ),
        (
            f"{store}/orders",
            {**order_body("o9"), "tracking_code": "PREC"},
            "tracking_code",
            "Data presented is not one of the accepted values: prec.",
        ),
        (
            f"{store}/orders",
            {**order_body("o9"), "order_total": "19.0"},
            "order_total",
            "Schema describes number, string found instead",
        ),
        (  # mailchimp/mc-woocommerce#217, Mailchimp's answer logged by the plugin
            f"{store}/orders",
            {**order_body("o9"), "order_url": "/view-order/5374/"},
            "order_url",
            "That is not a valid URL: /view-order/5374/",
        ),
    ]
    for path, body, field, message in refusals:
        doc = assert_problem(await client.post(path, json=body), 400, "Invalid Resource")
        assert doc["errors"] == [{"field": field, "message": message}], (path, body)
    # Quoted from Mailchimp's answer to a member's unknown status.
    patched = await client.patch(member, json={"status": "transactional"})
    doc = assert_problem(patched, 400, "Invalid Resource")
    message = "Data presented is not one of the accepted values: subscribed, unsubscribed, "
    assert doc["errors"] == [{"field": "status", "message": message + "cleaned, pending."}]


@pytest.mark.parametrize(
    "url",
    [
        "",
        "shop.acme.test/orders/1",
        "https://",
        "https://:8080/orders/1",
        "https://[shop/orders/1",
        "https://shop.acme.test:99999/orders/1",
        "https://shop.acme.test/my orders/1",
        "https://sklep.acme.test/zamówienia/1",
    ],
)
async def test_an_order_link_must_be_a_full_url_when_created_or_updated(
    sandbox: MailchimpSandbox, account: SandboxAccount, client: httpx.AsyncClient, url: str
) -> None:
    """Mailchimp refuses an `order_url` that is not a full link (mailchimp/mc-woocommerce#217);
    an empty one too, the stricter side (`order_checks.check_order_url`). The order is left as
    it was."""
    await build_world(sandbox, account, client)
    orders = "/ecommerce/stores/store-1/orders"
    for answer in (
        await client.post(orders, json={**order_body("o9"), "order_url": url}),
        await client.patch(f"{orders}/o1", json={"order_url": url, "order_total": 1.0}),
    ):
        doc = assert_problem(answer, 400, "Invalid Resource")
        assert doc["errors"] == [
            {"field": "order_url", "message": f"That is not a valid URL: {url}"}
        ]
    assert (await client.get(f"{orders}/o9")).status_code == 404
    assert (await client.get(f"{orders}/o1")).json()["order_total"] == 19.0
    full = "https://shop.acme.test/account/orders/1?x=1"
    patched = await client.patch(f"{orders}/o1", json={"order_url": full})
    assert patched.status_code == 200 and patched.json()["order_url"] == full


async def test_a_currency_that_is_not_a_current_iso_4217_code_is_refused(
    sandbox: MailchimpSandbox, account: SandboxAccount, client: httpx.AsyncClient
) -> None:
    """Quoted from Mailchimp's answer to a cart in BYR, withdrawn in 2016
    (mailchimp/mc-woocommerce#180); the spec asks stores, orders and carts alike for an ISO 4217
    code (`currencies.py`)."""
    world = await build_world(sandbox, account, client)
    store = "/ecommerce/stores/store-1"
    message = "The provided code 'BYR' is not a valid ISO 4217 currency code."
    cart = {**order_body("cart9"), "customer": {"id": "c1"}}
    for path, body in (
        (
            "/ecommerce/stores",
            {
                "id": "s9",
                "list_id": world.list_id,
                "name": "By",
                "currency_code": "BYR",
                "domain": "by.acme.test",
            },
        ),
        (f"{store}/orders", {**order_body("o9"), "currency_code": "BYR"}),
        (
            f"{store}/carts",
            {k: cart[k] for k in ("id", "customer", "order_total", "lines")}
            | {"currency_code": "BYR"},
        ),
    ):
        doc = assert_problem(await client.post(path, json=body), 400, "Invalid Resource")
        assert doc["errors"] == [{"field": "currency_code", "message": message}], path
    for path in (f"{store}/orders/o1", f"{store}/carts/cart1"):
        patched = await client.patch(path, json={"currency_code": "BYR"})
        doc = assert_problem(patched, 400, "Invalid Resource")
        assert doc["errors"] == [{"field": "currency_code", "message": message}], path
    assert (await client.get(f"{store}/orders/o1")).json()["currency_code"] == "USD"
    for code in ("BYN", "KWD", "JPY", "XAU"):
        created = await client.post(
            f"{store}/orders", json={**order_body(code), "currency_code": code}
        )
        assert created.status_code == 200, (code, created.text)


def test_merge_field_values_are_left_to_the_audiences_fields() -> None:
    """Skipped, with the spec's known defect: it types a member's `merge_fields` values as
    objects, Mailchimp takes strings and numbers (`tests.contracts.mailchimp._known_defect`,
    the contracts README). No violation is derived inside `merge_fields`; the sandbox checks
    its values against the audience's merge fields instead (`test_merge_values.py`)."""
    body = {"email_address": MEMBER, "status_if_new": "subscribed", "merge_fields": {"N": 1}}
    path = f"/lists/x/members/{subscriber_hash(MEMBER)}"
    assert not validate_request("PUT", path, {}, body)
    found = mutations("PUT", "/lists/{list_id}/members/{subscriber_hash}", body)
    assert {m.field for m in found if m.field.startswith("merge_fields")} == {"merge_fields"}
