"""Wording a store admin met in the dashboard, in Chromium: the Reports page's empty state after
a collection that found nothing (not "press Sync engagement now" again), its revenue per
recipient in the currency's usual decimals and its date ranges with their years; the
abandoned-cart health's site-script hint in plain instructions (no repository path); and the
initial sync's "not sent" numbers in words that fit each kind of record.

The server's answers are shaped by the test (Playwright routes) where the state is hard to
reach otherwise: the page only shows them."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import LiveSite
from tests.browser.pages import open_page

pytestmark = pytest.mark.browser

FINISHED = "2026-12-06T06:20:10Z"
CAMPAIGN: dict[str, Any] = {
    "campaign_id": "wording-1",
    "list_id": "news",
    "list_name": "Store news",
    "title": "Winter sale",
    "subject": "Winter sale",
    "sent_at": "2026-11-20T09:00:00Z",
    "recipients": 100,
    "opens": 50,
    "unique_opens": 40,
    "open_rate": 0.4,
    "clicks": 10,
    "unique_clicks": 8,
    "click_rate": 0.08,
    "unsubscribes": 0,
    "bounces": 0,
    "orders": 1,
    "revenue": 74.09,
    "currency": "USD",
    "revenue_per_recipient": 0.7409,
    "collecting": False,
}


def _run(state: str) -> dict[str, Any]:
    return {
        "activity_interval_days": 14,
        "schedule_minutes": 60,
        "state": state,
        "last_started_at": FINISHED if state != "never" else None,
        "last_finished_at": FINISHED if state != "never" else None,
        "next_run_at": None,
        "campaigns_total": 0,
        "campaigns_done": 0,
        "members_seen": 3 if state != "never" else 0,
        "last_error": None,
    }


def _report(url: str, campaigns: list[dict[str, Any]], state: str) -> dict[str, Any]:
    query = parse_qs(urlparse(url).query)
    per_recipient = [{"currency": "USD", "amount": 0.7409}] if campaigns else []
    return {
        "sent_from": query.get("sent_from", [None])[0],
        "sent_to": query.get("sent_to", [None])[0],
        "sort": query.get("sort", ["sent_at"])[0],
        "direction": query.get("direction", ["desc"])[0],
        "campaigns": campaigns,
        "totals": {
            "campaigns": len(campaigns),
            "recipients": 100 if campaigns else 0,
            "opens": 0,
            "unique_opens": 0,
            "clicks": 0,
            "unique_clicks": 0,
            "open_rate": 0.4 if campaigns else None,
            "click_rate": 0.08 if campaigns else None,
            "unsubscribes": 0,
            "bounces": 0,
            "orders": 1 if campaigns else 0,
            "revenue": [{"currency": "USD", "amount": 74.09}] if campaigns else [],
            "revenue_per_recipient": per_recipient,
        },
        "top_revenue": [],
        "activity": [],
        "split": {
            "engaged_customers": 0,
            "unengaged_customers": 0,
            "engaged_guests": 0,
            "unengaged_guests": 0,
        },
        "run": _run(state),
    }


def test_reports_after_a_collection_that_found_nothing_says_so(
    page: Page, live_site: LiveSite
) -> None:
    state = {"run": "never"}

    def report(route: Route) -> None:
        route.fulfill(json=_report(route.request.url, [], state["run"]))

    def sync(route: Route) -> None:
        state["run"] = "idle"  # collected at once: Mailchimp has no campaign
        route.fulfill(status=202, json=_run("idle"))

    page.route("**/api/engagement/campaigns*", report)
    page.route("**/api/engagement/sync", sync)
    app = open_page(page, live_site, "Reports")
    empty = app.locator("#empty")
    expect(empty).to_be_visible()
    expect(empty).to_contain_text("No campaign results yet")
    expect(empty).to_contain_text("press Sync engagement now")

    app.get_by_role("button", name="Sync engagement now").click()
    expect(app.locator("#run-state")).to_have_text("Up to date")
    expect(empty).to_contain_text("No campaigns to show yet")
    expect(empty).to_contain_text(
        "found no campaign sent to the store's audiences, so there is nothing to show yet"
    )
    expect(empty).not_to_contain_text("Sync engagement now")
    expect(empty).not_to_contain_text("Nothing has been collected")


def test_reports_money_per_recipient_and_ranges_read_naturally(
    page: Page, live_site: LiveSite
) -> None:
    def report(route: Route) -> None:
        query = parse_qs(urlparse(route.request.url).query)
        ranged = "sent_from" in query or "sent_to" in query
        route.fulfill(json=_report(route.request.url, [] if ranged else [CAMPAIGN], "idle"))

    page.route("**/api/engagement/campaigns*", report)
    app = open_page(page, live_site, "Reports")
    row = app.locator("#campaign-rows tr").first
    rpr = row.locator('td[data-label="Revenue per recipient"]')
    expect(rpr).to_have_text("US$0.74")  # en-GB: the currency's two decimals, not four
    expect(app.locator("#totals")).to_contain_text("US$0.74")
    expect(app.locator("#totals")).not_to_contain_text("0.7409")

    app.get_by_label("Sent from").fill("2025-01-01")
    app.get_by_label("Sent until").fill("2025-02-01")
    expect(app.locator("#campaign-rows td.empty")).to_have_text(
        "No campaign was sent from 1 Jan 2025 until 1 Feb 2025."
    )


def test_the_site_script_hint_gives_instructions_not_a_repository_path(
    page: Page, live_site: LiveSite
) -> None:
    health = {
        "consent_rule": "Customers must opt in.",
        "consent_source": "https://mailchimp.com/help/create-an-abandoned-cart-series/",
        "channels": [
            {
                "channel": "wording-channel",
                "name": "Wording Channel",
                "state": "healthy",
                "problems": [],
                "carts_sent_last_24h": 0,
                "carts_quarantined": 0,
                "checked_at": None,
                "consent_note": None,
                "script_url": "https://chimpstatic.com/mcjs-connected/js/users/x/y.js",
                "script_verified_at": None,
            }
        ],
    }
    page.route(
        "**/api/ecommerce/health**",
        lambda route: route.fulfill(content_type="application/json", body=json.dumps(health)),
    )
    app = open_page(page, live_site, "E-commerce")
    card = app.locator('[data-health-channel="wording-channel"]')
    status = card.locator("#site-script-status-wording-channel")
    expect(status).to_have_text(
        "Not verified on the storefront yet. Load this script on every page of the storefront "
        "(whoever builds the storefront adds it to the head of each page), then press Verify "
        "the site script."
    )
    expect(card).not_to_contain_text("docs/")
    expect(card).not_to_contain_text(".md")


# The parts of an initial-sync section (initial-sync.js) that showRun fills.
KIND_ROW = (
    '<div class="sync-kind" data-kind="{}"><progress></progress><p class="sync-numbers"></p></div>'
)
SCAFFOLD = (
    '<section id="box"><span data-sync-badge></span><p data-sync-status></p>'
    "<div data-sync-error><p></p></div>"
    '<div class="sync-kinds">'
    + "".join(KIND_ROW.format(kind) for kind in ("product", "customer", "order"))
    + "</div><button data-sync-start></button><button data-sync-cancel></button>"
    '<div class="sync-form"><div class="field"></div></div><p class="field-hint"></p></section>'
)


def test_initial_sync_numbers_say_what_was_not_sent_per_kind(
    page: Page, live_site: LiveSite
) -> None:
    page.goto(f"{live_site.url}/static/initial-sync-progress.js")  # the app's origin
    page.evaluate("html => { document.body.innerHTML = html; }", SCAFFOLD)

    def kind(name: str) -> dict[str, Any]:
        return {
            "kind": name,
            "total": 5,
            "sent": 2,
            "confirmed": 2,
            "quarantined": 0,
            "skipped": 3,
            "retried": 0,
            "state": "done",
            "state_label": None,
            "rate_per_second": None,
            "eta_seconds": None,
        }

    run = {
        "status": "succeeded",
        "started_at": FINISHED,
        "finished_at": FINISHED,
        "orders_since": None,
        "error": None,
        "batches_in_flight": 0,
        "summary": None,
        "kinds": [kind("product"), kind("customer"), kind("order")],
    }
    page.evaluate(
        """async run => {
          const m = await import('/static/initial-sync-progress.js');
          m.showRun(document.getElementById('box'), run);
        }""",
        run,
    )

    def numbers(name: str) -> str:
        return page.locator(f'.sync-kind[data-kind="{name}"] .sync-numbers').inner_text()

    assert "3 unchanged or not sold here" in numbers("product")
    assert "3 already up to date in Mailchimp or erased" in numbers("customer")
    assert "not sold here" not in numbers("customer")
    assert (
        "3 already up to date in Mailchimp, placed before the chosen day or from another channel"
        in numbers("order")
    )
