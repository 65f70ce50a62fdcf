"""Initial sync of a generated store through Mailchimp's Batch Operations API: Mailchimp ends
equal to Saleor, each entity created once, whatever happens to the worker on the way (stopped
anywhere, crashed after a submission, killed at random points)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from addon.ecommerce.channel_state import RunStatus
from addon.ecommerce.models import EntityKind, SyncStatus
from addon.mailchimp import MailchimpClient
from addon.saleor.client import SaleorClient
from tests.ecommerce.conftest import Shop
from tests.initial_sync.conftest import (
    assert_equal_to_saleor,
    creations,
    finish,
    is_syncing,
    progress,
    run_jobs,
    start,
)


async def test_full_sync_makes_mailchimp_equal_saleor_in_batches(small: Shop) -> None:
    shop = small
    shop.saleor.generate_store(products=60, customers=90, orders=120, seed=7)
    before = len(shop.mailchimp.requests)
    started = await start(shop)
    assert started["status"] == "running"
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert_equal_to_saleor(shop)
    assert not is_syncing(shop)
    # Everything went through batches: the direct requests are the store, its flag and polls.
    direct = [r for r in shop.mailchimp.requests[before:] if r.via != "batch"]
    assert not [r for r in direct if "/products" in r.path or "/orders" in r.path]
    assert max(creations(shop).values()) == 1
    body = await progress(shop)
    kinds = {k["kind"]: k for k in body["kinds"]}
    assert kinds["product"]["total"] == 60 and kinds["product"]["confirmed"] == 60
    assert kinds["order"]["total"] == 120 and kinds["order"]["confirmed"] == 120
    assert body["status"] == "succeeded" and body["batches_in_flight"] == 0
    # The ledger holds the content hashes: live sync finds nothing to send afterwards.
    record = await shop.record(
        EntityKind.PRODUCT, next(iter(shop.saleor.store.products.values())).global_id
    )
    assert record is not None and record.status is SyncStatus.SYNCED and record.content_hash


async def test_stopping_the_worker_anywhere_resumes_without_duplicates(small: Shop) -> None:
    shop = small
    shop.saleor.generate_store(products=50, customers=60, orders=80, seed=3)
    await start(shop)
    for limit in (1, 2, 3, 5, 8):
        await run_jobs(shop, limit)  # a fresh worker each time, as after a crash
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED
    assert_equal_to_saleor(shop)
    assert max(creations(shop).values()) == 1


async def test_a_crash_after_submitting_a_batch_resends_it_without_duplicates(
    small: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker dies after `POST /batches`, before recording it: the step runs again."""
    shop = small
    shop.saleor.generate_store(products=80, customers=80, orders=120, seed=8)
    real = MailchimpClient.create_batch
    calls: list[int] = []
    crashes: list[int] = []

    async def create_then_crash(self: MailchimpClient, operations: Any) -> Any:
        batch = await real(self, operations)
        calls.append(1)
        if len(calls) in (1, 4, 7):  # far enough apart to hit different steps
            crashes.append(1)
            raise RuntimeError("worker killed")
        return batch

    monkeypatch.setattr(MailchimpClient, "create_batch", create_then_crash)
    await start(shop)
    run = await finish(shop)
    assert len(crashes) == 3
    assert run.status is RunStatus.SUCCEEDED
    assert_equal_to_saleor(shop)
    assert max(creations(shop).values()) == 1
    # Entities of a batch sent twice are recorded from the resent batch's "already exists".
    assert {k["kind"]: k["quarantined"] for k in (await progress(shop))["kinds"]} == {
        "product": 0,
        "customer": 0,
        "order": 0,
    }


MAX_KILLS = 5  # INITIAL_SYNC_MAX_ATTEMPTS (6) - 1


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_killing_the_worker_at_random_points_still_ends_equal(
    small: Shop, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """The worker dies before or after random calls to Saleor and Mailchimp (a POST that
    reached Mailchimp included), several times; fresh workers finish the sync. At most
    `MAX_KILLS` times, fewer than the attempts a step gets: a pipelined step makes dozens of
    calls, so at a 10 % death rate per call one could die six times running and the sync fail
    as designed (a step failing every attempt gives up: another test), whatever the order in
    which its side-by-side calls drew from the random numbers."""
    shop = small
    # A step that dies again and again is quarantined like any job: the default patience.
    shop.services.settings = shop.services.settings.model_copy(update={"worker_max_attempts": 8})
    shop.saleor.generate_store(products=80, customers=100, orders=160, seed=seed)
    rng = random.Random(seed)
    kills: list[str] = []

    def mortal(name: str, real: Any) -> Any:
        async def call(*args: Any, **kwargs: Any) -> Any:
            if len(kills) < MAX_KILLS and rng.random() < 0.05:
                kills.append(f"before {name}")
                raise RuntimeError("worker killed")
            result = await real(*args, **kwargs)
            if len(kills) < MAX_KILLS and rng.random() < 0.05:
                kills.append(f"after {name}")
                raise RuntimeError("worker killed")
            return result

        return call

    for owner, name in (
        (MailchimpClient, "create_batch"),
        (MailchimpClient, "get_batch"),
        (MailchimpClient, "download_batch_results"),
        (SaleorClient, "execute"),
    ):
        monkeypatch.setattr(owner, name, mortal(name, getattr(owner, name)))
    await start(shop)
    for _ in range(6):
        await run_jobs(shop, rng.randint(1, 6))  # a fresh worker each time
    run = await finish(shop)
    assert len(kills) >= 3, kills
    assert run.status is RunStatus.SUCCEEDED, (run.error, kills)
    assert_equal_to_saleor(shop)
    assert max(creations(shop).values()) == 1
    assert not is_syncing(shop)
