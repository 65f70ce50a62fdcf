"""Reports: a sort's reload replaced by the page's own refresh (a collection just ended), which
then fails, leaves the table as it was: not loading, its header saying the sort of the rows it
still shows. Requests are held by the test and let go in the order it chooses (no timing)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import LiveSite, Seeded
from tests.browser.pages import app_api, app_frame, check_a11y, open_page
from tests.browser.test_late_answers import Held

pytestmark = pytest.mark.browser


def test_a_failed_refresh_that_replaced_a_sort_stops_the_rows_loading(
    page: Page, live_site: LiveSite, seeded: Seeded
) -> None:
    app = open_page(page, live_site, "Reports")
    rows = app.locator("#campaign-rows")
    expect(rows.locator("tr").first).to_contain_text("Summer sale")  # newest first
    sent = app.locator('th[data-sort="sent_at"]')
    title = app.locator('th[data-sort="title"]')
    expect(sent).to_have_attribute("aria-sort", "descending")
    with app_api(live_site) as api:
        run = api.get("/api/engagement/settings").json()
    # "Sync engagement now" queues a collection, which the page follows; its next look finds
    # it ended, and the page reads the report again by itself (no collection really runs).
    queued = {**run, "state": "queued"}
    ended = {**run, "state": "idle"}

    def sync(route: Route) -> None:
        route.fulfill(status=202, json=queued)

    def settings(route: Route) -> None:
        route.fulfill(json=ended)

    page.route("**/api/engagement/sync*", sync)
    page.route("**/api/engagement/settings*", settings)
    held = Held(page, lambda route: True)
    page.route("**/api/engagement/campaigns*", held)

    app.get_by_role("button", name="Campaign", exact=True).click()
    sorting = held.first()
    expect(rows).to_have_attribute("aria-busy", "true")
    app.get_by_role("button", name="Sync engagement now").click()
    refresh = held.first()  # the page's own read, once the collection ended
    sorting.continue_()  # dropped: the refresh replaced it
    refresh.fulfill(status=503, body="")

    alert = app.get_by_role("alert").filter(has_text="The reports could not be loaded")
    expect(alert).to_be_visible()
    # The rows are still those sorted by Sent: not loading, and the header says their sort.
    expect(rows).not_to_have_attribute("aria-busy", "true")
    expect(sent).to_have_attribute("aria-sort", "descending")
    expect(title).not_to_have_attribute("aria-sort", "ascending")
    expect(app.locator("#campaigns-caption")).to_contain_text("sorted by send date, descending")
    expect(rows.locator("tr").first).to_contain_text("Summer sale")
    check_a11y(app_frame(page), "Reports after a refresh that replaced a sort failed")
    # Retry reads the rows shown again; the next sort works.
    page.unroute("**/api/engagement/campaigns*")
    alert.get_by_role("button", name="Retry").click()
    expect(alert).to_have_count(0)
    app.get_by_role("button", name="Campaign", exact=True).click()
    expect(title).to_have_attribute("aria-sort", "ascending")
    expect(rows).not_to_have_attribute("aria-busy", "true")
