"""Activity: a "Show more" whose rows could not be read does not count them as shown. The text
under the table still says how many rows it shows, and the next "Show more" adds one page to
those. The list is made by the test (a long one, whatever the site holds)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import LiveSite
from tests.browser.pages import app_frame, check_a11y, open_page

pytestmark = pytest.mark.browser

TOTAL = 300


def item(n: int) -> dict[str, object]:
    return {
        "id": 900_000 + n,
        "kind": "test.long_list",
        "category": "job",
        "status": "done",
        "summary": f"Test job {n}",
        "subject": f"Test job {n}",
        "attempts": 1,
        "can_retry": False,
        "updated_at": "2026-01-02T10:00:00Z",
        "finished_at": "2026-01-02T10:00:00Z",
    }


def test_a_failed_show_more_does_not_count_the_rows_it_never_showed(
    page: Page, live_site: LiveSite
) -> None:
    failing = {"on": False}

    def long_list(route: Route) -> None:
        if failing["on"]:
            route.fulfill(status=503, body="")
            return
        response = route.fetch()
        body = response.json()
        limit = int(parse_qs(urlparse(route.request.url).query)["limit"][0])
        body["items"] = [item(n) for n in range(min(limit, TOTAL))]
        body["counts"] = {"done": TOTAL}
        route.fulfill(response=response, json=body)

    page.route("**/api/activity?*", long_list)
    app = open_page(page, live_site, "Activity")
    more = app.locator("#activity-more")
    rows = app.locator("#activity-rows tr")
    expect(more).to_contain_text(f"Showing the latest 50 of {TOTAL}.")
    expect(rows).to_have_count(50)
    show_more = more.get_by_role("button", name="Show more")

    failing["on"] = True
    show_more.focus()
    page.keyboard.press("Enter")
    alert = app.get_by_role("alert").filter(has_text="The activity could not be loaded")
    expect(alert).to_be_visible()
    expect(show_more).to_be_enabled()
    expect(show_more).to_be_focused()
    expect(rows).to_have_count(50)
    expect(more).to_contain_text(f"Showing the latest 50 of {TOTAL}.")
    check_a11y(app_frame(page), "Activity after a failed Show more")

    # The app answers again: Refresh reads the 50 rows shown, and Show more adds 50 to them.
    failing["on"] = False
    app.get_by_role("button", name="Refresh").click()
    expect(alert).to_have_count(0)
    expect(more).to_contain_text(f"Showing the latest 50 of {TOTAL}.")
    expect(rows).to_have_count(50)
    show_more.click()
    expect(more).to_contain_text(f"Showing the latest 100 of {TOTAL}.")
    expect(rows).to_have_count(100)
