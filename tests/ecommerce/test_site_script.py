"""Mailchimp's site script for a headless storefront: served by the public storefront API
(cached, CORS-limited), kept current when Mailchimp changes it, and verified from the
E-commerce page. Mailchimp requests and answers are contract-checked.

Anonymous storefront traffic must not reach Mailchimp (each call takes one of the account's
concurrency slots the sync workers share) nor hold the database while Mailchimp answers."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from addon.clock import ManualClock
from addon.ecommerce import store_checks
from sandboxes.mailchimp import sites
from tests.conftest import RecordingTransport
from tests.ecommerce.conftest import CHANNEL, Shop

ORIGIN = "https://shop.grocer.example"


@pytest.fixture(autouse=True)
async def storefront_origin(shop: Shop, clock: ManualClock) -> None:
    del clock  # the cache ages on the test's clock
    body = {"active_list_ids": [shop.list_id], "allowed_origins": [ORIGIN]}
    assert (await shop.api("PUT", "/api/audiences/settings", body)).status_code == 200


async def _script(
    shop: Shop, origin: str | None = ORIGIN, channel: str = CHANNEL
) -> httpx.Response:
    """The storefront's request: a browser's (with `origin`) or a server's (None)."""
    return await shop.client.get(
        "/api/storefront/site-script",
        params={"saleor_api_url": shop.saleor.api_url, "channel": channel},
        headers={"Origin": origin} if origin else {},
    )


def connections_during(
    shop: Shop, outbound: RecordingTransport, monkeypatch: pytest.MonkeyPatch, path_end: str
) -> list[int]:
    """How many database connections the app has checked out (its open sessions and
    transactions) as Mailchimp receives each request whose path ends with `path_end`; filled
    in as the requests go out."""
    held: list[int] = []
    pool: Any = shop.services.db.engine.pool
    forward = outbound.handle_async_request

    async def probe(request: httpx.Request) -> httpx.Response:
        if request.url.host == "mailchimp.test" and request.url.path.endswith(path_end):
            held.append(pool.checkedout())
        return await forward(request)

    monkeypatch.setattr(outbound, "handle_async_request", probe)
    return held


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
    clock.advance(100)
    aged = await _script(shop)  # cached by the browser for what is left of the cache age
    assert aged.headers["Cache-Control"] == f"public, max-age={max_age - 100}"

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
    checked = await shop.api("POST", "/api/ecommerce/health/check")  # the same script
    assert checked.json()["channels"][0]["script_verified_at"] == channel["script_verified_at"]

    # Mailchimp changes the script: the old verification no longer counts.
    sites.change_site_script(shop.mailchimp, shop.account.id, shop.store_id)
    checked = await shop.api("POST", "/api/ecommerce/health/check")
    assert checked.json()["channels"][0]["script_verified_at"] is None


def _varies_on_origin(response: httpx.Response) -> bool:
    return "origin" in [v.strip().lower() for v in response.headers.get("vary", "").split(",")]


async def test_every_answer_varies_on_origin(shop: Shop) -> None:
    """A CDN caching the copy a server fetched (no Origin, no CORS header) must not serve it to
    a browser: browsers and servers get `Vary: Origin` alike, errors included."""
    browser = await _script(shop)
    server = await _script(shop, origin=None)
    assert browser.status_code == server.status_code == 200
    assert browser.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "access-control-allow-origin" not in server.headers
    refused = await _script(shop, origin="https://evil.example")
    missing = await _script(shop, origin=None, channel="nope")
    assert (refused.status_code, missing.status_code) == (403, 404)
    for answer in (browser, server, refused, missing):
        assert _varies_on_origin(answer), answer.headers


async def test_a_failing_mailchimp_is_asked_once_per_back_off(
    shop: Shop, clock: ManualClock
) -> None:
    served = await _script(shop)
    assert served.status_code == 200, served.text
    reads = _store_reads(shop)
    # One attempt per check, so that requests count checks (the client's retries would wait
    # for the test's clock to move).
    shop.services.mailchimp.max_attempts = 1
    shop.mailchimp.faults.outage(account=shop.account)
    max_age = shop.services.settings.site_script_cache_seconds
    clock.advance(max_age + 1)

    async def hits(times: int = 3, *, failing: bool = True) -> None:
        for _ in range(times):
            stale = await _script(shop)
            assert stale.status_code == 200 and stale.json() == served.json()  # the last good
            if failing:  # cached only until the app asks again, not for a whole cache age
                retry = int(store_checks.RETRY_AFTER_SECONDS)
                assert stale.headers["Cache-Control"] == f"public, max-age={retry}"

    await hits(5)
    assert _store_reads(shop) == reads + 1  # one check failed; every other hit waited
    first = store_checks.RETRY_AFTER_SECONDS
    clock.advance(first - 1)
    await hits()
    assert _store_reads(shop) == reads + 1
    clock.advance(1)
    await hits()
    assert _store_reads(shop) == reads + 2  # after a minute: asked once, failed again
    clock.advance(2 * first - 1)  # the back-off doubled
    await hits()
    assert _store_reads(shop) == reads + 2
    clock.advance(1)
    await hits()
    assert _store_reads(shop) == reads + 3

    # Mailchimp answers again: the next check (after the back-off) succeeds, and the script is
    # then cached for the cache age again.
    shop.mailchimp.faults.reset(shop.account)
    clock.advance(4 * first)
    await hits(failing=False)
    assert _store_reads(shop) == reads + 4
    clock.advance(max_age - 1)
    await hits(failing=False)
    assert _store_reads(shop) == reads + 4


async def test_concurrent_first_requests_ask_mailchimp_once(shop: Shop) -> None:
    reads = _store_reads(shop)
    answers = await asyncio.gather(*(_script(shop) for _ in range(4)))
    assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
    assert len({a.text for a in answers}) == 1
    assert _store_reads(shop) == reads + 1


async def test_no_database_connection_is_held_while_mailchimp_answers(
    shop: Shop, outbound: RecordingTransport, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = connections_during(shop, outbound, monkeypatch, f"/ecommerce/stores/{shop.store_id}")
    assert (await _script(shop)).status_code == 200
    assert held == [0]
