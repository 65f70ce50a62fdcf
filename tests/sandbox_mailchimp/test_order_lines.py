"""An order's lines: named by id in the order's PATCH (updated or added, the others kept), and
one at a time through `…/orders/{order_id}/lines` (the sandbox's `order_lines.py`); answers
are checked against the spec by the autouse `mailchimp_responses` fixture."""

from __future__ import annotations

import httpx

from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount

from .helpers import order_body, product_body
from .test_core import assert_problem
from .test_ecommerce import S, setup_store

O1 = f"{S}/orders/o1"


def _line(line_id: str, variant: str = "v1", quantity: int = 1) -> dict[str, object]:
    return {
        "id": line_id,
        "product_id": "p1",
        "product_variant_id": variant,
        "quantity": quantity,
        "price": 9.5,
    }


async def _order(client: httpx.AsyncClient) -> None:
    await setup_store(client)
    await client.post(f"{S}/products", json=product_body("p1", ("v1", "v2")))
    created = await client.post(f"{S}/orders", json=order_body())
    assert created.status_code == 200, created.text


def _held(sandbox: MailchimpSandbox, account: SandboxAccount) -> list[tuple[str, str, int]]:
    [order] = sandbox.orders(account, "store-1")
    return [(ln.id, ln.product_variant_id, ln.quantity) for ln in order.lines]


async def test_an_orders_patch_updates_and_adds_the_lines_it_names(
    sandbox: MailchimpSandbox, account: SandboxAccount, client: httpx.AsyncClient
) -> None:
    await _order(client)
    before = _held(sandbox, account)
    sent = list(sandbox.notifications(account, "store-1"))
    patched = await client.patch(
        O1, json={"order_total": 28.5, "lines": [_line("l2", "v2", 3), {"id": "l1", "quantity": 2}]}
    )
    assert patched.status_code == 200, patched.text
    assert [(ln["id"], ln["quantity"]) for ln in patched.json()["lines"]] == [("l1", 2), ("l2", 3)]
    assert _held(sandbox, account) == [(before[0][0], "v1", 2), ("l2", "v2", 3)]
    # A line it adds must be whole, as a new order's.
    partial = await client.patch(O1, json={"lines": [{"id": "l3", "quantity": 1}]})
    assert_problem(partial, 400, "Invalid Resource")
    assert len(_held(sandbox, account)) == 2
    # No notification for lines.
    assert sandbox.notifications(account, "store-1") == sent


async def test_lines_one_at_a_time(
    sandbox: MailchimpSandbox, account: SandboxAccount, client: httpx.AsyncClient
) -> None:
    await _order(client)
    added = await client.post(f"{O1}/lines", json=_line("l2", "v2"))
    assert added.status_code == 200, added.text
    assert added.json()["product_variant_title"]
    assert_problem(await client.post(f"{O1}/lines", json=_line("l2")), 400, "Bad Request")
    missing = await client.post(f"{O1}/lines", json={"id": "l3", "product_id": "p1"})
    doc = assert_problem(missing, 400, "Invalid Resource")
    assert doc["errors"][0]["message"].startswith("Required fields were not provided: ")
    ghost = await client.post(f"{O1}/lines", json=_line("l3", "ghost"))
    assert_problem(ghost, 400, "Bad Request")

    page = await client.get(f"{O1}/lines")
    assert page.json()["total_items"] == 2 and page.json()["order_id"] == "o1"
    changed = await client.patch(f"{O1}/lines/l2", json={"quantity": 4, "id": "ignored"})
    assert changed.status_code == 200 and changed.json()["id"] == "l2"
    assert (await client.get(f"{O1}/lines/l2")).json()["quantity"] == 4
    assert_problem(
        await client.patch(f"{O1}/lines/l2", json={"quantity": "4"}), 400, "Invalid Resource"
    )
    assert_problem(await client.get(f"{O1}/lines/nope"), 404, "Resource Not Found")

    gone = await client.delete(f"{O1}/lines/l2")
    assert gone.status_code == 204
    assert [line[0] for line in _held(sandbox, account)] == ["l1"]
    assert_problem(await client.delete(f"{O1}/lines/l2"), 404, "Resource Not Found")


async def test_an_orders_last_line_cannot_be_deleted(
    sandbox: MailchimpSandbox, account: SandboxAccount, client: httpx.AsyncClient
) -> None:
    await _order(client)
    last = await client.delete(f"{O1}/lines/l1")
    doc = assert_problem(last, 400, "Bad Request")
    assert doc["detail"] == "In order to delete this line item, delete the parent resource."
    assert len(_held(sandbox, account)) == 1
