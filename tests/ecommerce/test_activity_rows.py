"""Issue 13, problems 3 and 4d at the Activity API: rows name their record, explain failures
in a sentence with the fix and the technical details apart, explain rows that look alike, and
say why a waiting job waits."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from addon.db.types import utcnow
from addon.installations.models import Installation
from addon.jobs.models import Job
from addon.jobs.repository import JobRepository
from tests.ecommerce.conftest import Shop


async def activity(shop: Shop, query: str = "") -> list[dict[str, Any]]:
    response = await shop.api("GET", f"/api/activity{query}")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_customer_created_event_names_the_customer_and_explains_its_two_rows(
    shop: Shop,
) -> None:
    customer = await shop.saleor.create_customer("ann@example.com", "Ann", "Lee")
    await shop.drain()
    rows = [
        r
        for r in await activity(shop)
        if r["category"] == "event" and r["summary"] == "Webhook CUSTOMER_CREATED"
    ]
    assert len(rows) == 2
    assert {r["subject"] for r in rows} == {"Customer ann@example.com"}
    assert {r["handled_by"] for r in rows} == {"E-commerce sync", "Newsletter subscriptions"}
    for row in rows:
        assert row["note"] == (
            "Saleor sends CUSTOMER_CREATED to each of the app's webhooks that listen to it "
            "(E-commerce sync, Newsletter subscriptions): one row each."
        )
        assert row["reason"] is None and row["action"] is None and row["waiting"] is None
    pushes = [r for r in await activity(shop) if r["kind"] == "ecommerce.push"]
    assert "Customer ann@example.com" in {r["subject"] for r in pushes}
    assert customer.email == "ann@example.com"


async def test_a_quarantined_push_says_why_in_a_sentence_with_details_apart(shop: Shop) -> None:
    await shop.saleor.create_customer("not-an-address", "Bad", "Data")
    await shop.drain()
    (row,) = await activity(shop, "?status=quarantined")
    assert row["subject"] == "Customer not-an-address"
    assert row["reason"] == "Mailchimp does not accept the e-mail address as valid."
    assert row["action"] == {
        "code": "fix_in_saleor",
        "label": "Fix it in Saleor, then Retry",
        "channel": None,
    }
    assert row["details"].startswith("Mailchimp rejected the data (400 Invalid Resource)")
    assert "Mailchimp error id:" in row["details"] and "Request: PUT" in row["details"]
    assert "Request:" not in row["reason"]


async def _installation(shop: Shop) -> int:
    async with shop.services.db.session() as session:
        return (await session.execute(select(Installation.id))).scalar_one()


async def _job(shop: Shop, kind: str, **fields: Any) -> int:
    async with shop.services.db.transaction() as session:
        job_id = await JobRepository(session).enqueue(
            await _installation(shop), kind, fields.pop("payload", {}), **fields
        )
    assert job_id is not None
    return job_id


async def _waiting(shop: Shop, job_id: int) -> dict[str, Any]:
    rows = {r["id"]: r for r in await activity(shop, "?status=pending")}
    waiting: dict[str, Any] = rows[job_id]["waiting"]
    return waiting


async def test_waiting_jobs_say_why_they_wait(shop: Shop) -> None:
    payload = {"channel": "default-channel", "kind": "product", "saleor_id": "UHJvZHVjdDo5"}
    first = await _job(shop, "ecommerce.push", payload=payload, lane="lane:x")
    second = await _job(shop, "ecommerce.push", payload=payload, lane="lane:x")
    assert await _waiting(shop, first) == {
        "code": "due",
        "message": "Starts in a moment.",
        "until": None,
        "behind_job_id": None,
    }
    behind = await _waiting(shop, second)
    assert behind["code"] == "behind_job" and behind["behind_job_id"] == first
    assert behind["message"].startswith(f"Waits for its turn behind job #{first}")

    later = utcnow().replace(microsecond=0) + timedelta(hours=2)
    async with shop.services.db.transaction() as session:
        await session.execute(
            update(Job)
            .where(Job.id == first)
            .values(
                attempts=2,
                run_after=later,
                last_error="Mailchimp is throttling requests for this account (429 Too Many "
                "Requests). Request: POST /3.0/ecommerce/stores/s/products.",
            )
        )
    retrying = await _waiting(shop, first)
    assert retrying["code"] == "retrying"
    same_day = later.date() == utcnow().date()
    at = later.strftime("%H:%M UTC" if same_day else "%d %b %H:%M UTC")
    assert retrying["message"].startswith(f"Retrying at {at} after: ")
    assert retrying["message"].endswith(
        "after: Mailchimp asked the app to slow down; it is tried again shortly."
    )
    assert retrying["until"] is not None

    scheduled = await _job(shop, "audiences.import", payload={"scheduled": True}, run_after=later)
    row = {r["id"]: r for r in await activity(shop, "?status=pending")}[scheduled]
    assert row["subject"] == "Audiences and groups (scheduled re-import)"
    assert row["waiting"]["code"] == "scheduled"
    assert "audiences are re-imported from Mailchimp regularly" in row["waiting"]["message"]

    await shop.api("POST", "/api/connection/reset", {})
    third = await _job(shop, "audiences.import", payload={"scheduled": False})
    assert (await _waiting(shop, third))["code"] == "not_connected"

    async with shop.services.db.transaction() as session:
        await session.execute(update(Installation).values(is_active=False))
    assert (await _waiting(shop, third))["code"] == "app_inactive"


async def test_finished_rows_do_not_wait(shop: Shop) -> None:
    await shop.product("Kale", "2.00")
    await shop.drain()
    rows = await activity(shop, "?status=done")
    assert rows and all(r["waiting"] is None for r in rows)
