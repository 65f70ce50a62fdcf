"""The Reports page's layout at the widths an admin meets in the dashboard (1280 and 800 px
windows): every column of the campaign table reachable, and the charts' words giving the year
of the range they describe, the activity chart's days too where it is needed."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import FrameLocator, Page, Route, expect

from tests.browser.conftest import LiveSite, Seeded
from tests.browser.pages import WIDTHS, app_frame, check_a11y, open_page

pytestmark = pytest.mark.browser


def _inside(app: FrameLocator, region_name: str, column: str) -> bool:
    region = app.get_by_role("region", name=region_name).bounding_box()
    header = app.get_by_role("columnheader", name=re.compile("^" + column)).bounding_box()
    assert region and header
    return (
        region["x"] <= header["x"] + 0.5
        and header["x"] + header["width"] <= region["x"] + region["width"] + 0.5
    )


def test_every_campaign_column_is_reachable(
    page: Page, live_site: LiveSite, seeded: Seeded
) -> None:
    page.set_viewport_size(WIDTHS["1280"])
    app = open_page(page, live_site, "Reports")
    expect(app.locator("#campaign-rows tr")).to_have_count(3)
    region = app.get_by_role("region", name="Campaign table")
    # A wide page shows all nine columns at once: nothing cut at the region's edge.
    assert region.evaluate("e => e.scrollWidth <= e.clientWidth"), "the table is cut at 1280 px"
    assert _inside(app, "Campaign table", "Revenue per recipient")
    expect(
        app.get_by_role("columnheader", name=re.compile("^Revenue per recipient"))
    ).to_be_visible()

    # A narrow one scrolls the table inside its focusable region, by keyboard too.
    page.set_viewport_size(WIDTHS["800"])
    expect(region).to_have_attribute("tabindex", "0")
    assert not _inside(app, "Campaign table", "Revenue per recipient")
    region.focus()
    for _ in range(60):
        if _inside(app, "Campaign table", "Revenue per recipient"):
            break
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(50)
    assert _inside(app, "Campaign table", "Revenue per recipient"), "the last column is unreachable"
    # The page itself does not scroll sideways: only the table's region does.
    assert app.locator("html").evaluate("e => e.scrollWidth <= e.clientWidth")


def test_the_charts_say_the_year_of_the_range(
    page: Page, live_site: LiveSite, seeded: Seeded
) -> None:
    app = open_page(page, live_site, "Reports")
    expect(app.locator("#campaign-rows tr")).to_have_count(3)
    app.get_by_label("Sent from").fill("2030-01-01")
    app.get_by_label("Sent until").fill("2030-02-01")
    charts = app.locator("#charts")
    expect(charts).to_contain_text("sent from 1 Jan 2030 until 1 Feb 2030")
    expect(charts.get_by_text(re.compile(r"^No campaign sent from .* has brought"))).to_have_text(
        "No campaign sent from 1 Jan 2030 until 1 Feb 2030 has brought an order yet."
    )
    # One bound only: still with its year.
    app.get_by_label("Sent until").fill("")
    expect(charts).to_contain_text("for the campaigns sent from 1 Jan 2030.")


def _activity(days: list[str]) -> list[dict[str, Any]]:
    return [{"day": day, "opens": 3 + i, "clicks": 1} for i, day in enumerate(days)]


def test_the_activity_chart_says_the_year_where_it_is_needed(
    page: Page, live_site: LiveSite, seeded: Seeded
) -> None:
    """Opens and clicks over time: days of this year as "3 Dec"; a range over a year end or of
    an earlier year with each day's year, in the summary and on the axis (as the range's
    words, through the same helper)."""
    year = 2026
    # The page's "this year" from a clock of the test's, not the machine's (a run on New Year's
    # Eve would see two years).
    page.clock.set_fixed_time(datetime(year, 6, 15, 12, tzinfo=UTC))
    shown = {"days": [f"{year - 1}-12-30", f"{year - 1}-12-31", f"{year}-01-02"]}

    def campaigns(route: Route) -> None:
        response = route.fetch()
        data = response.json()
        data["activity"] = _activity(shown["days"])
        route.fulfill(response=response, body=json.dumps(data))

    page.route(re.compile(r"/api/engagement/campaigns\?"), campaigns)
    app = open_page(page, live_site, "Reports")
    expect(app.locator("#campaign-rows tr")).to_have_count(3)
    chart = app.locator("#charts").get_by_role("figure", name="Opens and clicks over time")
    summary = chart.locator("[id$='-summary']")
    axis = chart.locator("svg text.chart-label")

    # Over a year end: every day with its year.
    expect(summary).to_contain_text(f"from 30 Dec {year - 1} to 2 Jan {year};")
    expect(summary).to_contain_text(f"the most opens, 5, on 2 Jan {year}.")
    expect(axis.filter(has_text=f"30 Dec {year - 1}")).to_have_count(1)
    expect(axis.filter(has_text=f"2 Jan {year}")).to_have_count(1)

    # An earlier year's range: its year too.
    shown["days"] = [f"{year - 1}-03-01", f"{year - 1}-03-05"]
    app.get_by_label("Sent from").fill(f"{year - 1}-01-01")
    expect(summary).to_contain_text(f"from 1 Mar {year - 1} to 5 Mar {year - 1};")
    expect(axis.filter(has_text=f"5 Mar {year - 1}")).to_have_count(1)

    # This year's days only: day and month are enough.
    shown["days"] = [f"{year}-01-02", f"{year}-01-04"]
    app.get_by_label("Sent from").fill(f"{year}-01-01")
    expect(summary).to_contain_text("from 2 Jan to 4 Jan;")
    expect(axis.filter(has_text=re.compile(r"^2 Jan$"))).to_have_count(1)
    check_a11y(app_frame(page), "the Reports page's activity chart")
