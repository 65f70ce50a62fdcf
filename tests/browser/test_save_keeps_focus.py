"""The save bar keeps the keyboard after a save: Save is disabled once the form is saved, and the
focus it had goes to the save bar (not to the page's body, where the next Tab starts over from
the top); a save asked by Enter in a field leaves the focus in that field."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveSite
from tests.browser.pages import app_frame, check_a11y, connect_with_key, go, open_app
from tests.browser.test_late_answers import ecommerce_settings_kept

pytestmark = pytest.mark.browser


def test_a_save_keeps_the_keyboard_in_the_save_bar(page: Page, live_site: LiveSite) -> None:
    app = open_app(page, live_site.dashboard)
    connect_with_key(app, live_site.stack.demo_account.api_key)
    with ecommerce_settings_kept(live_site):
        go(app, "E-commerce")
        status = app.locator("[data-save-status]")
        bar = app.get_by_role("region", name="Save changes")
        save = bar.get_by_role("button", name="Save", exact=True)
        email = app.locator("#store-email")

        # Saved from the Save button by keyboard: the button is disabled, the bar has the focus.
        email.fill("keyboard@shop.example.com")
        save.focus()
        page.keyboard.press("Enter")
        expect(status).to_have_text("E-commerce settings saved.")
        expect(save).to_be_disabled()
        expect(bar).to_be_focused()
        check_a11y(app_frame(page), "E-commerce after a save from the Save button")
        # The next Tab goes on from the bar, not from the top of the page.
        page.keyboard.press("Shift+Tab")
        expect(app.locator("body")).not_to_be_focused()

        # Saved by Enter in a field: the field keeps the focus.
        email.fill("enter@shop.example.com")
        email.press("Enter")
        expect(status).to_have_text("E-commerce settings saved.")
        expect(save).to_be_disabled()
        expect(email).to_be_focused()
