"""Can abandoned-cart e-mails fire? The health panel's states (carts not flowing, store
syncing, no automation, healthy) from the app's state and Mailchimp's store, and the Activity
page listing exactly the same problems. Mailchimp requests and answers are contract-checked."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from addon.clock import ManualClock
from addon.ecommerce.cart_health import AUTOMATIONS_URL, CONSENT_SOURCE
from addon.ecommerce.cart_models import StoreCheck
from sandboxes.mailchimp import sites
from sandboxes.saleor.store_checkouts import LineSpec
from tests.conftest import RecordingTransport
from tests.ecommerce.conftest import CHANNEL, Shop
from tests.ecommerce.test_site_script import connections_during
from tests.initial_sync.conftest import finish, run_jobs, start


@pytest.fixture
def quick(shop: Shop) -> Shop:
    updates = {"initial_sync_poll_base_seconds": 0.0, "initial_sync_poll_max_seconds": 0.0}
    shop.services.settings = shop.services.settings.model_copy(update=updates)
    return shop


async def _health(shop: Shop, check: bool = True) -> dict[str, Any]:
    if check:
        response = await shop.api("POST", "/api/ecommerce/health/check")
    else:
        response = await shop.api("GET", "/api/ecommerce/health")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["consent_source"] == CONSENT_SOURCE
    assert "only receive the first email" in body["consent_rule"]
    [channel] = body["channels"]
    assert channel["channel"] == CHANNEL
    return channel


async def _activity(shop: Shop) -> list[dict[str, Any]]:
    response = await shop.api("GET", "/api/activity")
    assert response.status_code == 200, response.text
    return list(response.json()["cart_health"])


async def _agree(shop: Shop, channel: dict[str, Any]) -> None:
    """The Activity page lists the channel exactly when it has a problem, in the same words."""
    listed = await _activity(shop)
    if channel["problems"]:
        assert [c["state"] for c in listed] == [channel["state"]]
        assert listed[0]["problems"] == channel["problems"]
    else:
        assert listed == []


def _automation(shop: Shop, status: Any) -> None:
    sites.set_abandoned_cart(shop.mailchimp, shop.account.id, shop.store_id, status=status)


async def test_each_state_with_its_fix_and_the_activity_page_agrees(quick: Shop) -> None:
    shop = quick
    # No initial sync yet: the channel card's own action is the fix.
    channel = await _health(shop)
    assert channel["state"] == "carts_not_flowing"
    assert channel["problems"][0]["action"]["code"] == "start_initial_sync"
    assert channel["consent_note"] is None  # the audience subscribes consenting shoppers
    await _agree(shop, channel)

    # The initial sync marks the store as syncing: Mailchimp holds the automations.
    await start(shop)
    await run_jobs(shop, 1)
    assert shop.mailchimp.stores(shop.account)[0].is_syncing is True
    channel = await _health(shop)
    assert channel["state"] == "store_syncing"
    assert channel["is_syncing"] is True
    assert channel["problems"][0]["action"] is None  # it is running: nothing to press
    await _agree(shop, channel)

    await finish(shop)
    channel = await _health(shop)
    assert channel["state"] == "no_automation"
    [problem] = channel["problems"]
    assert problem["action"] == {
        "code": "open_url",
        "label": "Open Mailchimp's automation builder",
        "url": AUTOMATIONS_URL,
    }
    await _agree(shop, channel)

    _automation(shop, "paused")
    channel = await _health(shop)
    assert channel["state"] == "no_automation"
    assert "paused" in channel["problems"][0]["message"]
    await _agree(shop, channel)

    _automation(shop, "sending")
    channel = await _health(shop)
    assert channel["state"] == "healthy" and channel["problems"] == []
    assert channel["automation_status"] == "sending"
    await _agree(shop, channel)

    # Turning carts off shows at once, without asking Mailchimp again.
    response = await shop.api(
        "PATCH", "/api/ecommerce/settings", {"abandoned_carts_enabled": False}
    )
    assert response.status_code == 200
    channel = await _health(shop, check=False)
    assert channel["state"] == "carts_not_flowing"
    assert channel["problems"][0]["action"]["code"] == "enable_carts"
    await _agree(shop, channel)


async def test_carts_without_a_checkout_url_are_not_healthy(quick: Shop) -> None:
    """Mailchimp's cart `checkout_url`: "This parameter is required for Abandoned Cart
    automations." With no checkout URL set, carts go without it: the panel says so."""
    shop = quick
    await start(shop)
    await finish(shop)
    _automation(shop, "sending")
    assert (await _health(shop))["state"] == "healthy"
    cleared = {"checkout_url_template": None}
    assert (await shop.api("PATCH", "/api/ecommerce/settings", cleared)).status_code == 200
    fig = await shop.product("Fig", "2.00")
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 1)], email="ann@example.com"
    )
    await shop.drain()
    assert not shop.carts()[str(checkout.token)].checkout_url
    channel = await _health(shop, check=False)
    assert channel["state"] == "no_checkout_url"
    [problem] = channel["problems"]
    assert "set the checkout URL" in problem["message"]
    assert problem["action"] == {
        "code": "set_checkout_url",
        "label": "Set the checkout URL",
        "url": None,
    }
    await _agree(shop, channel)
    # Carts turned off say that first: no cart goes at all.
    off = {"abandoned_carts_enabled": False}
    assert (await shop.api("PATCH", "/api/ecommerce/settings", off)).status_code == 200
    assert (await _health(shop, check=False))["state"] == "carts_not_flowing"


async def test_never_healthy_before_mailchimp_was_asked(quick: Shop) -> None:
    await start(quick)
    await finish(quick)
    channel = await _health(quick, check=False)
    assert channel["state"] == "not_checked" and channel["checked_at"] is None
    _automation(quick, "sending")
    assert (await _health(quick))["state"] == "healthy"


async def test_carts_sent_in_the_last_day_are_counted(quick: Shop, clock: ManualClock) -> None:
    product = await quick.product("Plum", "3.00")
    await quick.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], email="plum@example.com"
    )
    await quick.drain()
    assert (await _health(quick, check=False))["carts_sent_last_24h"] == 1
    clock.advance(25 * 3600)
    assert (await _health(quick, check=False))["carts_sent_last_24h"] == 0


async def test_a_store_deleted_in_mailchimp_is_not_healthy(quick: Shop) -> None:
    await start(quick)
    await finish(quick)
    _automation(quick, "sending")
    assert (await _health(quick))["state"] == "healthy"
    await quick.mailchimp.call(quick.account, "DELETE", f"/ecommerce/stores/{quick.store_id}")
    channel = await _health(quick)
    assert channel["state"] == "carts_not_flowing"
    assert channel["problems"][0]["action"]["code"] == "recreate_store"
    await _agree(quick, channel)


async def test_an_audience_asking_for_confirmation_limits_carts_to_one_email(shop: Shop) -> None:
    body = {"active_list_ids": [shop.list_id], "double_optin": "always"}
    assert (await shop.api("PUT", "/api/audiences/settings", body)).status_code == 200
    note = (await _health(shop, check=False))["consent_note"]
    assert note is not None and "only the first e-mail" in note


async def test_no_database_connection_is_held_while_mailchimp_answers(
    shop: Shop, outbound: RecordingTransport, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dashboard's request ends its transaction (the dashboard check's) before the routes
    ask Mailchimp: on SQLite it would hold the write lock, on PostgreSQL a pooled connection."""
    reads = connections_during(shop, outbound, monkeypatch, f"/ecommerce/stores/{shop.store_id}")
    assert (await _health(shop))["checked_at"] is not None
    assert reads == [0]
    sites.set_script_installed(shop.mailchimp, shop.account.id, shop.store_id)
    verifies = connections_during(shop, outbound, monkeypatch, "/verify-script-installation")
    verified = await shop.api("POST", f"/api/ecommerce/channels/{CHANNEL}/site-script/verify")
    assert verified.status_code == 200, verified.text
    assert verified.json()["channels"][0]["script_verified_at"] is not None
    assert reads == [0, 0] and verifies == [0]  # verifying checks the store first


async def test_concurrent_checks_record_one_answer(shop: Shop) -> None:
    """Two checks answered at once both write the channel's check: the second updates the
    row the first inserted (no unique-key error)."""
    answers = await asyncio.gather(
        *(shop.api("POST", "/api/ecommerce/health/check") for _ in range(2))
    )
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    async with shop.services.db.session() as session:
        count = await session.scalar(select(func.count()).select_from(StoreCheck))
    assert count == 1
