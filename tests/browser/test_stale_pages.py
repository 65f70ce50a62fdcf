"""The settings pages never fall behind the app: Refresh from Mailchimp with unsaved edits shows
what Mailchimp has now and keeps the edits, and a save that fails half-way takes what did save
as saved (Discard brings back what the app has, not what it had)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import FrameLocator, Page, Route, expect

from tests.browser.conftest import LiveSite
from tests.browser.pages import Newsletter, app_api, open_page

pytestmark = pytest.mark.browser


def refuse(method: str) -> Any:
    """A route handler: `method` requests answer 503 with no body, the others go through."""

    def handle(route: Route) -> None:
        if route.request.method == method:
            route.fulfill(status=503, body="")
        else:
            route.continue_()

    return handle


def test_refresh_with_unsaved_edits_shows_the_new_audience(
    page: Page, live_site: LiveSite, newsletter: Newsletter
) -> None:
    app = open_page(page, live_site, "Audiences & groups")
    expect(app.get_by_role("article", name="Fruit lovers", exact=True)).to_be_visible()
    # An unsaved edit, then a new audience in Mailchimp and Refresh.
    app.locator("#tags").fill("from-refresh")
    newsletter.new_list("Refreshed herbs")
    app.get_by_role("button", name="Refresh from Mailchimp").click()
    expect(app.locator("[data-save-status]")).to_have_text("Audiences refreshed.")
    # The page said it refreshed: the new audience is listed, the edit is kept, unsaved.
    expect(app.get_by_role("article", name="Refreshed herbs", exact=True)).to_be_visible()
    expect(app.locator("#tags")).to_have_value("from-refresh")
    expect(app.get_by_role("button", name="Save", exact=True)).to_be_enabled()
    app.get_by_role("button", name="Discard").click()
    expect(app.locator("#tags")).not_to_have_value("from-refresh")
    expect(app.get_by_role("article", name="Refreshed herbs", exact=True)).to_be_visible()


def two_way(live_site: LiveSite, on: bool) -> None:
    with app_api(live_site) as api:
        response = api.patch("/api/audiences/settings", json={"two_way": on})
        assert response.status_code == 200, response.text


def test_a_half_failed_save_does_not_leave_the_form_behind_the_server(
    page: Page, live_site: LiveSite, newsletter: Newsletter
) -> None:
    two_way(live_site, False)
    app = open_page(page, live_site, "Subscriptions")
    page.route("**/api/erasure/settings*", refuse("PUT"))
    app.locator("#two-way").check()
    app.locator("#erase-orders").click()
    app.get_by_role("button", name="Save", exact=True).click()
    expect(app.locator("[data-save-status]")).to_contain_text("problem")
    try:
        # The two-way switch was saved although the erasure choice was not: Discard shows what
        # the app has now (on), and only the erasure choice is left unsaved.
        with app_api(live_site) as api:
            assert api.get("/api/audiences").json()["settings"]["two_way"] is True
        app.get_by_role("button", name="Discard").click()
        expect(app.locator("#two-way")).to_be_checked()
        expect(app.locator("#erase-orders")).not_to_be_checked()
        expect(app.get_by_role("button", name="Save", exact=True)).to_be_disabled()
    finally:
        two_way(live_site, False)


@pytest.fixture
def ecommerce(page: Page, live_site: LiveSite, newsletter: Newsletter) -> Iterator[FrameLocator]:
    with app_api(live_site) as api:
        before = api.get("/api/ecommerce").json()["settings"]
    yield open_page(page, live_site, "E-commerce")
    with app_api(live_site) as api:
        kept = {"store_email": before["store_email"]}
        assert api.patch("/api/ecommerce/settings", json=kept).status_code == 200


def test_a_half_failed_e_commerce_save_keeps_what_was_saved(
    page: Page, ecommerce: FrameLocator
) -> None:
    app = ecommerce
    page.route("**/api/ecommerce/promos*", refuse("PUT"))
    email = app.locator("#store-email")
    email.fill("half-saved@example.com")
    app.get_by_role("group", name="Vouchers offered to Mailchimp").get_by_label(
        "Every voucher"
    ).check()
    app.get_by_role("button", name="Save", exact=True).click()
    expect(app.locator("[data-save-status]")).to_contain_text("problem")
    # The store's e-mail was saved before the promo choice failed: it is the saved value now.
    app.get_by_role("button", name="Discard").click()
    expect(email).to_have_value("half-saved@example.com")
    expect(app.get_by_label("No vouchers")).to_be_checked()


def test_a_half_failed_audiences_save_keeps_the_saved_engagement(
    page: Page, live_site: LiveSite, newsletter: Newsletter
) -> None:
    with app_api(live_site) as api:
        before = api.get("/api/engagement/settings").json()
    app = open_page(page, live_site, "Audiences & groups")
    days = app.get_by_label("Activity update interval (days)")
    expect(days).to_be_enabled()
    wanted = 44 if before["activity_interval_days"] != 44 else 45
    page.route("**/api/audiences/settings*", refuse("PATCH"))
    days.fill(str(wanted))
    app.locator("#tags").fill("not-saved")
    app.get_by_role("button", name="Save", exact=True).click()
    expect(app.locator("[data-save-status]")).to_contain_text("problem")
    try:
        # The engagement settings were saved first: Discard keeps them, drops the tags.
        app.get_by_role("button", name="Discard").click()
        expect(days).to_have_value(str(wanted))
        expect(app.locator("#tags")).not_to_have_value("not-saved")
    finally:
        with app_api(live_site) as api:
            kept = {k: before[k] for k in ("activity_interval_days", "schedule_minutes")}
            assert api.put("/api/engagement/settings", json=kept).status_code == 200
