"""A burst's batch whose results archive is gone (its pre-signed URL, valid 10 minutes, expired
while the worker was away; Mailchimp deletes old results). Before, the storage host's 403 was
read as Mailchimp's role/plan refusal (`Forbidden`): the burst's poll failed again and again
until it gave up, then held its records as a lost send's, and only then pushed them one each.
Now the batch is asked for again and, its archive still gone, its records are pushed one each
at once, what Mailchimp holds of them forgotten."""

from __future__ import annotations

from sqlalchemy import select

from addon.ecommerce.burst_queue import BURST_JOB
from addon.jobs.models import Job
from addon.jobs.worker import Worker
from tests.ecommerce.conftest import Shop
from tests.ecommerce.test_burst import (
    assert_all_synced,
    batch_calls,
    bursty,  # noqa: F401
    direct_writes,
    settle,
)


async def test_a_burst_whose_results_expired_pushes_its_records_one_each(bursty: Shop) -> None:  # noqa: F811
    shop = bursty
    start = len(shop.mailchimp.requests)
    customers = [
        await shop.saleor.create_customer(f"e{i}@example.com", f"E{i}", "Last") for i in range(5)
    ]
    await Worker(shop.services).run_until_idle()  # the burst is sent; its poll waits a minute
    await shop.mailchimp.drain_batches()
    shop.mailchimp.clock.advance(shop.mailchimp.batch_result_ttl + 1)
    await settle(shop)
    assert batch_calls(shop, start) == 1
    async with shop.services.db.session() as session:
        errors = [j.last_error for j in await session.scalars(select(Job)) if j.kind == BURST_JOB]
    assert errors and not any(errors), errors  # no poll failed
    pushed = sorted(direct_writes(shop, start))
    assert sum(1 for w in pushed if w.startswith("PUT customers/")) >= 3, pushed
    await assert_all_synced(shop, customers)
