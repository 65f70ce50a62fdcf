"""A reload that fails leaves the page as it was, and saying so: a failed sort on Reports keeps
the old sort in the header and stops showing the table as loading; a failed Activity filter
presses the filter of the rows still shown again; a Retry whose list then cannot be read works
again instead of staying "Retrying…". The loader's notice says why, and axe-core finds nothing
in these states."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Route, expect

from addon.jobs.schemas import PermanentFailure
from addon.services import Services
from tests.browser.conftest import LiveSite, Seeded
from tests.browser.pages import Newsletter, app_frame, check_a11y, eventually, open_page

pytestmark = pytest.mark.browser


def test_a_failed_sort_keeps_the_old_sort_and_stops_loading(
    page: Page, live_site: LiveSite, seeded: Seeded
) -> None:
    app = open_page(page, live_site, "Reports")
    rows = app.locator("#campaign-rows tr")
    expect(rows.first).to_contain_text("Summer sale")  # newest first
    sent = app.locator('th[data-sort="sent_at"]')
    title = app.locator('th[data-sort="title"]')
    expect(sent).to_have_attribute("aria-sort", "descending")
    page.route("**/api/engagement/campaigns*", lambda route: route.fulfill(status=503, body=""))
    sort_by_title = app.get_by_role("button", name="Campaign", exact=True)
    sort_by_title.click()
    alert = app.get_by_role("alert").filter(has_text="The reports could not be loaded")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("The app ran into a problem (HTTP 503)")
    # The rows are still sorted by Sent: the header says so, and they are not loading.
    expect(app.locator("#campaign-rows")).not_to_have_attribute("aria-busy", "true")
    expect(sent).to_have_attribute("aria-sort", "descending")
    expect(title).not_to_have_attribute("aria-sort", "ascending")
    expect(app.locator("#campaigns-caption")).to_contain_text("sorted by send date, descending")
    expect(rows.first).to_contain_text("Summer sale")
    expect(sort_by_title).to_be_focused()
    check_a11y(app_frame(page), "Reports after a failed sort")
    # Once the app answers again, the same click sorts.
    page.unroute("**/api/engagement/campaigns*")
    sort_by_title.click()
    expect(title).to_have_attribute("aria-sort", "ascending")
    expect(sent).not_to_have_attribute("aria-sort", "descending")


def test_a_failed_filter_presses_the_filter_of_the_rows_shown_again(
    page: Page, live_site: LiveSite, newsletter: Newsletter
) -> None:
    app = open_page(page, live_site, "Activity")
    done = app.locator("#activity-rows .badge", has_text="Done")
    expect(done.first).to_be_visible()  # connecting and importing the audiences ran jobs
    pressed = app.locator('#filters [aria-pressed="true"]')
    expect(pressed).to_have_attribute("data-status", "")
    page.route("**/api/activity*", lambda route: route.fulfill(status=503, body=""))
    waiting = app.locator('#filters button[data-status="pending"]')
    waiting.click()
    expect(
        app.get_by_role("alert").filter(has_text="The activity could not be loaded")
    ).to_be_visible()
    # The rows are still those of All (Done among them): All is the filter pressed.
    expect(pressed).to_have_count(1)
    expect(pressed).to_have_attribute("data-status", "")
    expect(waiting).to_have_attribute("aria-pressed", "false")
    expect(done.first).to_be_visible()
    check_a11y(app_frame(page), "Activity after a failed filter")
    # Once the app answers again, the filter works.
    page.unroute("**/api/activity*")
    waiting.click()
    expect(waiting).to_have_attribute("aria-pressed", "true")
    expect(done).to_have_count(0)


def test_a_retry_whose_list_reload_fails_works_again(
    page: Page, live_site: LiveSite, newsletter: Newsletter
) -> None:
    calls: list[int] = []

    async def refused(job: object, _: Services) -> None:
        calls.append(1)
        raise PermanentFailure("Mailchimp refused the order: the currency is missing.")

    live_site.services.handlers.register("ecommerce.review_order", refused)
    job_id = live_site.enqueue("ecommerce.review_order", {"order": "T3JkZXI6Mg=="})
    eventually(lambda: calls)
    app = open_page(page, live_site, "Activity")
    row = app.locator(f'tr[data-job-id="{job_id}"]')
    expect(row).to_contain_text("Quarantined")

    def list_fails(route: Route) -> None:
        if route.request.method == "GET":
            route.fulfill(status=503, body="")
        else:
            route.continue_()

    page.route("**/api/activity*", list_fails)
    retry = row.get_by_role("button", name="Retry", exact=True)
    retry.focus()
    page.keyboard.press("Enter")
    expect(
        app.get_by_role("alert").filter(has_text="The activity could not be loaded")
    ).to_be_visible()
    # The retry itself was scheduled; only the list could not be read again. The row's button
    # works again, and the keyboard is still on it.
    expect(row.get_by_role("button", name="Retrying…")).to_have_count(0)
    expect(retry).to_be_enabled()
    expect(retry).not_to_have_attribute("aria-busy", "true")
    expect(retry).to_be_focused()
    check_a11y(app_frame(page), "Activity after a retry whose list failed")
