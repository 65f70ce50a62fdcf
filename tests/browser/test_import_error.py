"""A failed import from Mailchimp is said in words on the Audiences page, the request and
Mailchimp's error id behind the technical-details toggle."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveSite
from tests.browser.pages import app_api, app_frame, check_a11y, connect_demo, open_page

pytestmark = pytest.mark.browser


def test_a_failed_import_is_said_in_words_with_the_details_behind_a_toggle(
    page: Page, live_site: LiveSite
) -> None:
    with app_api(live_site) as api:
        connect_demo(api, live_site)
    mailchimp = live_site.stack.mailchimp
    app = open_page(page, live_site, "Audiences & groups")
    mailchimp.faults.outage()
    try:
        app.get_by_role("button", name="Refresh from Mailchimp").click()
        failed = app.locator("#import-error")
        expect(failed).to_be_visible()
        expect(failed.locator("#import-error-text")).to_have_text(
            "Mailchimp is temporarily unavailable. Press Refresh to try again."
        )
        toggle = failed.get_by_text("Technical details")
        toggle.click()
        expect(failed.locator(".tech-details pre")).to_contain_text("Request: GET")
        check_a11y(app_frame(page), "a failed import with its details open")
    finally:
        mailchimp.faults.reset()
    app.get_by_role("button", name="Refresh from Mailchimp").click()
    expect(app.locator("#import-error")).to_be_hidden()
