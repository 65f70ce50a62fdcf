"""The benchmark's scenario at a few thousand entities, with the default batch sizes: a
correctness test (the benchmark measures time and memory; see benchmarks/initial_sync.py)."""

from __future__ import annotations

import pytest

from addon.ecommerce.channel_state import RunStatus
from tests.ecommerce.conftest import Shop
from tests.initial_sync.conftest import (
    assert_equal_to_saleor,
    creations,
    finish,
    is_syncing,
    progress,
    start,
)


@pytest.mark.slow  # the default run syncs smaller stores in batches (test_initial_sync.py)
async def test_a_store_of_a_few_thousand_entities_ends_equal(shop: Shop) -> None:
    shop.services.settings = shop.services.settings.model_copy(
        update={"initial_sync_poll_base_seconds": 0.0, "initial_sync_poll_max_seconds": 0.0}
    )
    shop.saleor.generate_store(products=300, customers=1200, orders=2500, seed=21)
    before = len(shop.mailchimp.requests)
    await start(shop)
    run = await finish(shop, rounds=1000)
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert_equal_to_saleor(shop)
    assert max(creations(shop).values()) == 1
    assert not is_syncing(shop)
    body = await progress(shop)
    totals = {k["kind"]: (k["total"], k["confirmed"]) for k in body["kinds"]}
    assert totals == {"product": (300, 300), "customer": (1200, 1200), "order": (2500, 2500)}
    # 4000 entities in batches of up to 1000 operations: a handful of batches, no entity sent
    # on its own.
    batches = [r for r in shop.mailchimp.requests[before:] if r.path == "/batches"]
    assert 4 <= len(batches) <= 7
    direct = [r for r in shop.mailchimp.requests[before:] if r.via == "http"]
    assert not [r for r in direct if "/products" in r.path or "/orders" in r.path]
