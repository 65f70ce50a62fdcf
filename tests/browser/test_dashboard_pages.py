"""The settings pages in real Chromium, inside the sandbox dashboard, as a store admin uses them."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Frame, FrameLocator, Page, expect

from addon.jobs.schemas import ClaimedJob, PermanentFailure
from addon.services import Services
from tests.browser.conftest import LiveSite

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parents[2] / "docs"
WRONG_KEY = "0123456789abcdef0123456789abcdef-us21"


def open_app(
    page: Page, dashboard_url: str, *, theme: str = "light", query: str = ""
) -> FrameLocator:
    page.goto(f"{dashboard_url}?theme={theme}")
    expect(page.get_by_role("heading", name="Installed apps")).to_be_visible()
    page.get_by_role("link", name="Open").first.click()
    if query:
        page.goto(f"{page.url}&{query}")
    app = page.frame_locator("#app-frame")
    expect(app.get_by_role("heading", level=1)).to_be_visible()
    return app


def app_frame(page: Page) -> Frame:
    handle = page.locator("#app-frame").element_handle()
    assert handle is not None
    frame = handle.content_frame()
    assert frame is not None
    return frame


def toast(page: Page, text: str) -> None:
    expect(page.locator("#toasts .toast").filter(has_text=text).last).to_be_visible()


def shot(page: Page, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"))


def ensure_disconnected(app: FrameLocator) -> None:
    reset = app.get_by_role("button", name="Reset connection…")
    expect(app.locator("#loading")).to_be_hidden()
    if reset.is_visible():
        reset.click()
        app.get_by_role("button", name="Reset connection", exact=True).click()
    expect(app.get_by_role("heading", name="Connect Mailchimp")).to_be_visible()


def test_connect_check_reset_and_reconnect_with_oauth(
    page: Page, live_site: LiveSite, artifacts: Path
) -> None:
    demo = live_site.stack.demo_account
    app = open_app(page, live_site.dashboard)
    ensure_disconnected(app)
    shot(page, artifacts, "connection-disconnected-light")

    # A key in the wrong shape, then a key Mailchimp does not know: sentences, not JSON.
    key = app.get_by_label("Paste an API key")
    key.fill("not-a-key")
    app.get_by_role("button", name="Connect with API key").click()
    expect(app.locator("#api-key-error")).to_have_text(
        "The part before the '-' should be 32 characters long, not 5."
    )
    key.fill(WRONG_KEY)
    app.get_by_role("button", name="Connect with API key").click()
    expect(app.locator("#api-key-error")).to_contain_text("Mailchimp did not accept this API key.")
    toast(page, "Mailchimp is not connected")
    assert "{" not in app.locator("#api-key-error").inner_text()
    shot(page, artifacts, "connection-bad-key-light")

    key.fill(demo.api_key)
    app.get_by_role("button", name="Connect with API key").click()
    expect(app.locator("#status-badge")).to_have_text("Connected")
    expect(app.locator("#fact-account")).to_contain_text("Demo Store")
    expect(app.locator("#fact-method")).to_have_text("API key")
    toast(page, "Mailchimp connected")
    assert key.input_value() == ""

    app.get_by_role("button", name="Check connection").click()
    result = app.locator("#check-result")
    expect(result).to_contain_text("Everything's Chimpy!")
    expect(result).to_contain_text("Demo Store · owner@demo-store.example · Owner — checked ")
    toast(page, "Everything's Chimpy!")
    shot(page, artifacts, "connection-connected-light")
    page.evaluate("document.getElementById('toasts').replaceChildren()")
    # The README's picture changes with every run (times): rewritten only when asked.
    readme_shot = DOCS if os.environ.get("UPDATE_DOCS_SCREENSHOTS") else artifacts
    page.screenshot(path=str(readme_shot / "connection.png"))

    # Reset: the dialog says what is kept and what is dropped; keyboard can cancel it.
    app.get_by_role("button", name="Reset connection…").click()
    dialog = app.get_by_role("dialog", name="Reset the Mailchimp connection?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Reset keeps")
    expect(dialog).to_contain_text("nothing is deleted there")
    expect(dialog.get_by_label(re.compile("Also forget this account's data"))).not_to_be_checked()
    shot(page, artifacts, "connection-reset-dialog-light")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    app.get_by_role("button", name="Reset connection…").click()
    dialog.get_by_role("button", name="Reset connection", exact=True).click()
    expect(app.get_by_role("heading", name="Connect Mailchimp")).to_be_visible()
    toast(page, "Mailchimp disconnected")

    # Log in with Mailchimp: the pop-up shows Mailchimp's authorize page; the page follows.
    with page.context.expect_page() as popup_info:
        app.get_by_role("button", name="Log in with Mailchimp").click()
    popup = popup_info.value
    expect(popup.get_by_role("heading", name="Log in to authorize this app")).to_be_visible()
    popup.locator("form.account", has_text="Demo Store").get_by_role("button", name="Allow").click()
    popup.wait_for_event("close", timeout=10_000)
    expect(app.locator("#status-badge")).to_have_text("Connected")
    expect(app.locator("#fact-method")).to_have_text("Log in with Mailchimp")
    toast(page, "Mailchimp connected")
    expect(app.locator("#oauth-waiting")).to_be_hidden()


def test_sign_up_opens_the_steps_in_the_pop_up(page: Page, live_site: LiveSite) -> None:
    app = open_app(page, live_site.dashboard)
    ensure_disconnected(app)
    with page.context.expect_page() as popup_info:
        app.get_by_role("button", name="Sign up for Mailchimp").click()
    popup = popup_info.value
    expect(popup.get_by_role("heading", name="Connect a new Mailchimp account")).to_be_visible()
    expect(popup.get_by_role("link", name="Sign up at Mailchimp")).to_have_attribute(
        "href", f"{live_site.url}/sandbox/mailchimp/signup/"
    )
    popup.get_by_role("link", name="Log in with Mailchimp").click()
    popup.locator("form.account", has_text="Demo Store").get_by_role("button", name="Allow").click()
    popup.wait_for_event("close", timeout=10_000)
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
    expect(row).to_contain_text("Ecommerce: test order")
    expect(row).to_contain_text("Quarantined")
    expect(row).to_contain_text("Mailchimp refused the order: the currency is missing.")
    expect(app.locator("#quarantine-notice")).to_contain_text("quarantined")
    app.get_by_role("button", name=re.compile(r"^Quarantined")).click()
    expect(app.locator("#activity-rows tr")).to_have_count(1)
    shot(page, artifacts, "activity-quarantined-light")

    row.get_by_role("button", name=f"Retry Ecommerce: test order (#{job_id})").click()
    toast(page, "Retry scheduled")
    all_filter = app.get_by_role("button", name=re.compile(r"^All"))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        all_filter.click()
        if "Done" in row.inner_text():
            break
        time.sleep(0.2)
    expect(row).to_contain_text("Done")
    expect(row.get_by_role("button", name=re.compile("Retry"))).to_have_count(0)
    assert calls == [job_id, job_id]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_page_follows_the_dashboard_theme(
    page: Page, live_site: LiveSite, artifacts: Path, theme: str
) -> None:
    app = open_app(page, live_site.dashboard, theme=theme)
    expect(app.locator("html")).to_have_attribute("data-theme", theme)
    for name in ("Connection", "Audiences & groups", "Subscriptions", "E-commerce", "Activity"):
        app.get_by_role("link", name=name, exact=True).click()
        expect(app.get_by_role("link", name=name, exact=True)).to_have_attribute(
            "aria-current", "page"
        )
        expect(app.locator("html")).to_have_attribute("data-theme", theme)
        if name in ("Connection", "Activity"):
            expect(app.locator(".spinner:visible")).to_have_count(0)
        slug = name.lower().replace(" & ", "-").replace("-", "").replace(" ", "")
        shot(page, artifacts, f"{slug}-{theme}")

    # The switch sends `theme`; the page follows without reloading, links keep it.
    other = "dark" if theme == "light" else "light"
    page.get_by_role("button", name=re.compile("mode")).click()
    expect(app.locator("html")).to_have_attribute("data-theme", other)
    expect(app.get_by_role("link", name="Connection", exact=True)).to_have_attribute(
        "href", re.compile(f"theme={other}")
    )


def test_the_token_is_refreshed_before_it_expires(page: Page, live_site: LiveSite) -> None:
    app = open_app(page, live_site.dashboard, query="token_lifetime=4")
    expect(app.locator("#loading")).to_be_hidden()
    frame = app_frame(page)
    first = frame.evaluate("window.appBridge.state.token")
    page.wait_for_function(
        "window.sandboxDashboard.log.some(e => e.type === 'tokenRefresh')", timeout=8_000
    )
    time.sleep(2.5)  # the first token has expired by now
    refreshed = frame.evaluate("window.appBridge.state.token")
    assert refreshed != first and refreshed == page.evaluate("window.sandboxDashboard.token()")
    app.get_by_role("link", name="Activity").click()
    expect(app.locator("#activity-rows")).not_to_contain_text("session expired")
    expect(app.locator("#activity-rows tr").first).not_to_contain_text("Loading")


def test_actions_are_answered_and_foreign_messages_ignored(page: Page, live_site: LiveSite) -> None:
    app = open_app(page, live_site.dashboard)
    expect(app.locator("#loading")).to_be_hidden()
    frame = app_frame(page)
    log: list[dict[str, Any]] = page.evaluate("window.sandboxDashboard.log")
    incoming = [entry["type"] for entry in log if entry["direction"] == "in"]
    assert "notifyReady" in incoming
    outgoing = [entry for entry in log if entry["direction"] == "out"]
    # The answer to notifyReady may precede the handshake (sent on the frame's load event).
    handshakes = [entry for entry in outgoing if entry["type"] == "handshake"]
    assert handshakes and handshakes[0]["payload"]["version"] == 1
    assert any(e["type"] == "response" and e["payload"]["ok"] for e in outgoing)

    token = frame.evaluate("window.appBridge.state.token")
    # A message the frame posts to itself is not from the dashboard: ignored.
    frame.evaluate(
        "window.postMessage({type: 'handshake', payload: {token: 'forged', version: 1}}, '*')"
    )
    frame.evaluate("window.postMessage({type: 'theme', payload: {theme: 'dark'}}, '*')")
    page.wait_for_timeout(200)
    assert frame.evaluate("window.appBridge.state.token") == token
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
        frame.evaluate("window.appBridge.state.dashboardOrigin")
        == other_origin.split("/sandbox")[0]
    )
    ensure_disconnected(app)
    with page.context.expect_page() as popup_info:
        app.get_by_role("button", name="Log in with Mailchimp").click()
    popup = popup_info.value
    expect(popup.get_by_role("heading", name="Log in to authorize this app")).to_be_visible()
    popup.locator("form.account", has_text="Demo Store").get_by_role("button", name="Allow").click()
    expect(popup.get_by_role("heading", name="Mailchimp is connected")).to_be_visible()
    popup.screenshot(path=str(artifacts / "oauth-result-popup.png"))
    popup.wait_for_event("close", timeout=10_000)
    expect(app.locator("#status-badge")).to_have_text("Connected")
    expect(app.locator("#fact-method")).to_have_text("Log in with Mailchimp")
    toast(page, "Mailchimp connected")
