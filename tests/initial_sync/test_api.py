"""The initial sync through the dashboard API: started once at a time, cancelled (which clears
the store's `is_syncing`), its progress reported while it runs (totals, rate, ETA), and its
answers for a channel not tracked or without a sync."""

from __future__ import annotations

from addon.ecommerce.channel_state import RunStatus
from tests.ecommerce.conftest import CHANNEL, Shop
from tests.initial_sync.conftest import (
    assert_equal_to_saleor,
    finish,
    is_syncing,
    progress,
    run_jobs,
    start,
)


async def test_starting_twice_says_it_is_running_and_cancel_clears_is_syncing(
    small: Shop,
) -> None:
    shop = small
    shop.saleor.generate_store(products=30, customers=10, orders=10, seed=1)
    await start(shop)
    again = await shop.api("POST", f"/api/ecommerce/channels/{CHANNEL}/initial-sync")
    assert again.status_code == 409 and "running already" in again.text
    await run_jobs(shop, 2)
    assert is_syncing(shop)
    cancelled = await shop.api("DELETE", f"/api/ecommerce/channels/{CHANNEL}/initial-sync")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    run = await finish(shop)
    assert run.status is RunStatus.CANCELLED
    assert not is_syncing(shop)
    # A new one may start now.
    await start(shop)
    assert (await finish(shop)).status is RunStatus.SUCCEEDED
    assert_equal_to_saleor(shop)


async def test_the_api_answers_for_untracked_channels_and_without_a_sync(small: Shop) -> None:
    shop = small
    path = "/api/ecommerce/channels/{}/initial-sync"
    assert (await shop.api("POST", path.format("nowhere"))).status_code == 404
    assert (await shop.api("GET", path.format(CHANNEL))).json()["error"][
        "code"
    ] == "NO_INITIAL_SYNC"
    assert (await shop.api("DELETE", path.format(CHANNEL))).status_code == 404
    assert (await shop.client.post(path.format(CHANNEL))).status_code == 401


async def test_progress_reports_totals_rate_and_eta_while_running(small: Shop) -> None:
    shop = small
    shop.saleor.generate_store(products=120, customers=5, orders=5, seed=12)
    await start(shop)
    await run_jobs(shop, 3)  # flag the store, send a batch, apply it while sending the next
    body = await progress(shop)
    assert body["status"] == "running" and body["phase"] == "products"
    [product] = [k for k in body["kinds"] if k["kind"] == "product"]
    assert product["total"] == 120 and 0 < product["sent"] < 120
    assert product["confirmed"] > 0 and product["rate_per_second"] > 0
    assert product["eta_seconds"] is not None and product["eta_seconds"] > 0
