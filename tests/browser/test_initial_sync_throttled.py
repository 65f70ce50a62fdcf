"""The initial sync on the E-commerce page while Mailchimp asked the app to slow down (its 429,
e.g. the account's 500 pending batches): the step waits the time Mailchimp asked for, up to an
hour, and the sync goes on by itself. The page says so in plain words, with when it goes on,
instead of a running sync that seems stuck; the notice goes once the sync moves on. A step the
worker retries after failed runs says that instead (its own notice).

The server's answers are the test's own (a 429 with its Retry-After cannot be timed against the
live stack's worker); what the server answers while throttled is checked in
tests/initial_sync/test_throttled_status.py. The E-commerce answer shows its first channel
tracked, Mailchimp connected, as tests/browser/test_initial_sync_offline.py does."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import FrameLocator, Locator, Page, Route, expect

from addon.db.types import utcnow
from tests.browser.conftest import LiveSite, shot
from tests.browser.pages import app_api, app_frame, check_a11y, connect_demo, open_page
from tests.browser.test_initial_sync_offline import succeeded_run
from tests.browser.test_subscription_pages import switch_theme

pytestmark = pytest.mark.browser

SLOW_DOWN = "Mailchimp asked the app to slow down"
INITIAL_SYNC = re.compile(r"/api/ecommerce/channels/[^/]+/initial-sync$")


def _running(slug: str) -> dict[str, Any]:
    answer = succeeded_run(slug) | {"status": "running", "phase": "products"}
    return answer | {"finished_at": None, "summary": "Sending products", "retrying": None}


class Stubbed:
    """The E-commerce page with its first channel tracked and connected, and that channel's
    initial sync answered from `answer` (changed by the test between polls)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.slug = ""
        self.answer: dict[str, Any] = {}

    def ecommerce(self, route: Route) -> None:
        response = route.fetch()
        if not response.ok:
            # A failed store check is the page's to handle: it reads GET /api/ecommerce next.
            route.fulfill(response=response)
            return
        data = response.json()
        channel = data["channels"][0]
        if not self.answer:
            self.slug = channel["slug"]
            self.answer = _running(self.slug)
        data["settings"]["tracking_enabled"] = True
        data["connected"] = True
        channel.update(tracked=True, store_id="sync-throttled", store_status="ready")
        channel.update(store_message=None, store_error=None, list_id=channel["list_id"] or "x")
        channel["next_action"] = {
            "code": "none",
            "hint": "New changes are sent to Mailchimp as they happen.",
        }
        route.fulfill(response=response, body=json.dumps(data))

    def initial_sync(self, route: Route) -> None:
        if route.request.method != "GET":
            route.fulfill(status=409, json={"detail": "not in this test"})
            return
        route.fulfill(json=self.answer)

    def polled(self, times: int) -> None:
        """Until the page asked `times` more times. It asks again only after drawing the
        answer before, so two asks mean an answer was drawn in between."""
        for _ in range(times):
            with self.page.expect_request(
                lambda r: r.method == "GET" and bool(INITIAL_SYNC.search(r.url))
            ):
                pass


def _open(page: Page, live_site: LiveSite) -> tuple[Stubbed, FrameLocator, Locator]:
    with app_api(live_site) as api:
        connect_demo(api, live_site)
    stub = Stubbed(page)
    page.route(re.compile(r"/api/ecommerce(/stores/check)?$"), stub.ecommerce)
    page.route(INITIAL_SYNC, stub.initial_sync)
    app = open_page(page, live_site, "E-commerce")
    # The tab in front: Chromium throttles a background tab's timers (the page's polls).
    page.bring_to_front()
    card = app.locator(f'[data-channel="{stub.slug}"]')
    sync = card.get_by_role("region", name=re.compile("^Initial sync"))
    expect(sync.locator(".badge")).to_have_text("Running")
    return stub, app, sync


def _format_time(page: Page, value: str) -> str:
    """The time as the page writes every time (the admin's locale and time zone)."""
    written: str = app_frame(page).evaluate(
        "(value) => import('/static/bridge.js').then((m) => m.formatTime(value))", value
    )
    return written


def test_a_wait_mailchimp_asked_for_is_said_with_when_the_sync_goes_on(
    page: Page, live_site: LiveSite, artifacts: Path
) -> None:
    stub, app, sync = _open(page, live_site)
    notice = sync.get_by_role("status").filter(has_text=SLOW_DOWN)
    expect(notice).to_have_count(0)  # running, not throttled: nothing to say

    wake = (utcnow() + timedelta(minutes=40)).isoformat()
    stub.answer = stub.answer | {"throttled_until": wake}
    when = _format_time(page, wake)
    expect(notice).to_have_text(
        re.compile(
            rf"Waiting for Mailchimp\s*{SLOW_DOWN}; the sync goes on at {re.escape(when)} by "
            r"itself\.$"
        )
    )
    # Nothing technical to show: no Details toggle, and not the retry's words.
    expect(notice.locator("details")).to_have_count(0)
    expect(sync.get_by_role("status").filter(has_text="Waiting to try again")).to_have_count(0)
    # A live region: an unchanged answer leaves its text alone (not re-read every second).
    notice.evaluate(
        """(node) => {
            window.__throttledChanges = 0;
            new MutationObserver((changes) => { window.__throttledChanges += changes.length; })
                .observe(node, { subtree: true, childList: true, characterData: true });
        }"""
    )
    stub.polled(2)
    assert app_frame(page).evaluate("() => window.__throttledChanges") == 0
    check_a11y(app_frame(page), "the initial sync waiting for Mailchimp")
    shot(page, artifacts, "initial-sync-throttled-light", height=1700)
    switch_theme(page, app, "dark")
    check_a11y(app_frame(page), "the initial sync waiting for Mailchimp, dark")
    shot(page, artifacts, "initial-sync-throttled-dark", height=1700)
    switch_theme(page, app, "light")

    # The sync moved on: the next poll's answer has no wait, and the notice goes.
    stub.answer = stub.answer | {"throttled_until": None}
    expect(notice).to_have_count(0)
    expect(sync.locator(".badge")).to_have_text("Running")


def test_a_wait_whose_time_passed_and_a_retry_are_said_as_such(
    page: Page, live_site: LiveSite
) -> None:
    """The wait's end has passed (the step runs, or waits for a free worker): no past time is
    offered. A failed step's retry is said by its own notice, never as a throttle."""
    stub, _, sync = _open(page, live_site)
    notice = sync.get_by_role("status").filter(has_text=SLOW_DOWN)
    stub.answer = stub.answer | {"throttled_until": "2020-01-01T00:00:00Z"}
    expect(notice).to_contain_text(f"{SLOW_DOWN}; the wait is over and the sync goes on by itself.")
    retry = {
        "attempts": 1,
        "retry_at": "2020-01-01T00:00:00Z",
        "last_error": "Saleor did not answer (502 Bad Gateway).",
    }
    stub.answer = stub.answer | {"retrying": retry}
    expect(sync.get_by_role("status").filter(has_text="Waiting to try again")).to_be_visible()
    expect(notice).to_have_count(0)
    # An ended sync waits for nothing, whatever an answer says.
    stub.answer = succeeded_run(stub.slug) | {"throttled_until": "2100-01-01T00:00:00Z"}
    expect(sync.locator(".badge")).to_have_text("Succeeded")
    expect(notice).to_have_count(0)
