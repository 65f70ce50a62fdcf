"""The initial sync on the E-commerce page while Mailchimp is not connected: a sync could only
fail, so its Start ("Run the initial sync again" after one succeeded) is turned off, saying why
beside it with a link to the Connection page, and pressing it sends nothing. Connected again,
it is on. The page learns the connection from the E-commerce answer (`connected`): the app's
real answer goes through with the connection reset and a channel tracked (as a reset leaves a
tracked channel), the channel's last sync a succeeded one."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import LiveSite, shot
from tests.browser.pages import app_api, app_frame, check_a11y, connect_demo, open_page

pytestmark = pytest.mark.browser

AGAIN = "Run the initial sync again"
REASON = "Connect Mailchimp on the Connection page"
DONE = "2026-11-02T10:00:00Z"


def succeeded_run(slug: str) -> dict[str, Any]:
    kinds = [
        {
            "kind": kind,
            "total": 3,
            "read": 3,
            "skipped": 0,
            "sent": 3,
            "confirmed": 3,
            "quarantined": 0,
            "retried": 0,
            "rate_per_second": None,
            "eta_seconds": None,
            "state": "done",
            "state_label": "Done",
        }
        for kind in ("product", "customer", "order")
    ]
    return {
        "id": 1,
        "channel": slug,
        "status": "succeeded",
        "phase": "done",
        "orders_since": None,
        "started_at": DONE,
        "finished_at": DONE,
        "error": None,
        "batches_in_flight": 0,
        "kinds": kinds,
        "summary": "Every kind was sent",
    }


def test_start_is_off_with_the_reason_while_mailchimp_is_disconnected(
    page: Page, live_site: LiveSite, artifacts: Path
) -> None:
    with app_api(live_site) as api:
        connect_demo(api, live_site)
    state = {"connected": False, "slug": ""}
    started: list[str] = []

    def ecommerce(route: Route) -> None:
        response = route.fetch()
        if not response.ok:
            # A failed store check (Saleor slow to answer under load, say) is the page's to
            # handle: it warns and reads GET /api/ecommerce, which comes here too.
            route.fulfill(response=response)
            return
        data = response.json()
        channel = data["channels"][0]
        state["slug"] = channel["slug"]
        data["settings"]["tracking_enabled"] = True
        channel.update(tracked=True, store_id="sync-offline", store_status="ready")
        channel.update(store_message=None, store_error=None, list_id=channel["list_id"] or "x")
        data["connected"] = state["connected"]
        channel["next_action"] = (
            {"code": "none", "hint": "New changes are sent to Mailchimp as they happen."}
            if state["connected"]
            else {
                "code": "connect_mailchimp",
                "label": "Connect Mailchimp",
                "hint": "Mailchimp is not connected, so nothing of this channel is sent.",
            }
        )
        route.fulfill(response=response, body=json.dumps(data))

    def initial_sync(route: Route) -> None:
        if route.request.method != "GET":
            started.append(route.request.method)
            route.fulfill(status=409, json={"detail": "not connected"})
            return
        route.fulfill(json=succeeded_run(state["slug"]))

    page.route(re.compile(r"/api/ecommerce(/stores/check)?$"), ecommerce)
    page.route(re.compile(r"/api/ecommerce/channels/[^/]+/initial-sync$"), initial_sync)
    app = open_page(page, live_site, "E-commerce")
    card = app.locator(f'[data-channel="{state["slug"]}"]')
    sync = card.get_by_role("region", name=re.compile("^Initial sync"))
    expect(sync.locator(".badge")).to_have_text("Succeeded")
    again = sync.get_by_role("button", name=AGAIN)
    expect(again).to_be_visible()
    # Off, still reachable by keyboard, and saying why beside it.
    expect(again).to_be_disabled()
    expect(again).to_have_attribute("aria-disabled", "true")
    expect(again).to_have_accessible_description(re.compile(REASON + " first"))
    link = sync.get_by_role("link", name=REASON)
    expect(link).to_be_visible()
    expect(link).to_have_attribute("href", re.compile(r"^/app/\?"))
    # The card's own next step says the same.
    expect(card.get_by_role("link", name="Connect Mailchimp", exact=True)).to_be_visible()
    # Pressed anyway: nothing is asked of the server.
    again.click(force=True)
    # A request the click had sent would reach the route before the refresh's own, sent after.
    with page.expect_response(re.compile(r"/api/ecommerce$")):
        app.get_by_role("button", name="Refresh", exact=True).click()
    assert started == [], started
    expect(sync.get_by_role("alert")).to_be_hidden()
    check_a11y(app_frame(page), "the E-commerce page with Mailchimp disconnected")
    shot(page, artifacts, "initial-sync-disconnected-light", height=1700)

    # Connected again: the button is on, without the reason.
    state["connected"] = True
    app.get_by_role("button", name="Refresh", exact=True).click()
    expect(sync.get_by_role("link", name=REASON)).to_have_count(0)
    expect(sync.get_by_role("button", name=AGAIN)).to_be_enabled()
    expect(sync.get_by_role("button", name=AGAIN)).not_to_have_attribute("aria-disabled", "true")
