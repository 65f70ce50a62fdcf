"""Issue 13, problem 4c: the initial-sync status line is derived from the same per-kind state
as the rows under it (no "sending orders" while orders wait, no "finishing" at 0 of N)."""

from __future__ import annotations

from typing import Any

from tests.ecommerce.conftest import Shop
from tests.initial_sync.conftest import finish, progress, run_jobs, start
from tests.initial_sync.conftest import small as small


def states(body: dict[str, Any]) -> dict[str, str]:
    return {k["kind"]: k["state"] for k in body["kinds"]}


def consistent(body: dict[str, Any]) -> None:
    """The line names a kind as sent only while its row says sending, and so on."""
    line = body["summary"]
    for kind in body["kinds"]:
        plural = kind["kind"] + "s"
        if kind["state"] != "sending":
            assert f"Sending {plural}" not in line and f", {plural}" not in line.split(";")[0]
        if kind["state"] == "waiting":
            assert plural in line and "wait until every product is confirmed" in line
        assert kind["state_label"]


async def test_orders_wait_while_products_are_sent_and_the_line_says_so(small: Shop) -> None:
    shop = small
    shop.saleor.generate_store(products=120, customers=5, orders=30, seed=3)
    await start(shop)
    body = await progress(shop)
    assert states(body) == {"product": "sending", "customer": "sending", "order": "waiting"}
    assert body["summary"] == (
        "Sending products and customers; orders wait until every product is confirmed."
    )
    seen = set()
    for _ in range(200):
        await run_jobs(shop, 1)
        body = await progress(shop)
        consistent(body)
        seen.add(tuple(sorted(states(body).items())))
        if body["status"] != "running":
            break
    # It went through the states a store admin sees, never "finishing" with kinds to send.
    assert any(dict(s)["order"] == "sending" for s in seen)
    assert any("confirming" in dict(s).values() for s in seen)
    run = await finish(shop)
    body = await progress(shop)
    assert run.status.value == "succeeded"
    assert set(states(body).values()) == {"done"}
    assert body["summary"].startswith("Finished: 120 products, ")
    assert body["summary"].endswith("30 orders are in Mailchimp.")


async def test_a_cancelled_sync_says_so_and_its_unfinished_kinds_stopped(small: Shop) -> None:
    shop = small
    shop.saleor.generate_store(products=60, customers=2, orders=4, seed=5)
    await start(shop)
    await run_jobs(shop, 2)
    response = await shop.api("DELETE", "/api/ecommerce/channels/default-channel/initial-sync")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["summary"] == "Cancelled. What was sent so far stays in Mailchimp."
    assert "stopped" in states(body).values() and "sending" not in states(body).values()
