"""The customer panel: a change the app refused is said in plain words, and its technical side
(code, HTTP status, request id) is behind a Details toggle, as every other error of the pages."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import LiveSite
from tests.browser.pages import Newsletter, app_frame, check_a11y
from tests.browser.test_panel_focus import open_panel

pytestmark = pytest.mark.browser


def test_a_refused_change_keeps_its_technical_details_behind_a_toggle(
    page: Page, live_site: LiveSite, newsletter: Newsletter
) -> None:
    panel = open_panel(page, live_site, newsletter, "refused.change@example.com")
    card = panel.get_by_role("region", name="Fruit lovers")
    expect(card.locator("[data-status]")).to_have_text("Not subscribed")

    def refused(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        route.fulfill(
            status=503,
            headers={"x-request-id": "req-panel-42"},
            json={"error": {"code": "MAILCHIMP_UNAVAILABLE", "message": "Mailchimp is down."}},
        )

    page.route("**/api/subscriptions/customers/*", refused)
    subscribe = card.get_by_role("button", name="Subscribe", exact=True)
    subscribe.focus()
    page.keyboard.press("Enter")
    alert = panel.get_by_role("alert").filter(has_text="The change was not made")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("Mailchimp is down.")
    technical = alert.locator("pre")
    expect(technical).to_be_hidden()  # behind the toggle, closed
    toggle = alert.get_by_text("Details", exact=True)
    expect(toggle).to_be_visible()
    toggle.click()
    expect(technical).to_be_visible()
    expect(technical).to_contain_text("MAILCHIMP_UNAVAILABLE")
    expect(technical).to_contain_text("HTTP 503")
    expect(technical).to_contain_text("request id req-panel-42")
    # The button works again, and the keyboard can go back to it.
    expect(subscribe).to_be_enabled()
    check_a11y(app_frame(page), "the customer panel after a refused change")
