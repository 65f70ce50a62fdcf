"""A process runs at most `BURSTS_AT_ONCE` bursts at a time: the push jobs beyond wait before
taking records over (the backlog stays for other workers), and every record still reaches
Mailchimp."""

from __future__ import annotations

from typing import Any

import pytest

from addon.ecommerce import burst
from addon.ecommerce.models import EntityKind, SyncStatus
from tests.ecommerce.conftest import Shop
from tests.ecommerce.test_burst import batch_calls, bursty, direct_writes, settle  # noqa: F401


async def test_bursts_run_at_most_so_many_at_once_per_process(
    bursty: Shop,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop = bursty
    # Batches of 3 from one claim of 10 push jobs.
    shop.services.settings = shop.services.settings.model_copy(
        update={"ecommerce_batch_size": 3, "worker_batch_size": 10}
    )
    monkeypatch.setattr(burst, "BURSTS_AT_ONCE", 1)
    reading, most = 0, 0
    read = burst.read

    async def counted(*args: Any) -> Any:
        nonlocal reading, most
        reading += 1
        most = max(most, reading)
        try:
            return await read(*args)
        finally:
            reading -= 1

    monkeypatch.setattr(burst, "read", counted)
    customers = [
        await shop.saleor.create_customer(f"n{i}@example.com", f"N{i}", "Last") for i in range(12)
    ]
    start = len(shop.mailchimp.requests)
    await settle(shop)

    # (The in-process sandboxes answer without yielding, so reads rarely overlap here anyway:
    # this checks the limit holds and changes nothing of the outcome.)
    assert most == 1
    # Bursts of at most 3 went out as batches; how the 12 pushes split between bursts and pushes
    # of their own depends on which jobs each claim brings (PostgreSQL's SKIP LOCKED order
    # differs from SQLite's), so only that some did, and that nothing was lost, is checked.
    assert batch_calls(shop, start) >= 1
    assert len(direct_writes(shop, start)) <= 12 - 3
    assert {c.id for c in shop.mailchimp.customers(shop.account, shop.store_id)} == {
        str(c.id) for c in customers
    }
    for customer in customers:
        record = await shop.record(EntityKind.CUSTOMER, customer.global_id)
        assert record is not None and record.status is SyncStatus.SYNCED
