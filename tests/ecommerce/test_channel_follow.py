"""Following a tracked channel to its new slug (addon/ecommerce/channel_follow.py): the page's
*Switch to 'new-slug'* moves the channel's store, ledger and jobs to the slug Saleor lists it
under now, so the same Mailchimp store goes on; and what was on its way under the old slug when
the switch committed ends up under the new one, not stranded."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from addon.clock import ManualClock
from addon.ecommerce import sync
from addon.ecommerce.channel_follow import WAITING_JOBS
from addon.ecommerce.models import EntityKind, SyncRecord, SyncStatus
from addon.ecommerce.offer_dates import OFFER_JOB
from addon.ecommerce.promo_codes import CODES_JOB
from addon.ecommerce.reprice import REPRICE_DELAY, REPRICE_JOB
from addon.ecommerce.resend import RESEND_WATCH_JOB
from addon.jobs.models import Job, JobStatus
from addon.jobs.worker import Worker
from sandboxes.saleor.store_checkouts import LineSpec
from tests.ecommerce.conftest import CHANNEL, Shop, choose, run_all
from tests.ecommerce.test_store_state import channel as card
from tests.ecommerce.test_store_state import page


async def records_under(shop: Shop, slug: str) -> list[tuple[EntityKind, str, SyncStatus]]:
    async with shop.services.db.session() as session:
        rows = await session.execute(
            select(SyncRecord.kind, SyncRecord.saleor_id, SyncRecord.status).where(
                SyncRecord.channel_slug == slug
            )
        )
        return [(kind, saleor_id, status) for kind, saleor_id, status in rows]


async def finished(shop: Shop) -> list[Job]:
    async with shop.services.db.session() as session:
        return list(await session.scalars(select(Job).where(Job.status == JobStatus.DONE)))


async def waiting(shop: Shop) -> list[Job]:
    async with shop.services.db.session() as session:
        found = await session.scalars(
            select(Job).where(Job.kind.in_(WAITING_JOBS), Job.status == JobStatus.PENDING)
        )
        return list(found)


async def test_a_channel_with_a_new_slug_is_followed_with_its_store(shop: Shop) -> None:
    kale = await shop.product("Kale", "2.00")
    checkout = await shop.saleor.create_checkout(
        CHANNEL, [LineSpec(kale.variants[0].id, 1)], email="ann@example.com"
    )
    await shop.drain()
    stores = [s.id for s in shop.mailchimp.stores(shop.account)]
    await shop.saleor.channels.rename(CHANNEL, "greens")
    await shop.saleor.update_product(kale, name="Curly kale")
    await shop.drain()

    offered = card(await page(shop))["next_action"]
    assert (offered["code"], offered["label"]) == ("follow_channel", "Switch to 'greens'")
    followed = await shop.api("POST", f"/api/ecommerce/channels/{CHANNEL}/follow")
    assert followed.status_code == 200, followed.text
    assert followed.json()["message"].startswith(
        "Default Channel now goes to Mailchimp as 'greens', in the same store."
    )
    await shop.drain()
    # The same store goes on: what changed meanwhile is sent, nothing else.
    assert [s.id for s in shop.mailchimp.stores(shop.account)] == stores == [shop.store_id]
    assert shop.products()[str(kale.id)].title == "Curly kale"
    record = await shop.record(EntityKind.PRODUCT, kale.global_id)
    assert record is not None and (record.channel_slug, record.status) == (
        "greens",
        SyncStatus.SYNCED,
    )
    assert await shop.record(EntityKind.STORE, CHANNEL) is None
    store_record = await shop.record(EntityKind.STORE, "greens")
    assert store_record is not None and store_record.channel_slug == "greens"
    body = await page(shop)
    assert [c["slug"] for c in body["channels"]] == ["greens"]
    now = card(body, "greens")
    assert (now["tracked"], now["store_id"], now["store_status"]) == (True, shop.store_id, "ready")
    assert now["next_action"]["code"] == "start_initial_sync"
    # Its webhooks, which name the new slug, reach the store.
    await shop.saleor.update_checkout(checkout, set_quantities={kale.variants[0].id: 3})
    order = await shop.saleor.create_order(
        "greens", [shop.saleor.order_line(kale.variants[0], 1)], email="kim@example.com"
    )
    await shop.drain()
    assert shop.carts()[str(checkout.token)].lines[0].quantity == 3
    assert len(shop.orders()) == 1
    assert (await shop.record(EntityKind.ORDER, order.global_id)) is not None
    gone = await shop.api("POST", f"/api/ecommerce/channels/{CHANNEL}/follow")
    assert gone.status_code == 404


async def test_only_a_channel_saleor_lists_under_another_slug_is_followed(shop: Shop) -> None:
    listed = await shop.api("POST", f"/api/ecommerce/channels/{CHANNEL}/follow")
    assert listed.status_code == 409 and listed.json()["error"]["code"] == "CHANNEL_NOT_RENAMED"
    # The new slug has a store of its own: following would merge two stores.
    await shop.saleor.add_channel("greens", "Greens", "USD")
    tracked = await shop.api(
        "PUT", "/api/ecommerce/channels/greens", {"tracked": True, "list_id": shop.list_id}
    )
    assert tracked.status_code == 200, tracked.text
    await shop.saleor.channels.delete("greens")
    await shop.saleor.channels.rename(CHANNEL, "greens")
    refused = await shop.api("POST", f"/api/ecommerce/channels/{CHANNEL}/follow")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "CHANNEL_NOT_RENAMED"
    assert "has a Mailchimp store of its own" in refused.json()["error"]["message"]
    # Nor is a switch offered there.
    offered = card(await page(shop))["next_action"]
    assert offered["code"] == "stop_tracking"
    assert offered["hint"].startswith(
        "This channel's slug changed in Saleor to 'greens', which has a Mailchimp store of its "
        "own, so its changes are not sent to Mailchimp."
    )


async def test_following_waits_for_a_running_initial_sync(shop: Shop) -> None:
    started = await shop.api("POST", f"/api/ecommerce/channels/{CHANNEL}/initial-sync")
    assert started.status_code in (200, 202), started.text
    await shop.saleor.channels.rename(CHANNEL, "greens")
    await page(shop)
    refused = await shop.api("POST", f"/api/ecommerce/channels/{CHANNEL}/follow")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "INITIAL_SYNC_RUNNING"


async def test_following_moves_a_re_sends_watch(shop: Shop) -> None:
    await shop.product("Kale", "2.00")
    await shop.drain()
    with shop.mailchimp.state.lock:
        del shop.mailchimp._data(shop.account).stores[shop.store_id]
    await shop.api("POST", "/api/ecommerce/stores/check")
    recreated = await shop.api("POST", f"/api/ecommerce/channels/{CHANNEL}/store/recreate")
    assert recreated.status_code == 200, recreated.text
    await shop.saleor.channels.rename(CHANNEL, "greens")
    await page(shop)
    followed = await shop.api("POST", f"/api/ecommerce/channels/{CHANNEL}/follow")
    assert followed.status_code == 200, followed.text
    async with shop.services.db.session() as session:
        watches = (
            await session.scalars(
                select(Job.payload).where(
                    Job.kind == RESEND_WATCH_JOB, Job.status == JobStatus.PENDING
                )
            )
        ).all()
    assert {"channel": "greens"} in watches


async def test_switching_after_a_cancelled_initial_sync_resumes_the_stores_automations(
    shop: Shop,
) -> None:
    started = await shop.api("POST", f"/api/ecommerce/channels/{CHANNEL}/initial-sync")
    assert started.status_code == 202, started.text
    worker = Worker(shop.services)
    await worker.run_once()  # the store is flagged `is_syncing`
    assert [s.is_syncing for s in shop.mailchimp.stores(shop.account)] == [True]
    await shop.saleor.channels.rename(CHANNEL, "greens")
    await page(shop)
    cancelled = await shop.api("DELETE", f"/api/ecommerce/channels/{CHANNEL}/initial-sync")
    assert cancelled.status_code == 200, cancelled.text
    followed = await shop.api("POST", f"/api/ecommerce/channels/{CHANNEL}/follow")
    assert followed.status_code == 200, followed.text
    await shop.drain()
    # The cancelled run followed its channel: its last step found the store and unflagged it.
    assert [s.is_syncing for s in shop.mailchimp.stores(shop.account)] == [False]


async def test_a_push_running_when_the_channel_is_switched_ends_under_the_new_slug(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    kale = await shop.product("Kale", "2.00")
    await shop.drain()
    await shop.saleor.channels.rename(CHANNEL, "greens")
    await shop.saleor.update_product(kale, name="Curly kale")
    loaded = sync.load_context

    async def switched_meanwhile(services: Any, installation_id: int, channel: str) -> Any:
        # The push has read its store under the old slug; the admin's switch commits before
        # it reads Saleor (which has nothing under that slug any more).
        context = await loaded(services, installation_id, channel)
        if channel == CHANNEL:
            followed = await shop.api("POST", f"/api/ecommerce/channels/{CHANNEL}/follow")
            assert followed.status_code == 200, followed.text
        return context

    monkeypatch.setattr(sync, "load_context", switched_meanwhile)
    await shop.drain()
    # Nothing is left under the old slug, where no store would ever send it; the change went.
    assert await records_under(shop, CHANNEL) == []
    assert shop.products()[str(kale.id)].title == "Curly kale"
    record = await shop.record(EntityKind.PRODUCT, kale.global_id)
    assert record is not None and (record.channel_slug, record.status) == (
        "greens",
        SyncStatus.SYNCED,
    )


async def test_a_waiting_re_price_and_offer_date_follow_the_channel(
    shop: Shop, clock: ManualClock
) -> None:
    tee = await shop.product("Tee", "20.00")
    boots = await shop.product("Boots", "80.00")
    # Within Saleor's retries of a webhook: no longer, or the app would catch up as after an
    # outage, re-pricing every product (`installations/outage.py`).
    launch = clock.now() + timedelta(minutes=5)
    await shop.saleor.publish(boots, CHANNEL, available_for_purchase_at=launch)
    await shop.drain()
    await shop.saleor.promotions.create(
        "Summer", [{"channels": [CHANNEL], "variant_ids": [tee.variants[0].id], "reward_value": 25}]
    )
    await shop.drain()  # a re-price pass and the boots' offer date wait, under the old slug
    await shop.saleor.channels.rename(CHANNEL, "greens")
    await page(shop)
    followed = await shop.api("POST", f"/api/ecommerce/channels/{CHANNEL}/follow")
    assert followed.status_code == 200, followed.text
    assert {
        (job.kind, job.payload["channel"], job.coalesce_key) for job in await waiting(shop)
    } == {
        (REPRICE_JOB, "greens", "ecommerce.reprice:greens:first"),
        (REPRICE_JOB, "greens", "ecommerce.reprice:greens:again"),
        (OFFER_JOB, "greens", f"{OFFER_JOB}:greens:{boots.global_id}"),
    }

    # Saleor's periodic task stores the discounted price; before 3.23 it sends no webhook
    # (saleor/product/tasks.py `recalculate_discounted_price_for_products_task`): only the
    # re-price pass reads it.
    for listing in tee.variants[0].channel_listings:
        listing.discounted_price = Decimal("15.00")
    clock.advance(REPRICE_DELAY.total_seconds())
    await shop.drain()
    assert [v.price for v in shop.products()[str(tee.id)].variants] == [15.0]
    clock.advance((launch - clock.now()).total_seconds() + 1)
    await shop.drain()
    assert [v.visibility for v in shop.products()[str(boots.id)].variants] == ["visible"]
    assert await records_under(shop, CHANNEL) == []


async def test_a_voucher_codes_batch_out_at_the_switch_is_applied_under_the_new_slug(
    shop: Shop,
) -> None:
    await choose(shop, "all")
    names = [f"BULK{i:03}" for i in range(60)]
    voucher = await shop.saleor.vouchers.create("Bulk", names, channels={CHANNEL: 3})
    await shop.drain()  # the codes' batch is out; its results are applied 5 s later
    [batch] = [job for job in await waiting(shop) if job.kind == CODES_JOB]
    await shop.saleor.channels.rename(CHANNEL, "greens")
    await page(shop)
    followed = await shop.api("POST", f"/api/ecommerce/channels/{CHANNEL}/follow")
    assert followed.status_code == 200, followed.text
    await run_all(shop)
    # The batch's results are the voucher's under its new slug: its push, queued again by the
    # switch, waited for them in the voucher's lane and sent no code twice.
    [moved] = [job for job in await finished(shop) if job.id == batch.id]
    assert moved.payload["channel"] == "greens"
    assert len([r for r in shop.mailchimp.requests if r.path.endswith("/promo-codes")]) == 60
    record = await shop.record(EntityKind.PROMO_RULE, voucher.global_id)
    assert record is not None and (record.channel_slug, record.status) == (
        "greens",
        SyncStatus.SYNCED,
    )
    assert len(record.children) == 60
