"""Promo rules and promo codes, as strict as the Marketing API (see sandboxes' promos.py)."""

from __future__ import annotations

import json
from typing import Any

import httpx

from sandboxes.mailchimp import MailchimpSandbox

from .helpers import create_list, create_store, order_body, product_body
from .test_batches import read_results
from .test_core import assert_problem

RULES = "/ecommerce/stores/store-1/promo-rules"


def rule_body(**extra: Any) -> dict[str, Any]:
    return {
        "id": "r1",
        "title": "Summer",
        "description": "10% off everything",
        "amount": 0.1,
        "type": "percentage",
        "target": "total",
        **extra,
    }


def code_body(**extra: Any) -> dict[str, Any]:
    return {"id": "c1", "code": "SUMMER10", "redemption_url": "https://shop.test/", **extra}


async def test_rules_and_codes_lifecycle(client: httpx.AsyncClient) -> None:
    await create_store(client, await create_list(client))
    created = await client.post(RULES, json=rule_body(starts_at="2026-06-01T00:00:00+00:00"))
    assert created.status_code == 200, created.text
    assert created.json()["enabled"] is True and created.json()["target"] == "total"
    assert_problem(await client.post(RULES, json=rule_body()), 400, "Invalid Resource")
    patched = await client.patch(f"{RULES}/r1", json={"enabled": False, "amount": 0.2})
    assert patched.json()["enabled"] is False and patched.json()["amount"] == 0.2
    assert patched.json()["description"] == "10% off everything"
    codes = f"{RULES}/r1/promo-codes"
    code = await client.post(codes, json=code_body(usage_count=2))
    assert code.status_code == 200 and code.json()["usage_count"] == 2
    assert_problem(await client.post(codes, json=code_body()), 400, "Invalid Resource")
    bumped = await client.patch(f"{codes}/c1", json={"usage_count": 3})
    assert bumped.json()["usage_count"] == 3 and bumped.json()["code"] == "SUMMER10"
    listing = (await client.get(codes, params={"count": 10})).json()
    assert listing["total_items"] == 1 and listing["store_id"] == "store-1"
    assert (await client.get(RULES)).json()["total_items"] == 1
    # Deleting the rule deletes its codes: the rule and its codes are 404 afterwards.
    assert (await client.delete(f"{RULES}/r1")).status_code == 204
    assert_problem(await client.get(f"{RULES}/r1"), 404, "Resource Not Found")
    assert_problem(await client.get(f"{codes}/c1"), 404, "Resource Not Found")
    assert_problem(await client.post(codes, json=code_body()), 404, "Resource Not Found")
    assert_problem(await client.put(f"{RULES}/r1", json=rule_body()), 405, "Method Not Allowed")


async def test_rule_validation(client: httpx.AsyncClient) -> None:
    await create_store(client, await create_list(client))

    async def refused(body: dict[str, Any], field: str) -> None:
        doc = assert_problem(await client.post(RULES, json=body), 400, "Invalid Resource")
        assert field in [e["field"] for e in doc["errors"]], doc  # type: ignore[union-attr]

    body = rule_body()
    for required in ("id", "description", "amount", "type", "target"):
        left_out = {k: v for k, v in body.items() if k != required}
        doc = assert_problem(await client.post(RULES, json=left_out), 400, "Invalid Resource")
        assert doc["errors"][0] == {  # type: ignore[index]
            "field": "",
            "message": f"Required fields were not provided: {required}",
        }
    await refused(rule_body(type="free_shipping"), "type")
    await refused(rule_body(target="order"), "target")
    await refused(rule_body(amount=10), "amount")  # a percentage is a fraction
    await refused(rule_body(amount=-1, type="fixed"), "amount")
    await refused(rule_body(title="x" * 101), "title")
    await refused(
        rule_body(starts_at="2026-06-02T00:00:00+00:00", ends_at="2026-06-01T00:00:00+00:00"),
        "ends_at",
    )
    assert (await client.post(RULES, json=rule_body(amount=10, type="fixed"))).status_code == 200
    codes = f"{RULES}/r1/promo-codes"
    for required in ("id", "code", "redemption_url"):
        doc = assert_problem(
            await client.post(codes, json={k: v for k, v in code_body().items() if k != required}),
            400,
            "Invalid Resource",
        )
        assert doc["errors"][0] == {  # type: ignore[index]
            "field": "",
            "message": f"Required fields were not provided: {required}",
        }
    long_code = await client.post(codes, json=code_body(code="C" * 51))
    assert_problem(long_code, 400, "Invalid Resource")
    unknown = await client.get("/ecommerce/stores/nope/promo-rules")
    assert_problem(unknown, 404, "Resource Not Found")


async def test_promos_in_a_batch(sandbox: MailchimpSandbox, client: httpx.AsyncClient) -> None:
    await create_store(client, await create_list(client))
    await client.post(RULES, json=rule_body())
    operations = [
        {
            "method": "POST",
            "path": f"{RULES}/r1/promo-codes",
            "body": json.dumps(code_body(id=f"c{i}", code=f"CODE{i}")),
            "operation_id": f"c{i}",
        }
        for i in range(3)
    ] + [
        {
            "method": "POST",
            "path": f"{RULES}/r1/promo-codes",
            "body": json.dumps(code_body(id="c0", code="AGAIN")),
            "operation_id": "dup",
        }
    ]
    batch = (await client.post("/batches", json={"operations": operations})).json()
    await sandbox.drain_batches()
    done = (await client.get(f"/batches/{batch['id']}")).json()
    assert done["finished_operations"] == 4 and done["errored_operations"] == 1
    archive = await client.get(done["response_body_url"])
    results = {r["operation_id"]: r["status_code"] for r in read_results(archive.content)}
    assert results == {"c0": 200, "c1": 200, "c2": 200, "dup": 400}
    assert (await client.get(f"{RULES}/r1/promo-codes")).json()["total_items"] == 3


async def test_an_orders_promos_are_checked(client: httpx.AsyncClient) -> None:
    await create_store(client, await create_list(client))
    store = "/ecommerce/stores/store-1"
    assert (await client.post(f"{store}/products", json=product_body())).status_code == 200
    bad = order_body(promos=[{"code": "SUMMER10", "amount_discounted": 3, "type": "shipping"}])
    doc = assert_problem(await client.post(f"{store}/orders", json=bad), 400, "Invalid Resource")
    assert doc["errors"][0]["field"] == "promos.item:0.type"  # type: ignore[index]
    good = order_body(promos=[{"code": "SUMMER10", "amount_discounted": 3, "type": "fixed"}])
    created = await client.post(f"{store}/orders", json=good)
    assert created.json()["promos"] == [
        {"code": "SUMMER10", "amount_discounted": 3.0, "type": "fixed"}
    ]


async def test_free_shipping_is_discounted_by_0(client: httpx.AsyncClient) -> None:
    """Spec `Promos_inner_1`: "For free shipping set amount_discounted to 0" (and `type` fixed):
    an order's promo with a code of the store's free-shipping rule (shipping, fixed 0) must say
    so; a partial shipping discount keeps the amount it saved."""
    await create_store(client, await create_list(client))
    store = "/ecommerce/stores/store-1"
    assert (await client.post(f"{store}/products", json=product_body())).status_code == 200
    free = rule_body(id="ship", description="Free shipping", amount=0, type="fixed")
    half = rule_body(id="half", description="50% off shipping", amount=0.5)
    for rule, code in ((free, "SHIPFREE"), (half, "SHIPHALF")):
        rule["target"] = "shipping"
        assert (await client.post(RULES, json=rule)).status_code == 200
        body = code_body(id=code, code=code)
        assert (await client.post(f"{RULES}/{rule['id']}/promo-codes", json=body)).is_success
    saved = order_body(promos=[{"code": "SHIPFREE", "amount_discounted": 2, "type": "fixed"}])
    doc = assert_problem(await client.post(f"{store}/orders", json=saved), 400, "Invalid Resource")
    assert doc["errors"][0]["field"] == "promos.0.amount_discounted"  # type: ignore[index]
    free_order = order_body(promos=[{"code": "SHIPFREE", "amount_discounted": 0, "type": "fixed"}])
    assert (await client.post(f"{store}/orders", json=free_order)).status_code == 200
    patch = {"promos": [{"code": "SHIPFREE", "amount_discounted": 2.0, "type": "fixed"}]}
    refused = await client.patch(f"{store}/orders/o1", json=patch)
    assert_problem(refused, 400, "Invalid Resource")
    partial = [{"code": "SHIPHALF", "amount_discounted": 1.0, "type": "fixed"}]
    other = order_body("o2", promos=partial)
    assert (await client.post(f"{store}/orders", json=other)).status_code == 200


async def test_fields_have_the_specs_json_types_and_lengths(client: httpx.AsyncClient) -> None:
    """The spec's types as sent (no "0.1" for a number), its date-time format on every date,
    and a rule's title counted in UTF-8 bytes (promos.py's docstring)."""
    await create_store(client, await create_list(client))

    async def refused(path: str, body: dict[str, Any], field: str) -> None:
        doc = assert_problem(await client.post(path, json=body), 400, "Invalid Resource")
        assert field in [e["field"] for e in doc["errors"]], doc  # type: ignore[union-attr]

    await refused(RULES, rule_body(amount="0.1"), "amount")
    await refused(RULES, rule_body(enabled="true"), "enabled")
    await refused(RULES, rule_body(title="é" * 60), "title")  # 60 characters, 120 bytes
    await refused(RULES, rule_body(created_at_foreign="last week"), "created_at_foreign")
    # ISO 8601, but not RFC 3339's date-time (the spec's format): a date, no offset.
    await refused(RULES, rule_body(starts_at="2026-06-01"), "starts_at")
    await refused(RULES, rule_body(ends_at="2026-06-01T00:00:00"), "ends_at")
    assert (await client.post(RULES, json=rule_body(title="é" * 50))).status_code == 200
    patch = await client.patch(f"{RULES}/r1", json={"amount": "0.2"})
    assert_problem(patch, 400, "Invalid Resource")
    codes = f"{RULES}/r1/promo-codes"
    await refused(codes, code_body(usage_count="2"), "usage_count")
    await refused(codes, code_body(updated_at_foreign="2026-13-01"), "updated_at_foreign")
    assert (await client.post(codes, json=code_body(usage_count=2))).status_code == 200
    bump = await client.patch(f"{codes}/c1", json={"usage_count": "3"})
    assert_problem(bump, 400, "Invalid Resource")
    assert (await client.get(f"{codes}/c1")).json()["usage_count"] == 2


async def test_a_taken_rule_id_is_refused_in_mailchimps_words(client: httpx.AsyncClient) -> None:
    # mailchimp/mc-magento#555 and #648 quote the answer.
    await create_store(client, await create_list(client))
    assert (await client.post(RULES, json=rule_body(id="2"))).status_code == 200
    doc = assert_problem(await client.post(RULES, json=rule_body(id="2")), 400, "Invalid Resource")
    assert doc["detail"] == "A promo rule for store 'store-1' with the id '2' already exists."
