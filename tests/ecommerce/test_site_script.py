"""Mailchimp's site script for a headless storefront: served by the public storefront API
(cached, CORS-limited), kept current when Mailchimp changes it, and verified from the
E-commerce page. Mailchimp requests and answers are contract-checked."""

from __future__ import annotations

import httpx
import pytest

from addon.clock import ManualClock
from sandboxes.mailchimp import sites
from tests.ecommerce.conftest import CHANNEL, Shop

ORIGIN = "https://shop.grocer.example"


@pytest.fixture(autouse=True)
async def storefront_origin(shop: Shop, clock: ManualClock) -> None:
    del clock  # the cache ages on the test's clock
    body = {"active_list_ids": [shop.list_id], "allowed_origins": [ORIGIN]}
    assert (await shop.api("PUT", "/api/audiences/settings", body)).status_code == 200


async def _script(shop: Shop, origin: str = ORIGIN, channel: str = CHANNEL) -> httpx.Response:
    return await shop.client.get(
        "/api/storefront/site-script",
        params={"saleor_api_url": shop.saleor.api_url, "channel": channel},
        headers={"Origin": origin},
    )


def _store_reads(shop: Shop) -> int:
    return sum(
        1
        for r in shop.mailchimp.requests
        if r.method == "GET" and r.path == f"/ecommerce/stores/{shop.store_id}"
    )


async def test_served_cached_and_kept_current(shop: Shop, clock: ManualClock) -> None:
    [store] = shop.mailchimp.stores(shop.account)
    site = sites.site(shop.mailchimp, shop.account.id, shop.store_id)
    assert site is not None
    served = await _script(shop)
    assert served.status_code == 200, served.text
    assert served.json()["url"] == site.script_url
    assert site.script_url in served.json()["fragment"]
    max_age = int(shop.services.settings.site_script_cache_seconds)
    assert served.headers["Cache-Control"] == f"public, max-age={max_age}"
    assert served.headers["Access-Control-Allow-Origin"] == ORIGIN
    reads = _store_reads(shop)
    assert (await _script(shop)).json() == served.json()
    assert _store_reads(shop) == reads  # from the cache: Mailchimp is not asked again

    new_url = sites.change_site_script(shop.mailchimp, shop.account.id, store.id)
    clock.advance(max_age + 1)
    current = await _script(shop)
    assert current.json()["url"] == new_url
    assert _store_reads(shop) == reads + 1


async def test_cors_and_unknown_channels(shop: Shop) -> None:
    refused = await _script(shop, origin="https://evil.example")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "ORIGIN_NOT_ALLOWED"
    missing = await _script(shop, channel="nope")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NO_SITE_SCRIPT"
    assert missing.headers["Access-Control-Allow-Origin"] == ORIGIN  # readable by the browser
    assert (await _script(shop)).status_code == 200
    untrack = await shop.api("PUT", f"/api/ecommerce/channels/{CHANNEL}", {"tracked": False})
    assert untrack.status_code == 200
    assert (await _script(shop)).status_code == 404  # not the untracked store's old script


async def test_verified_from_the_ecommerce_page(shop: Shop, clock: ManualClock) -> None:
    path = f"/api/ecommerce/channels/{CHANNEL}/site-script/verify"
    refused = await shop.api("POST", path)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["code"] == "SITE_SCRIPT_NOT_FOUND"
    assert "Add the two lines" in refused.json()["error"]["message"]

    sites.set_script_installed(shop.mailchimp, shop.account.id, shop.store_id)
    verified = await shop.api("POST", path)
    assert verified.status_code == 200, verified.text
    [channel] = verified.json()["channels"]
    assert channel["script_verified_at"] is not None
    assert channel["site_id"] == shop.store_id
    assert [r.path for r in shop.mailchimp.requests if r.method == "POST"][-1] == (
        f"/connected-sites/{shop.store_id}/actions/verify-script-installation"
    )

    # Mailchimp changes the script: the old verification no longer counts.
    sites.change_site_script(shop.mailchimp, shop.account.id, shop.store_id)
    checked = await shop.api("POST", "/api/ecommerce/health/check")
    assert checked.json()["channels"][0]["script_verified_at"] is None
