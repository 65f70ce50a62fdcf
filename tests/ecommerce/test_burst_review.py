"""Bursts where a record's own push and its batch meet: the newer push's verdict wins over the
batch's older content."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from addon.db.types import utcnow
from addon.ecommerce import burst
from addon.ecommerce.models import EntityKind, SyncRecord, SyncStatus
from addon.jobs.worker import Worker
from tests.ecommerce.conftest import Shop
from tests.ecommerce.test_burst import batch_calls, bursty, direct_writes, settle  # noqa: F401


async def test_a_quarantine_by_its_own_push_while_its_batch_waits_stays(
    bursty: Shop,  # noqa: F811
) -> None:
    shop = bursty
    # A push that fails gives up at once (as after its retries).
    shop.services.settings = shop.services.settings.model_copy(update={"ecommerce_max_attempts": 1})
    customers = [
        await shop.saleor.create_customer(f"q{i}@example.com", f"Q{i}", "Last") for i in range(5)
    ]
    shop.mailchimp.batches_paused = True
    worker = Worker(shop.services)
    start = len(shop.mailchimp.requests)
    await worker.run_until_idle()  # the burst is read and submitted; Mailchimp holds it
    assert batch_calls(shop, start) == 1

    # Meanwhile the first customer's address becomes one Mailchimp refuses: its own push (below
    # the threshold) is quarantined with Mailchimp's reason.
    first = customers[0]
    await shop.saleor.update_customer(first, email="not-an-address")
    await worker.run_until_idle()
    record = await shop.record(EntityKind.CUSTOMER, first.global_id)
    assert record is not None and record.status is SyncStatus.QUARANTINED
    reason = record.last_error
    assert reason and "valid email" in reason

    # Then Mailchimp runs the older batch, which creates it with the address it had. The
    # quarantine stays (the data Saleor holds now is refused): not recorded synced with the
    # batch's content, which is forgotten (a Retry or a change sends everything), and no push
    # is queued that would only be refused again.
    shop.mailchimp.batches_paused = False
    after = len(shop.mailchimp.requests)
    await settle(shop)
    assert direct_writes(shop, after) == []
    record = await shop.record(EntityKind.CUSTOMER, first.global_id)
    assert record is not None and record.status is SyncStatus.QUARANTINED
    assert record.last_error == reason and record.content_hash is None
    for customer in customers[1:]:
        record = await shop.record(EntityKind.CUSTOMER, customer.global_id)
        assert record is not None and record.status is SyncStatus.SYNCED


async def test_a_quarantine_from_before_its_batch_read_it_gives_way_to_the_batch(
    bursty: Shop,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A push gave up while the record's next push waited (queued during its run); that next
    push goes in a batch, which Mailchimp confirms: synced, although recording the batch wrote
    the record's new label after Saleor was read."""
    shop = bursty
    customers = [
        await shop.saleor.create_customer(f"p{i}@example.com", f"P{i}", "Last") for i in range(5)
    ]
    first = customers[0]
    read = burst.read

    async def quarantined_before(*args: Any) -> Any:
        async with shop.services.db.transaction() as session:
            await session.execute(
                update(SyncRecord)
                .where(SyncRecord.saleor_id == first.global_id)
                .values(
                    status=SyncStatus.QUARANTINED,
                    last_error="Mailchimp was unreachable.",
                    updated_at=utcnow() - timedelta(minutes=1),  # before the burst's `read_at`
                )
            )
        return await read(*args)

    monkeypatch.setattr(burst, "read", quarantined_before)
    start = len(shop.mailchimp.requests)
    await settle(shop)
    assert batch_calls(shop, start) == 1 and direct_writes(shop, start) == []
    for customer in customers:
        record = await shop.record(EntityKind.CUSTOMER, customer.global_id)
        assert record is not None and record.status is SyncStatus.SYNCED
        assert record.label == customer.email and record.last_error is None
