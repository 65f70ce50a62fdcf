"""The Connection page when the app fails: a reset that fails after the admin closed its dialog
is said on the page (not in the closed dialog), and an outage while connecting with an API key
is said as an outage, with its technical details behind a toggle, not as a wrong key."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveSite
from tests.browser.pages import (
    Newsletter,
    app_api,
    app_frame,
    check_a11y,
    connect_demo,
    ensure_disconnected,
    open_page,
)
from tests.browser.test_connection_page import WRONG_KEY
from tests.browser.test_late_answers import Held

pytestmark = pytest.mark.browser


def test_a_reset_that_fails_after_the_dialog_was_closed_is_said_on_the_page(
    page: Page, live_site: LiveSite, newsletter: Newsletter
) -> None:
    held = Held(page, lambda route: True)
    page.route("**/api/connection/reset*", held)
    app = open_page(page, live_site, "Connection")
    app.get_by_role("button", name="Reset connection…").click()
    dialog = app.get_by_role("dialog", name="Reset the Mailchimp connection?")
    dialog.get_by_role("button", name="Reset connection", exact=True).click()
    expect(dialog.get_by_role("button", name="Resetting…")).to_be_disabled()
    # The app is slow: the admin gives up waiting and presses Escape; then the reset fails.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    held.first().fulfill(status=503, body="")
    # Still connected, and the page says the reset did not happen, details behind a toggle.
    expect(app.locator("#status-badge")).to_have_text("Connected")
    alert = app.get_by_role("alert").filter(has_text="The connection was not reset")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("The app ran into a problem (HTTP 503)")
    toggle = alert.get_by_text("Technical details")
    toggle.click()
    expect(alert.locator("pre")).to_contain_text("HTTP 503")
    check_a11y(app_frame(page), "Connection after a reset failed behind a closed dialog")
    # Asked again: the dialog opens clean.
    page.unroute("**/api/connection/reset*")
    app.get_by_role("button", name="Reset connection…").click()
    expect(dialog.locator("#reset-error")).to_have_count(0)
    dialog.get_by_role("button", name="Cancel").click()


def test_an_outage_while_connecting_is_not_said_as_a_wrong_key(
    page: Page, live_site: LiveSite, newsletter: Newsletter
) -> None:
    app = open_page(page, live_site, "Connection")
    ensure_disconnected(app)
    try:
        page.route("**/api/connection/api-key*", lambda route: route.fulfill(status=503, body=""))
        key = app.get_by_label("Paste an API key")
        key.fill(live_site.stack.demo_account.api_key)
        app.get_by_role("button", name="Connect with API key").click()
        alert = app.get_by_role("alert").filter(has_text="Mailchimp was not connected")
        expect(alert).to_be_visible()
        expect(alert).to_contain_text("The app ran into a problem (HTTP 503)")
        # The key is fine, the app was not: the field is not marked, and keeps the key.
        expect(key).not_to_have_attribute("aria-invalid", "true")
        expect(app.locator("#api-key-error")).to_have_text("")
        expect(key).to_have_value(live_site.stack.demo_account.api_key)
        expect(key).to_be_focused()
        alert.get_by_text("Technical details").click()
        expect(alert.locator("pre")).to_contain_text("HTTP 503")
        check_a11y(app_frame(page), "Connection after an outage while connecting")
        # Mailchimp refusing the key is still said at the field.
        page.unroute("**/api/connection/api-key*")
        key.fill(WRONG_KEY)
        app.get_by_role("button", name="Connect with API key").click()
        expect(key).to_have_attribute("aria-invalid", "true")
        expect(alert).to_have_count(0)
    finally:
        with app_api(live_site) as api:
            connect_demo(api, live_site)
