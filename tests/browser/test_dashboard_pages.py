"""The settings pages in real Chromium, inside the sandbox dashboard, as a store admin uses them."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import FrameLocator, Page, Route, expect

from addon.jobs.schemas import ClaimedJob, PermanentFailure
from addon.services import Services
from tests.browser.conftest import LiveSite
from tests.browser.pages import (
    allow_as,
    app_frame,
    check_a11y,
    connect_with_key,
    ensure_disconnected,
    go,
    loaded,
    mailchimp_window,
    open_app,
    shot,
    toast,
    token,
)

pytestmark = pytest.mark.browser

WRONG_KEY = "0123456789abcdef0123456789abcdef-us21"


def test_connect_check_reset_and_reconnect_with_oauth(
    page: Page, live_site: LiveSite, artifacts: Path
) -> None:
    demo = live_site.stack.demo_account
    app = open_app(page, live_site.dashboard)
    ensure_disconnected(app)
    shot(page, artifacts, "connection-disconnected-light")

    # A key in the wrong shape, then a key Mailchimp does not know: sentences next to the
    # field, never a second copy in a notification.
    key = app.get_by_label("Paste an API key")
    key.fill("not-a-key")
    app.get_by_role("button", name="Connect with API key").click()
    expect(app.locator("#api-key-error")).to_have_text(
        "The part before the '-' should be 32 characters long, not 5."
    )
    key.fill(WRONG_KEY)
    app.get_by_role("button", name="Connect with API key").click()
    expect(app.locator("#api-key-error")).to_contain_text("Mailchimp did not accept this API key.")
    expect(key).to_have_attribute("aria-invalid", "true")
    assert "{" not in app.locator("#api-key-error").inner_text()
    expect(page.locator("#toasts .toast")).to_have_count(0)
    shot(page, artifacts, "connection-bad-key-light")

    key.fill(demo.api_key)
    app.get_by_role("button", name="Connect with API key").click()
    expect(app.locator("#status-badge")).to_have_text("Connected")
    expect(app.locator("#fact-account")).to_contain_text("Demo Store")
    expect(app.locator("#fact-method")).to_have_text("API key")
    toast(page, "Mailchimp connected")
    assert key.input_value() == ""
    expect(app.get_by_role("button", name="Check connection")).to_be_focused()

    app.get_by_role("button", name="Check connection").click()
    result = app.locator("#check-result")
    expect(result).to_contain_text("Everything's Chimpy!")
    expect(result).to_contain_text("Demo Store · owner@demo-store.example · Owner — checked ")
    toast(page, "Connection works")
    shot(page, artifacts, "connection-connected-light")

    # Reset: the dialog says what is kept and what is dropped; keyboard can cancel it.
    app.get_by_role("button", name="Reset connection…").click()
    dialog = app.get_by_role("dialog", name="Reset the Mailchimp connection?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Reset keeps")
    expect(dialog).to_contain_text("nothing is deleted there")
    expect(dialog.get_by_label(re.compile("Also forget this account's data"))).not_to_be_checked()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    app.get_by_role("button", name="Reset connection…").click()
    dialog.get_by_role("button", name="Reset connection", exact=True).click()
    expect(app.get_by_role("heading", name="Connect Mailchimp")).to_be_visible()
    # A short notice, and keyboard users go on from the next step.
    toast(page, "Mailchimp disconnected")
    assert page.locator("#toasts .toast").last.inner_text().strip() == "Mailchimp disconnected"
    expect(app.get_by_role("button", name="Log in with Mailchimp")).to_be_focused()
    # The old check result belongs to the old state: gone.
    expect(app.locator("#check-result")).to_be_hidden()

    # Log in with Mailchimp: the pop-up shows Mailchimp's authorize page; the page follows.
    popup = mailchimp_window(page, app, "Log in with Mailchimp")
    expect(popup.get_by_role("heading", name="Log in to authorize this app")).to_be_visible()
    allow_as(popup, "Demo Store")
    expect(app.locator("#status-badge")).to_have_text("Connected")
    expect(app.locator("#fact-method")).to_have_text("Log in with Mailchimp")
    toast(page, "Mailchimp connected")
    expect(app.locator("#oauth-waiting")).to_be_hidden()


def waiting_ends(app: FrameLocator, started: float) -> float:
    """The wait is over: the message is shown and the buttons work again; returns seconds."""
    expect(app.locator("#oauth-waiting")).to_be_hidden(timeout=2_000)
    ended = time.monotonic() - started
    expect(app.get_by_role("button", name="Log in with Mailchimp")).to_be_enabled()
    expect(app.get_by_role("button", name="Sign up for Mailchimp")).to_be_enabled()
    return ended


def test_deny_or_close_in_the_mailchimp_window_ends_the_wait(
    page: Page, live_site: LiveSite, artifacts: Path
) -> None:
    app = open_app(page, live_site.dashboard)
    ensure_disconnected(app)

    # Deny at Mailchimp: the page learns it from the server within 2 seconds.
    popup = mailchimp_window(page, app, "Log in with Mailchimp")
    expect(app.locator("#oauth-waiting")).to_be_visible()
    expect(app.get_by_role("button", name="Log in with Mailchimp")).to_be_disabled()
    shot(page, artifacts, "connection-oauth-waiting-light")
    popup.get_by_role("button", name="Deny").first.click()
    started = time.monotonic()
    assert waiting_ends(app, started) < 2.5
    denied = app.locator('[data-notice="oauth"]')
    expect(denied).to_contain_text("Access was not allowed in Mailchimp")
    expect(denied).to_contain_text("nothing was connected")
    shot(page, artifacts, "connection-oauth-denied-light")
    if not popup.is_closed():
        popup.close()

    # Close the window without answering: noticed within 2 seconds.
    popup = mailchimp_window(page, app, "Log in with Mailchimp")
    expect(app.locator("#oauth-waiting")).to_be_visible()
    # A new attempt makes the old message obsolete.
    expect(denied).to_have_count(0)
    expect(popup.get_by_role("heading", name="Log in to authorize this app")).to_be_visible()
    popup.close()
    started = time.monotonic()
    assert waiting_ends(app, started) < 2.5
    closed = app.locator('[data-notice="oauth"]')
    expect(closed).to_contain_text("The Mailchimp window was closed")
    check_a11y(app_frame(page), "the Connection page after a closed window")

    # The stale notice disappears when the state changes (connected with a key).
    app.get_by_label("Paste an API key").fill(live_site.stack.demo_account.api_key)
    app.get_by_role("button", name="Connect with API key").click()
    expect(app.locator("#status-badge")).to_have_text("Connected")
    expect(app.locator("[data-notice]")).to_have_count(0)


def _kept_key(popup: Page) -> Any:
    """The cookie the window keeps the log-in's key in, once the Connection page answered it
    (its link shows before)."""
    for _ in range(200):
        cookies = popup.context.cookies()
        found = [c for c in cookies if re.fullmatch(r"mailchimp_oauth_[0-9a-f]+", c["name"])]
        if found:
            return found[0]
        popup.wait_for_timeout(50)
    pytest.fail("the window never kept the log-in's key")


def test_sign_up_opens_the_steps_in_the_pop_up(
    page: Page, live_site: LiveSite, artifacts: Path
) -> None:
    app = open_app(page, live_site.dashboard)
    ensure_disconnected(app)
    popup = mailchimp_window(page, app, "Sign up for Mailchimp")
    expect(popup.get_by_role("heading", name="Connect a new Mailchimp account")).to_be_visible()
    # The window keeps the log-in's key for the two hours a sign-up lives (the account is
    # created first), not a log-in's ten minutes.
    kept = _kept_key(popup)
    assert 3600 < kept["expires"] - time.time() <= 7200
    check_a11y(popup, "the sign-up steps pop-up")
    popup.screenshot(path=str(artifacts / "oauth-signup-popup-light.png"))
    # The pop-up follows the dashboard's theme too.
    dark = popup.url.replace("theme=light", "theme=dark")
    assert dark != popup.url
    popup.goto(dark)
    expect(popup.locator("html")).to_have_attribute("data-theme", "dark")
    check_a11y(popup, "the sign-up steps pop-up (dark)")
    popup.screenshot(path=str(artifacts / "oauth-signup-popup-dark.png"))
    expect(popup.get_by_role("link", name="Sign up at Mailchimp")).to_have_attribute(
        "href", f"{live_site.url}/sandbox/mailchimp/signup/"
    )
    popup.get_by_role("link", name="Log in with Mailchimp").click()
    allow_as(popup, "Demo Store")
    expect(app.locator("#fact-method")).to_have_text("Sign up for Mailchimp")


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


def test_a_dashboard_on_another_origin_works_and_the_pop_up_result_is_noticed(
    page: Page, live_site: LiveSite, artifacts: Path
) -> None:
    """The real arrangement: the dashboard's origin differs from the app's (localhost vs
    127.0.0.1). The pop-up is opened by the dashboard, so only polling tells the page."""
    other_origin = live_site.dashboard.replace("127.0.0.1", "localhost")
    app = open_app(page, other_origin)
    frame = app_frame(page)
    assert (
        frame.evaluate("import('/static/bridge.js').then((m) => m.state.dashboardOrigin)")
        == other_origin.split("/sandbox")[0]
    )
    ensure_disconnected(app)
    popup = mailchimp_window(page, app, "Log in with Mailchimp")
    expect(popup.get_by_role("heading", name="Log in to authorize this app")).to_be_visible()
    allow_as(popup, "Demo Store")
    expect(app.locator("#status-badge")).to_have_text("Connected")
    expect(app.locator("#fact-method")).to_have_text("Log in with Mailchimp")
    toast(page, "Mailchimp connected")


# The result page closes itself (its opener learns the outcome); kept open to be checked.
KEEP_RESULT_OPEN = (
    "if (location.pathname === '/api/connection/oauth/callback') window.close = () => {};"
)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_oauth_result_pop_up_follows_the_dashboard_theme(
    page: Page, live_site: LiveSite, artifacts: Path, theme: str
) -> None:
    """Mailchimp calls back on a fixed URL: the pop-up's first page hands the theme on."""
    page.context.add_init_script(KEEP_RESULT_OPEN)
    app = open_app(page, live_site.dashboard, theme=theme)
    ensure_disconnected(app)
    for answer, heading, name in (
        ("Deny", "Mailchimp is not connected", "denied"),
        ("Allow", "Mailchimp is connected", "connected"),
    ):
        popup = mailchimp_window(page, app, "Log in with Mailchimp")
        if answer == "Deny":
            popup.get_by_role("button", name="Deny").first.click()
        else:
            account = popup.locator("form.account", has_text="Demo Store")
            account.get_by_role("button", name="Allow").click()
        expect(popup.get_by_role("heading", name=heading)).to_be_visible()
        expect(popup.locator("html")).to_have_attribute("data-theme", theme)
        check_a11y(popup, f"the OAuth result pop-up ({name}, {theme})")
        popup.screenshot(path=str(artifacts / f"oauth-result-{name}-{theme}.png"))
        popup.close()
        expect(app.locator("#oauth-waiting")).to_be_hidden()
    expect(app.locator("#status-badge")).to_have_text("Connected")


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
