"""The app's own refusal of the default audience (INVALID_DEFAULT_AUDIENCE, e.g. another admin
changed the offered audiences meanwhile) marks the default-audience choice and takes the focus
there, as the page's own check does; its request id stays behind Details."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import LiveSite
from tests.browser.pages import Newsletter, open_page

pytestmark = pytest.mark.browser

REFUSAL = {
    "success": False,
    "error": {
        "code": "INVALID_DEFAULT_AUDIENCE",
        "message": "The default audience must be one of the active audiences.",
    },
}


def test_the_apps_refusal_of_the_default_audience_marks_the_choice(
    page: Page, live_site: LiveSite, newsletter: Newsletter
) -> None:
    # No audience offered, whatever another module of this worker left (the panel's offer
    # Fruit lovers): offering it is then a change the Save button sends.
    newsletter.configure(active_list_ids=[], default_list_id=None, offered_category_ids=[])
    app = open_page(page, live_site, "Audiences & groups")
    expect(app.get_by_role("article", name="Fruit lovers", exact=True)).to_be_visible()

    def refuse(route: Route) -> None:
        if route.request.method == "PATCH":
            route.fulfill(status=400, body=json.dumps(REFUSAL), content_type="application/json")
        else:
            route.continue_()

    page.route("**/api/audiences/settings*", refuse)
    card = app.get_by_role("article", name="Fruit lovers", exact=True)
    card.get_by_label("Offer in the store").check()  # the one offered: the default choice
    app.get_by_role("button", name="Save", exact=True).click()
    expect(app.locator("[data-save-status]")).to_contain_text("default audience")
    # The server named the default audience: it is marked and takes the focus, as the time
    # zone is on the E-commerce page.
    expect(app.locator("#default-error")).to_contain_text("default audience")
    expect(app.locator('input[name="default-audience"][aria-invalid="true"]').first).to_be_focused()
