"""The Connection page in real Chromium, inside the sandbox dashboard, as a store admin uses it: a
key refused in words, then connected, checked and reset; Mailchimp's log-in and sign-up windows,
a denial or a closed window noticed within seconds, the result page in the dashboard's theme, and
a dashboard on another origin than the app's."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import FrameLocator, Page, expect

from tests.browser.conftest import LiveSite
from tests.browser.pages import (
    allow_as,
    app_frame,
    check_a11y,
    ensure_disconnected,
    mailchimp_window,
    open_app,
    shot,
    toast,
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
