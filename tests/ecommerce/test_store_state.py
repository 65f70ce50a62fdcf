"""Issue 13, problem 4: a store deleted in Mailchimp shows as missing (found by a push's 404 or
the page's check) and is re-created in one click; each channel has one next action; records
say what they are, why they wait, and what fixes them (problem 3)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from addon.db.types import utcnow
from addon.ecommerce.models import EntityKind, MailchimpStore, SyncStatus
from addon.ecommerce.resend import RESEND_WATCH_JOB, ResendWatch, handle_resend_watch
from addon.installations.repository import InstallationRepository
from addon.jobs.models import Job
from addon.jobs.schemas import ClaimedJob, RetryLater
from addon.jobs.worker import Worker
from tests.conftest import SALEOR_API_URL
from tests.ecommerce.conftest import CHANNEL, Shop
from tests.sandbox_mailchimp.helpers import list_body


async def page(shop: Shop) -> dict[str, Any]:
    response = await shop.api("GET", "/api/ecommerce")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def channel(body: dict[str, Any], slug: str = CHANNEL) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in body["channels"] if c["slug"] == slug)
    return found


async def delete_store_in_mailchimp(shop: Shop) -> None:
    """The admin deletes the store in Mailchimp (as its UI does: not through the app's key).
    The sandbox state is changed directly: the app's own calls are the ones under test."""
    with shop.mailchimp.state.lock:
        del shop.mailchimp._data(shop.account).stores[shop.store_id]
    assert shop.mailchimp.stores(shop.account) == []


async def recreate_deleted_store(shop: Shop) -> str:
    """The store deleted in Mailchimp, found missing, and re-created by the admin; the
    answer's message."""
    await delete_store_in_mailchimp(shop)
    await shop.api("POST", "/api/ecommerce/stores/check")
    response = await shop.api("POST", f"/api/ecommerce/channels/{CHANNEL}/store/recreate")
    assert response.status_code == 200, response.text
    return str(response.json()["message"])


async def test_a_ready_store_offers_the_initial_sync(shop: Shop) -> None:
    card = channel(await page(shop))
    assert card["store_status"] == "ready" and card["store_message"] is None
    assert card["next_action"]["code"] == "start_initial_sync"
    assert card["next_action"]["label"] == "Start the initial sync"
    assert set(card["counts"]) == {"product", "customer", "order", "cart"}


async def test_a_push_404_marks_the_store_missing_and_the_push_waits(shop: Shop) -> None:
    await delete_store_in_mailchimp(shop)
    product = await shop.product("Kale", "2.00")
    await shop.drain()
    # Nothing was re-created behind the admin's back.
    assert shop.mailchimp.stores(shop.account) == []
    card = channel(await page(shop))
    assert card["store_status"] == "missing"
    assert card["store_message"] == (
        "The Mailchimp store for Default Channel no longer exists in Mailchimp "
        "(it was deleted there)."
    )
    assert card["next_action"]["code"] == "recreate_store"
    record = await shop.record(EntityKind.PRODUCT, product.global_id)
    assert record is not None and record.status is SyncStatus.PENDING
    assert record.attempts == 0  # waiting, not failing towards quarantine
    listed = (await shop.api("GET", "/api/ecommerce/records?kind=product")).json()
    row = next(r for r in listed if r["saleor_id"] == product.global_id)
    assert row["subject"] == "Product Kale"
    assert row["reason"].startswith("The Mailchimp store for Default Channel no longer exists")
    assert row["action"] == {
        "code": "recreate_store",
        "label": "Re-create the store",
        "channel": CHANNEL,
    }
    # Retry cannot help while the store is gone: the answer says what can.
    retry = await shop.api("POST", f"/api/ecommerce/records/{record.id}/retry")
    assert retry.status_code == 409 and retry.json()["error"]["code"] == "STORE_MISSING"
    assert "Re-create it" in retry.json()["error"]["message"]


async def test_the_pages_check_finds_a_deleted_store(shop: Shop) -> None:
    await delete_store_in_mailchimp(shop)
    assert channel(await page(shop))["store_status"] == "ready"  # nothing told the app yet
    before = len(shop.mailchimp.requests)
    checked = await shop.api("POST", "/api/ecommerce/stores/check")
    assert checked.status_code == 200, checked.text
    assert channel(checked.json())["store_status"] == "missing"
    # An initial sync into a deleted store could only fail: re-create it first.
    started = await shop.api("POST", f"/api/ecommerce/channels/{CHANNEL}/initial-sync")
    assert started.status_code == 409 and started.json()["error"]["code"] == "STORE_MISSING"
    calls = [(r.method, r.path) for r in shop.mailchimp.requests[before:]]
    assert calls == [("GET", f"/ecommerce/stores/{shop.store_id}")]
    # A second check does not ask again about a store known to be missing.
    await shop.api("POST", "/api/ecommerce/stores/check")
    assert len(shop.mailchimp.requests) == before + 1


async def test_the_check_keeps_an_existing_store_ready(shop: Shop) -> None:
    checked = await shop.api("POST", "/api/ecommerce/stores/check")
    assert channel(checked.json())["store_status"] == "ready"


async def test_recreate_creates_the_store_and_sends_everything_again(shop: Shop) -> None:
    product = await shop.product("Leek", "1.50")
    customer = await shop.saleor.create_customer("ann@example.com", "Ann", "Lee")
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 2)], user=customer, paid=True
    )
    await shop.drain()
    assert str(order.id) in shop.orders()
    refused = await shop.api("POST", f"/api/ecommerce/channels/{CHANNEL}/store/recreate")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "STORE_NOT_MISSING"

    await delete_store_in_mailchimp(shop)
    await shop.api("POST", "/api/ecommerce/stores/check")
    response = await shop.api("POST", f"/api/ecommerce/channels/{CHANNEL}/store/recreate")
    assert response.status_code == 200, response.text
    assert response.json()["message"].startswith(
        "The Mailchimp store for Default Channel will be created again"
    )
    await shop.drain()
    assert [s.id for s in shop.mailchimp.stores(shop.account)] == [shop.store_id]
    assert str(product.id) in shop.products() and str(order.id) in shop.orders()
    card = channel(await page(shop))
    assert card["store_status"] == "ready" and card["next_action"]["code"] == "start_initial_sync"


def _syncing_when_orders_came(shop: Shop, since: int) -> tuple[list[bool | None], bool | None]:
    """Whether the store was `is_syncing` at each order creation after request `since`, as
    the store's creation and PATCHes set it, and at the end."""
    store_path = f"/ecommerce/stores/{shop.store_id}"
    syncing: bool | None = None
    seen: list[bool | None] = []
    for r in shop.mailchimp.requests[since:]:
        if r.status >= 300:
            continue
        if r.method == "POST" and r.path == "/ecommerce/stores":
            syncing = bool(r.body.get("is_syncing", False))
        elif r.method == "PATCH" and r.path == store_path and "is_syncing" in r.body:
            syncing = bool(r.body["is_syncing"])
        elif r.method == "POST" and r.path == f"{store_path}/orders":
            seen.append(syncing)
    return seen, syncing


async def _watch_due(shop: Shop) -> None:
    async with shop.services.db.transaction() as session:
        await session.execute(
            update(Job).where(Job.kind == RESEND_WATCH_JOB).values(run_after=utcnow())
        )
    await Worker(shop.services).run_until_idle()


async def test_a_recreated_store_takes_old_orders_with_its_automations_paused(
    shop: Shop,
) -> None:
    """Old orders sent to the new store as new could start order notifications and other
    automations: the store is `is_syncing` until the last record of the re-send is sent."""
    product = await shop.product("Leek", "1.50")
    customer = await shop.saleor.create_customer("ann@example.com", "Ann", "Lee")
    for _ in range(2):
        await shop.saleor.create_order(
            lines=[shop.saleor.order_line(product.variants[0], 2)], user=customer, paid=True
        )
    await shop.drain()
    before = len(shop.mailchimp.requests)
    assert "automations are paused" in await recreate_deleted_store(shop)

    # The watch before anything was sent: the re-send has not ended.
    async with shop.services.db.session() as session:
        [installation] = await InstallationRepository(session).list_all()
    with pytest.raises(RetryLater):
        await handle_resend_watch(
            ClaimedJob(id=0, installation_id=installation.id, kind="", payload={}, attempts=1),
            ResendWatch(channel=CHANNEL),
            shop.services,
        )
    await shop.drain()
    await _watch_due(shop)

    seen, syncing = _syncing_when_orders_came(shop, before)
    assert seen == [True, True] and syncing is False
    [store] = shop.mailchimp.stores(shop.account)
    assert store.is_syncing is False
    # Live changes after the re-send find the store's automations running.
    before = len(shop.mailchimp.requests)
    await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)], user=customer, paid=True
    )
    await shop.drain()
    assert _syncing_when_orders_came(shop, before)[0] == [None]
    assert shop.mailchimp.stores(shop.account)[0].is_syncing is False


async def test_the_watch_never_gives_up_resuming_the_automations(shop: Shop) -> None:
    """Mailchimp failing the PATCH that resumes them: the watch looks again (counted, never
    quarantined), or the store's automations would stay paused for good."""
    await shop.saleor.create_customer("ann@example.com", "Ann", "Lee")
    await shop.drain()
    await recreate_deleted_store(shop)
    await shop.drain()
    async with shop.services.db.session() as session:
        [installation] = await InstallationRepository(session).list_all()
    shop.mailchimp.faults.fail_next(50, 503)
    with pytest.raises(RetryLater) as waited:
        await handle_resend_watch(
            ClaimedJob(id=0, installation_id=installation.id, kind="", payload={}, attempts=9),
            ResendWatch(channel=CHANNEL),
            shop.services,
        )
    assert waited.value.counted
    shop.mailchimp.faults.reset()
    await _watch_due(shop)
    assert shop.mailchimp.stores(shop.account)[0].is_syncing is False


async def test_recreate_needs_a_tracked_channel(shop: Shop) -> None:
    response = await shop.api("POST", "/api/ecommerce/channels/nowhere/store/recreate")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "CHANNEL_NOT_TRACKED"


async def test_one_next_action_per_state(shop: Shop) -> None:
    await shop.saleor.add_channel("outlet", "Outlet", "USD")
    body = await page(shop)
    outlet = channel(body, "outlet")
    assert outlet["tracked"] is False and outlet["counts"] is None  # no rows of zeros
    assert outlet["store_status"] == "not_created"
    assert outlet["next_action"]["code"] == "track"

    await shop.api("PATCH", "/api/ecommerce/settings", {"tracking_enabled": False})
    assert channel(await page(shop))["next_action"]["code"] == "enable_tracking"
    await shop.api("PATCH", "/api/ecommerce/settings", {"tracking_enabled": True})

    started = await shop.api("POST", f"/api/ecommerce/channels/{CHANNEL}/initial-sync")
    assert started.status_code in (200, 201, 202), started.text
    assert channel(await page(shop))["next_action"]["code"] == "none"
    await shop.api("DELETE", f"/api/ecommerce/channels/{CHANNEL}/initial-sync")
    assert channel(await page(shop))["next_action"]["code"] == "start_initial_sync"

    await shop.api("POST", "/api/connection/reset", {})
    body = await page(shop)
    assert {c["next_action"]["code"] for c in body["channels"]} == {"connect_mailchimp"}
    # Tracked still: not told to connect "before tracking" a channel it tracks.
    assert channel(body)["tracked"] is True
    assert channel(body)["next_action"]["hint"] == (
        "Mailchimp is not connected, so nothing of this channel is sent."
    )


@pytest.mark.parametrize("removed", [True, False])
async def test_untracked_channels_need_an_audience_that_still_exists(
    shop: Shop, removed: bool
) -> None:
    await shop.saleor.add_channel("outlet", "Outlet", "USD")
    await shop.api("POST", "/api/audiences/refresh")
    if removed:
        await shop.mailchimp.call(shop.account, "DELETE", f"/lists/{shop.list_id}")
        await shop.api("POST", "/api/audiences/refresh")
    await shop.drain()
    expected = "choose_audience" if removed else "track"
    assert channel(await page(shop), "outlet")["next_action"]["code"] == expected


async def test_a_quarantined_record_has_a_plain_reason_and_details(shop: Shop) -> None:
    poison = await shop.saleor.create_customer("not-an-address", "Bad", "Data")
    await shop.drain()
    listed = (await shop.api("GET", "/api/ecommerce/records?status=quarantined")).json()
    (row,) = listed
    assert row["saleor_id"] == poison.global_id
    assert row["subject"] == "Customer not-an-address"
    assert row["reason"] == "Mailchimp does not accept the e-mail address as valid."
    assert row["action"]["code"] == "fix_in_saleor"
    assert "Request: PUT /" in row["details"] and "/ecommerce/stores/" in row["details"]
    assert row["details"] == row["last_error"]


async def test_an_order_is_named_with_its_customer(shop: Shop) -> None:
    product = await shop.product("Fig", "4.00")
    customer = await shop.saleor.create_customer("ann@example.com", "Ann", "Lee")
    order = await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)], user=customer, paid=True
    )
    await shop.drain()
    listed = (await shop.api("GET", "/api/ecommerce/records?kind=order")).json()
    (row,) = listed
    assert row["subject"] == f"Order #{order.number} — customer ann@example.com"
    assert row["reason"] is None and row["action"] is None and row["details"] is None


async def test_tracking_into_another_audience_leaves_the_missing_store_behind(shop: Shop) -> None:
    await delete_store_in_mailchimp(shop)
    await shop.api("POST", "/api/ecommerce/stores/check")
    assert channel(await page(shop))["store_status"] == "missing"
    created = await shop.mailchimp.call(
        shop.account, "POST", "/lists", body=list_body("Second list")
    )
    other = str(created.body["id"])
    response = await shop.api(
        "PUT", f"/api/ecommerce/channels/{CHANNEL}", {"tracked": True, "list_id": other}
    )
    assert response.status_code == 200, response.text
    assert channel(response.json())["store_status"] == "creating"
    await shop.drain()
    card = channel(await page(shop))
    assert card["store_status"] == "ready" and card["list_id"] == other


async def test_the_check_with_revoked_access_marks_the_connection_and_still_answers(
    shop: Shop,
) -> None:
    shop.mailchimp.revoke(shop.account)
    checked = await shop.api("POST", "/api/ecommerce/stores/check")
    assert checked.status_code == 200, checked.text
    body = checked.json()
    assert body["connected"] is False
    assert channel(body)["store_status"] == "ready"  # unknown, so not claimed missing
    assert channel(body)["next_action"]["code"] == "connect_mailchimp"
    assert channel(body)["next_action"]["label"] == "Reconnect Mailchimp"
    connection = (await shop.api("GET", "/api/connection")).json()
    assert connection["status"] == "revoked"


async def test_the_check_survives_mailchimp_being_down(shop: Shop) -> None:
    shop.mailchimp.faults.fail_next(10, 503, account=shop.account)
    checked = await shop.api("POST", "/api/ecommerce/stores/check")
    assert checked.status_code == 200, checked.text
    assert channel(checked.json())["store_status"] == "ready"


async def test_a_channel_in_a_currency_mailchimp_refuses_cannot_be_tracked(shop: Shop) -> None:
    """Saleor takes any three letters as a channel's currency; Mailchimp only current ISO 4217
    codes (its store would be refused, and no store's currency can change): said when the admin
    tracks the channel, not found later in a failed store."""
    await shop.saleor.add_channel("by", "Belarus", "BYR", default_country="BY")
    response = await shop.api(
        "PUT", "/api/ecommerce/channels/by", {"tracked": True, "list_id": shop.list_id}
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "CURRENCY_NOT_ACCEPTED"
    assert "Belarus uses 'BYR'" in error["message"]
    by = channel(await page(shop), "by")
    assert (by["tracked"], by["store_status"]) == (False, "not_created")
    # The page says so before the admin tries: no "Track" for it.
    assert by["next_action"]["code"] == "none"
    assert "Belarus uses 'BYR'" in by["next_action"]["hint"]
    await shop.drain()
    assert [s.currency_code for s in shop.mailchimp.stores(shop.account)] == ["USD"]


async def test_a_store_mailchimp_holds_in_a_since_withdrawn_currency_can_be_tracked_again(
    shop: Shop,
) -> None:
    """Bulgaria's lev left ISO 4217's current list with the euro (2026); a store Mailchimp
    created in it before keeps its currency, so tracking the channel again into the same
    audience is no new store and is not refused. Another audience would be."""
    await shop.saleor.add_channel("bg", "Bulgaria", "BGN", default_country="BG")
    async with shop.services.db.transaction() as session:
        installation = await InstallationRepository(session).get_by_api_url(SALEOR_API_URL)
        assert installation is not None
        session.add(
            MailchimpStore(
                installation_id=installation.id,
                channel_slug="bg",
                store_id="saleor-bg-2025",
                list_id=shop.list_id,
                currency_code="BGN",
                name="Bulgaria",
                tracked=False,
            )
        )
    assert channel(await page(shop), "bg")["next_action"]["code"] == "track"
    again = await shop.api(
        "PUT", "/api/ecommerce/channels/bg", {"tracked": True, "list_id": shop.list_id}
    )
    assert again.status_code == 200, again.text
    untrack = await shop.api("PUT", "/api/ecommerce/channels/bg", {"tracked": False})
    assert untrack.status_code == 200, untrack.text
    other = await shop.mailchimp.call(shop.account, "POST", "/lists", body=list_body("Other"))
    moved = await shop.api(
        "PUT", "/api/ecommerce/channels/bg", {"tracked": True, "list_id": other.body["id"]}
    )
    assert moved.status_code == 400 and moved.json()["error"]["code"] == "CURRENCY_NOT_ACCEPTED"
