"""The dashboard around the app's pages in real Chromium, as a store admin uses it: the theme
followed, the token refreshed before it expires, messages answered or ignored, a page that fails
to load, a narrow window, and the Activity page's quarantined and waiting rows. The Connection
page: tests/browser/test_connection_page.py."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from addon.jobs.schemas import ClaimedJob, PermanentFailure
from addon.services import Services
from tests.browser.conftest import LiveSite
from tests.browser.pages import (
    app_frame,
    check_a11y,
    connect_with_key,
    go,
    loaded,
    open_app,
    shot,
    toast,
    token,
)

pytestmark = pytest.mark.browser


def test_retry_a_quarantined_item_on_the_activity_page(
    page: Page, live_site: LiveSite, artifacts: Path
) -> None:
    calls: list[int] = []

    async def flaky(job: ClaimedJob, _: Services) -> None:
        calls.append(job.id)
        if len(calls) == 1:
            raise PermanentFailure("Mailchimp refused the order: the currency is missing.")

    live_site.services.handlers.register("ecommerce.test_order", flaky)
    job_id = live_site.enqueue("ecommerce.test_order", {"order": "T3JkZXI6MQ=="})
    deadline = time.monotonic() + 10
    while not calls and time.monotonic() < deadline:
        time.sleep(0.05)

    app = open_app(page, live_site.dashboard)
    app.get_by_role("link", name="Activity").click()
    expect(app.get_by_role("heading", name="Activity", level=1)).to_be_visible()
    row = app.locator(f'tr[data-job-id="{job_id}"]')
    expect(row).to_contain_text("Quarantined")
    # The record in words and the reason in a sentence (a plain failure needs no Details).
    expect(row.locator(".record-subject")).not_to_be_empty()
    expect(row.locator(".record-reason")).to_have_text(
        "Mailchimp refused the order: the currency is missing."
    )
    expect(app.locator("#quarantine-notice")).to_contain_text("quarantined")
    app.get_by_role("button", name=re.compile(r"^Quarantined")).click()
    # Only quarantined rows, this one among them (other modules may leave theirs).
    rows = app.locator("#activity-rows tr")
    expect(rows.filter(has_not_text="Quarantined")).to_have_count(0)
    expect(row).to_be_visible()
    check_a11y(app_frame(page), "the Activity page with a quarantined row")
    shot(page, artifacts, "activity-quarantined-light")

    retry = row.get_by_role("button", name="Retry", exact=True)
    expect(retry).to_have_attribute("aria-describedby", f"job-{job_id}")
    retry.click()
    toast(page, "Retry scheduled")
    # The rows are drawn again (this one left the quarantined list): the focus is on the
    # table, not dropped to the page.
    expect(app.locator(".table-wrap")).to_be_focused()
    all_filter = app.get_by_role("button", name=re.compile(r"^All"))

    def done() -> bool:
        all_filter.click()
        loaded(app)
        try:
            expect(row).to_contain_text("Done", timeout=500)
        except AssertionError:
            return False
        return True

    deadline = time.monotonic() + 15
    while not done():
        assert time.monotonic() < deadline, "the retried job did not finish"
    expect(row).to_contain_text("Done")
    expect(row.get_by_role("button", name=re.compile("Retry"))).to_have_count(0)
    assert calls == [job_id, job_id]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_page_follows_the_dashboard_theme(
    page: Page, live_site: LiveSite, artifacts: Path, theme: str
) -> None:
    app = open_app(page, live_site.dashboard, theme=theme)
    expect(app.locator("html")).to_have_attribute("data-theme", theme)
    for name in (
        "Connection",
        "Audiences & groups",
        "Subscriptions",
        "E-commerce",
        "Activity",
        "Reports",
    ):
        app.get_by_role("link", name=name, exact=True).click()
        expect(app.get_by_role("link", name=name, exact=True)).to_have_attribute(
            "aria-current", "page"
        )
        expect(app.locator("html")).to_have_attribute("data-theme", theme)
        loaded(app)
        expect(app.locator(".spinner")).to_have_count(0)

    # The switch sends `theme`; the page follows without reloading, links keep it.
    other = "dark" if theme == "light" else "light"
    page.get_by_role("button", name=re.compile("mode")).click()
    expect(app.locator("html")).to_have_attribute("data-theme", other)
    expect(app.get_by_role("link", name="Connection", exact=True)).to_have_attribute(
        "href", re.compile(f"theme={other}")
    )


def test_the_token_is_refreshed_before_it_expires(page: Page, live_site: LiveSite) -> None:
    app = open_app(page, live_site.dashboard, query="token_lifetime=4")
    expect(app.locator("#skeleton")).to_be_hidden()
    frame = app_frame(page)
    first = token(frame)
    page.wait_for_function(
        "window.sandboxDashboard.log.some(e => e.type === 'tokenRefresh')", timeout=8_000
    )
    # Wait until the first token has expired (its own `exp`), not for a guessed time.
    frame.wait_for_function(
        "(t) => Date.now() / 1000 > JSON.parse(atob(t.split('.')[1]"
        ".replace(/-/g, '+').replace(/_/g, '/'))).exp",
        arg=first,
        timeout=10_000,
    )
    refreshed = token(frame)
    # One the dashboard sent (with a 4 s lifetime it may already have minted the next one, not
    # yet delivered: comparing with its current token failed under load).
    sent = page.evaluate(
        "window.sandboxDashboard.log.filter(e => e.direction === 'out'"
        " && e.type === 'tokenRefresh').map(e => e.payload.token)"
    )
    assert refreshed != first and refreshed in sent
    app.get_by_role("link", name="Activity").click()
    expect(app.locator("#activity-rows")).not_to_contain_text("session expired")
    expect(app.locator("#activity-rows tr").first).not_to_contain_text("Loading")


def test_actions_are_answered_and_foreign_messages_ignored(page: Page, live_site: LiveSite) -> None:
    app = open_app(page, live_site.dashboard)
    expect(app.locator("#skeleton")).to_be_hidden()
    frame = app_frame(page)
    log: list[dict[str, Any]] = page.evaluate("window.sandboxDashboard.log")
    incoming = [entry["type"] for entry in log if entry["direction"] == "in"]
    assert "notifyReady" in incoming
    outgoing = [entry for entry in log if entry["direction"] == "out"]
    # The answer to notifyReady may precede the handshake (sent on the frame's load event).
    handshakes = [entry for entry in outgoing if entry["type"] == "handshake"]
    assert handshakes and handshakes[0]["payload"]["version"] == 1
    assert any(e["type"] == "response" and e["payload"]["ok"] for e in outgoing)

    before = token(frame)
    # A message the frame posts to itself is not from the dashboard: ignored.
    frame.evaluate(
        "window.postMessage({type: 'handshake', payload: {token: 'forged', version: 1}}, '*')"
    )
    frame.evaluate("window.postMessage({type: 'theme', payload: {theme: 'dark'}}, '*')")
    page.wait_for_timeout(200)
    assert token(frame) == before
    expect(app.locator("html")).to_have_attribute("data-theme", "light")
    assert "forged" not in frame.content()


def test_outside_the_dashboard_the_page_says_where_to_open_it(
    page: Page, live_site: LiveSite
) -> None:
    page.goto(f"{live_site.url}/app/")
    expect(page.get_by_role("alert")).to_contain_text("This page works inside the Saleor dashboard")


def test_a_page_that_fails_to_load_offers_retry(page: Page, live_site: LiveSite) -> None:
    failing = {"on": True}

    def answer(route: Route) -> None:
        if failing["on"]:
            route.fulfill(status=503, body="")
        else:
            route.continue_()

    page.route("**/api/activity*", answer)
    app = open_app(page, live_site.dashboard)
    go(app, "Connection")
    app.get_by_role("link", name="Activity", exact=True).click()
    problem = app.get_by_role("alert").filter(has_text="The activity could not be loaded")
    expect(problem).to_contain_text("The app ran into a problem (HTTP 503)")
    expect(app.locator("#skeleton")).to_be_hidden()
    check_a11y(app_frame(page), "a page that failed to load")
    failing["on"] = False
    problem.get_by_role("button", name="Retry").click()
    expect(problem).to_be_hidden()
    expect(app.locator("#activity-rows tr").first).to_be_visible()


def test_narrow_dashboard_wraps_the_tabs_and_fits_the_tables(
    page: Page, live_site: LiveSite, artifacts: Path
) -> None:
    page.set_viewport_size({"width": 800, "height": 860})
    app = open_app(page, live_site.dashboard)
    loaded(app)
    frame = app_frame(page)
    width = frame.evaluate("document.documentElement.clientWidth")
    # Every tab is on screen (they wrap), none cut off behind a scroll.
    for name in (
        "Connection",
        "Audiences & groups",
        "Subscriptions",
        "E-commerce",
        "Activity",
        "Reports",
    ):
        box = app.get_by_role("link", name=name, exact=True).bounding_box()
        frame_box = page.locator("#app-frame").bounding_box()
        assert box and frame_box
        assert frame_box["x"] <= box["x"] and box["x"] + box["width"] <= frame_box["x"] + width
    go(app, "Activity")
    # Nothing wider than the frame: the table stacks its cells inside its card.
    assert frame.evaluate("document.documentElement.scrollWidth") <= width
    assert (
        frame.evaluate("getComputedStyle(document.querySelector('#activity-rows td')).display")
        == "block"
    )
    shot(page, artifacts, "activity-narrow-light")
    go(app, "E-commerce")
    assert frame.evaluate("document.documentElement.scrollWidth") <= width


def test_a_waiting_job_says_why_it_waits(page: Page, live_site: LiveSite) -> None:
    app = open_app(page, live_site.dashboard)
    connect_with_key(app, live_site.stack.demo_account.api_key)
    go(app, "Activity")
    app.get_by_role("button", name=re.compile(r"^Waiting")).click()
    loaded(app)
    # Connected: the regular re-import of the audiences is scheduled; the row says so in the
    # admin's own time, not as an unexplained "Waiting" with 0 attempts.
    row = app.locator("#activity-rows tr").filter(has_text="Audiences and groups")
    reason = row.locator(".waiting-reason")
    expect(reason).to_contain_text("audiences are re-imported from Mailchimp regularly")
    expect(reason).not_to_contain_text("UTC")
    expect(reason).to_contain_text(re.compile(r"Scheduled for \d{1,2} \w{3} \d{4}, \d{2}:\d{2}"))
