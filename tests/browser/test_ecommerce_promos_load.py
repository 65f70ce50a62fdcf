"""The E-commerce page when its promo codes cannot be read, in Chromium: the rest of the page
(channels, the settings form) loads and works, the promo section says why in its own place
with Retry, and Retry brings the choice back; axe-core clean in the error state."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import LiveSite
from tests.browser.pages import Newsletter, app_frame, check_a11y, open_app

pytestmark = pytest.mark.browser


def test_the_promo_codes_failing_to_load_do_not_take_the_whole_page_down(
    page: Page, live_site: LiveSite, newsletter: Newsletter
) -> None:
    def refuse_reads(route: Route) -> None:
        if route.request.method == "GET":
            route.fulfill(status=503, body="")
        else:
            route.continue_()

    page.route("**/api/ecommerce/promos*", refuse_reads)
    app = open_app(page, live_site.dashboard)
    app.get_by_role("link", name="E-commerce", exact=True).click()
    expect(app.get_by_role("heading", name="E-commerce", level=1)).to_be_visible()
    expect(app.locator("#skeleton")).to_be_hidden()
    # The channels do not depend on the promo codes: the failed read is said in its section.
    expect(app.get_by_role("heading", name="Channels")).to_be_visible()
    problem = app.locator("#promo-load-error")
    expect(problem).to_contain_text("The promo codes could not be loaded")
    expect(problem).to_contain_text("The app ran into a problem")
    expect(app.get_by_label("No vouchers")).to_be_hidden()
    # Nothing unsaved on a page that only failed a read.
    expect(app.get_by_role("button", name="Save", exact=True)).to_be_disabled()
    check_a11y(app_frame(page), "the E-commerce page without its promo codes")

    page.unroute("**/api/ecommerce/promos*", refuse_reads)
    retry = problem.get_by_role("button", name="Retry")
    retry.focus()
    page.keyboard.press("Enter")
    expect(problem).to_be_hidden()
    choice = app.get_by_role("group", name="Vouchers offered to Mailchimp")
    expect(choice.get_by_label("No vouchers")).to_be_visible()
    expect(choice.locator("input:checked")).to_be_focused()
    expect(app.get_by_role("button", name="Save", exact=True)).to_be_disabled()
