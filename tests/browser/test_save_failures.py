"""A save the app refuses or cannot do, in Chromium: the refusal is said next to the field it
names (marked, focused), an outage marks no field, the code and HTTP status sit behind a
Details toggle in the save bar, a keyboard user keeps the focus, and the Audiences page's own
check on the default audience marks and focuses the choice; axe-core clean in these states."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import FrameLocator, Page, Route, expect

from tests.browser.conftest import LiveSite
from tests.browser.pages import Newsletter, app_api, app_frame, check_a11y, open_page

pytestmark = pytest.mark.browser


@pytest.fixture
def ecommerce(page: Page, live_site: LiveSite, newsletter: Newsletter) -> Iterator[FrameLocator]:
    with app_api(live_site) as api:
        before = api.get("/api/ecommerce").json()["settings"]
    yield open_page(page, live_site, "E-commerce")
    with app_api(live_site) as api:
        kept = {k: before[k] for k in ("default_timezone", "default_locale")}
        assert api.patch("/api/ecommerce/settings", json=kept).status_code == 200


def test_a_time_zone_the_app_refuses_is_said_next_to_the_field(ecommerce: FrameLocator) -> None:
    app = ecommerce
    zone = app.get_by_label("Default time zone")
    zone.fill("Europe/Atlantis")  # has the shape the page checks; names no time zone
    app.get_by_role("button", name="Save", exact=True).click()
    expect(app.locator("[data-save-status]")).to_contain_text("time zone")
    # The app said which field is wrong: the field says so and takes the focus, as the
    # page's own checks do.
    expect(app.locator("#default-timezone-error")).to_contain_text("time zone")
    expect(zone).to_have_attribute("aria-invalid", "true")
    expect(zone).to_be_focused()


def test_a_refused_save_keeps_its_technical_side_behind_a_details_toggle(
    page: Page, ecommerce: FrameLocator
) -> None:
    app = ecommerce
    app.get_by_label("Default language").fill("xx")  # two letters, no language
    app.get_by_role("button", name="Save", exact=True).click()
    bar = app.get_by_role("region", name="Save changes")
    expect(bar.locator("[data-save-status]")).to_contain_text("two-letter language code")
    # The sentence in words; the code and status behind a Details toggle.
    toggle = bar.locator("details summary")
    expect(toggle).to_be_visible()
    toggle.click()
    expect(bar.locator("details")).to_contain_text("INVALID_INPUT")
    expect(bar.locator("details")).to_contain_text("HTTP 4")
    check_a11y(app_frame(page), "the E-commerce save bar's Details")
    # The next edit is a new state: the error and its details go.
    app.get_by_label("Default language").fill("de")
    expect(bar.locator("details")).to_have_count(0)
    expect(bar.locator("[data-save-status]")).to_have_text("You have unsaved changes.")


def test_a_failed_save_by_keyboard_does_not_drop_the_focus(
    page: Page, ecommerce: FrameLocator
) -> None:
    app = ecommerce
    page.route("**/api/ecommerce/settings*", lambda route: route.fulfill(status=503, body=""))
    app.get_by_label("Default language").fill("de")
    save = app.get_by_role("button", name="Save", exact=True)
    save.focus()
    page.keyboard.press("Enter")
    expect(app.locator("[data-save-status]")).to_contain_text("The app ran into a problem")
    expect(save).to_be_enabled()
    # Nothing was saved: a keyboard user is where they pressed Save, not at the page's top;
    # an outage marks no field.
    expect(save).to_be_focused()
    expect(app.locator('[aria-invalid="true"]')).to_have_count(0)


def test_a_missing_default_audience_takes_the_focus_to_the_choice(
    page: Page, live_site: LiveSite, newsletter: Newsletter
) -> None:
    fruit = newsletter.ids["Fruit lovers"]
    veggie = newsletter.ids["Veggie club"]
    herbs = newsletter.list_named("Default check herbs")
    newsletter.import_now()
    newsletter.configure(active_list_ids=[fruit, veggie, herbs], default_list_id=fruit)
    app = open_page(page, live_site, "Audiences & groups")
    card = app.get_by_role("article", name="Fruit lovers", exact=True)
    # The default audience is no longer offered: two are left, neither is the default.
    card.get_by_label("Offer in the store").uncheck()
    app.get_by_role("button", name="Save", exact=True).click()
    expect(app.locator("#default-error")).to_have_text(
        "Choose which of the offered audiences is the default one."
    )
    expect(app.locator("[data-save-status]")).to_have_text(
        "Correct the highlighted fields, then save."
    )
    # As for every other field the page refuses: the choice is marked and takes the focus.
    veggie_default = app.get_by_role("article", name="Veggie club", exact=True).get_by_label(
        "Default audience"
    )
    expect(veggie_default).to_have_attribute("aria-invalid", "true")
    expect(veggie_default).to_be_focused()
    check_a11y(app_frame(page), "the Audiences page's missing default")
    veggie_default.check()
    app.get_by_role("button", name="Discard").click()
    expect(app.locator('[aria-invalid="true"]')).to_have_count(0)


def test_an_outage_while_saving_engagement_marks_no_field(
    page: Page, live_site: LiveSite, newsletter: Newsletter
) -> None:
    app = open_page(page, live_site, "Audiences & groups")
    days = app.get_by_label("Activity update interval (days)")
    expect(days).to_be_enabled()
    answer = {"status": 503, "body": ""}

    def engagement(route: Route) -> None:
        if route.request.method == "PUT":
            route.fulfill(
                status=answer["status"], body=answer["body"], content_type="application/json"
            )
        else:
            route.continue_()

    page.route("**/api/engagement/settings*", engagement)
    days.fill("2" if days.input_value() != "2" else "3")
    save = app.get_by_role("button", name="Save", exact=True)
    save.click()
    status = app.locator("[data-save-status]")
    expect(status).to_contain_text("The app ran into a problem")
    # The app was out: nothing about the days was refused.
    expect(days).not_to_have_attribute("aria-invalid", "true")
    expect(app.locator("#engagement-days-error")).to_have_text("")
    # A refusal naming the field marks it and takes the focus there.
    answer["status"] = 422
    answer["body"] = (
        '{"error": {"code": "INVALID_INPUT", '
        '"message": "The activity update interval must be 1 to 365 days."}}'
    )
    save.click()
    expect(status).to_contain_text("activity update interval")
    expect(days).to_have_attribute("aria-invalid", "true")
    expect(app.locator("#engagement-days-error")).to_contain_text("1 to 365 days")
    expect(days).to_be_focused()
    check_a11y(app_frame(page), "the Audiences page's refused engagement settings")
