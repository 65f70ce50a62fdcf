"""The initial sync's status while a step waits because Mailchimp asked the app to slow down
(its 429, e.g. the account's 500 pending batches): `throttled_until` says when the sync goes
on, so the admin sees why nothing moves for up to an hour; it goes once the sync moves on,
and a step merely waiting for its next look at Mailchimp's batches is no throttle."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from addon.clock import ManualClock
from addon.ecommerce.channel_state import RunStatus
from addon.initial_sync.state import STEP_JOB
from addon.jobs.models import Job, JobStatus
from addon.jobs.worker import Worker
from tests.ecommerce.conftest import Shop
from tests.initial_sync.conftest import (
    assert_equal_to_saleor,
    finish,
    first_batch_held,
    progress,
    run_jobs,
    start,
    throttle_first_poll,
)

# Longer than the stall time (half an hour), as Mailchimp may ask: up to the worker's longest
# backoff (an hour by default).
ASKED = 2400.0


async def _pending_step(shop: Shop) -> Job:
    async with shop.services.db.session() as session:
        [step] = (
            await session.scalars(
                select(Job).where(Job.kind == STEP_JOB, Job.status == JobStatus.PENDING)
            )
        ).all()
        return step


def _at(body: dict[str, Any]) -> datetime | None:
    value = body["throttled_until"]
    return None if value is None else datetime.fromisoformat(value)


async def test_a_wait_mailchimp_asked_for_is_said_with_when_the_sync_goes_on(
    small: Shop, monkeypatch: pytest.MonkeyPatch, clock: ManualClock
) -> None:
    shop = small
    shop.saleor.generate_store(products=10, customers=10, orders=10, seed=7)
    refused = throttle_first_poll(monkeypatch, ASKED)
    started = await start(shop)
    assert started["throttled_until"] is None
    await run_jobs(shop, 3)  # flag; submit; a poll refused: the next step waits
    assert refused
    body = await progress(shop)
    assert body["status"] == "running" and body["retrying"] is None, body
    # When the step goes on: the wait Mailchimp asked for, the pending step's time.
    wake = clock.now() + timedelta(seconds=ASKED)
    assert _at(body) == wake == (await _pending_step(shop)).run_after
    clock.advance(ASKED / 2)  # still waiting: still said, the same time
    assert _at(await progress(shop)) == wake
    clock.advance(ASKED / 2)  # the wait is over: the step runs, and the sync moves on
    assert await Worker(shop.services).run_once()
    body = await progress(shop)
    assert body["status"] == "running" and body["throttled_until"] is None, body
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert (await progress(shop))["throttled_until"] is None
    assert_equal_to_saleor(shop)


async def test_a_step_waiting_for_its_next_look_at_mailchimp_is_no_throttle(
    small: Shop, clock: ManualClock
) -> None:
    """The next step waits an hour for its look at a batch Mailchimp holds: a wait of the
    sync's own, not one Mailchimp asked for."""
    shop = small
    shop.saleor.generate_store(products=10, customers=10, orders=0, seed=7)
    await first_batch_held(shop)
    assert await Worker(shop.services).run_once()  # the next step: nothing due, it waits
    assert (await _pending_step(shop)).run_after > clock.now()
    body = await progress(shop)
    assert body["status"] == "running" and body["throttled_until"] is None, body


async def test_the_field_is_declared_in_the_openapi_document(small: Shop) -> None:
    response = await small.api("GET", "/api/openapi.json")
    assert response.status_code == 200
    schema = response.json()["components"]["schemas"]["InitialSyncRead"]
    field = schema["properties"]["throttled_until"]
    assert "429" in field["description"] and "throttled_until" not in schema.get("required", [])
