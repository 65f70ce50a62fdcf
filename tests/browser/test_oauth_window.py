"""The Mailchimp log-in window in real Chromium: it connects only in the browser the log-in was
started in, whether the app's frame opened it or the dashboard did for the frame."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ACTION_TIMEOUT_MS, LiveSite
from tests.browser.pages import (
    allow_as,
    check_a11y,
    ensure_disconnected,
    mailchimp_window,
    open_app,
)

pytestmark = pytest.mark.browser

UNBOUND = "This window was not opened from the app's Connection page in this browser"


def test_a_frame_that_may_open_pop_ups_logs_in_from_its_own_window(
    page: Page, live_site: LiveSite
) -> None:
    """Dashboards from 3.22.6 on let the frame open the window itself."""
    app = open_app(page, live_site.dashboard, query="frame_popups=1")
    assert "allow-popups" in (page.locator("#app-frame").get_attribute("sandbox") or "")
    ensure_disconnected(app)
    popup = mailchimp_window(page, app, "Log in with Mailchimp")
    expect(popup.get_by_role("heading", name="Log in to authorize this app")).to_be_visible()
    allow_as(popup, "Demo Store")
    expect(app.locator("#status-badge")).to_have_text("Connected")
    expect(app.locator("#fact-method")).to_have_text("Log in with Mailchimp")


def test_a_log_in_opened_in_another_browser_connects_nothing_there(
    page: Page, browser: Any, live_site: LiveSite
) -> None:
    app = open_app(page, live_site.dashboard)
    ensure_disconnected(app)
    popup = mailchimp_window(page, app, "Log in with Mailchimp")
    expect(popup.get_by_role("heading", name="Log in to authorize this app")).to_be_visible()
    state = parse_qs(urlsplit(popup.url).query)["state"][0]

    elsewhere = browser.new_context(locale="en-GB")
    elsewhere.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        # The pop-up's first page, passed on: it never goes on to Mailchimp.
        first = elsewhere.new_page()
        first.goto(f"{live_site.url}/app/oauth/go?state={state}&theme=light")
        expect(first.get_by_role("alert")).to_contain_text(UNBOUND)
        expect(first.get_by_role("link", name="Continue to Mailchimp")).to_be_hidden()
        assert urlsplit(first.url).path == "/app/oauth/go"
        check_a11y(first, "the log-in window opened elsewhere")
        # Mailchimp's page, passed on: allowing there connects nothing.
        mailchimp = elsewhere.new_page()
        mailchimp.goto(popup.url)
        mailchimp.locator("form.account", has_text="Demo Store").get_by_role(
            "button", name="Allow"
        ).click()
        expect(mailchimp.get_by_role("heading", name="Mailchimp is not connected")).to_be_visible()
        expect(mailchimp.locator("#message")).to_contain_text("not started in this browser window")
    finally:
        elsewhere.close()

    # The admin's log-in is still theirs to finish.
    expect(app.locator("#oauth-waiting")).to_be_visible()
    expect(app.get_by_role("heading", name="Connect Mailchimp")).to_be_visible()
    allow_as(popup, "Demo Store")
    expect(app.locator("#status-badge")).to_have_text("Connected")


def test_a_window_no_connection_page_answers_does_not_go_on(
    browser: Any, live_site: LiveSite
) -> None:
    """Opened by another page of the app's origin (not a Connection page that started the
    log-in): nobody hands it the key, and after a moment it says so."""
    context = browser.new_context(locale="en-GB")
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    try:
        context.clock.install()
        opener = context.new_page()
        opener.goto(f"{live_site.url}/privacy")
        with context.expect_page() as popup_info:
            opener.evaluate("window.open('/app/oauth/go?state=not-this-pages&theme=light')")
        popup = popup_info.value
        expect(popup.get_by_role("link", name="Continue to Mailchimp")).to_be_visible()
        expect(popup.get_by_role("alert")).to_be_hidden()
        popup.clock.run_for(5_000)
        expect(popup.get_by_role("alert")).to_contain_text(UNBOUND)
        expect(popup.get_by_role("link", name="Continue to Mailchimp")).to_be_hidden()
        assert urlsplit(popup.url).path == "/app/oauth/go"
    finally:
        context.close()
