"""The Reports page's layout at the widths an admin meets in the dashboard (1280 and 800 px
windows): every column of the campaign table reachable, and the charts' words giving the year
of the range they describe."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import FrameLocator, Page, expect

from tests.browser.conftest import LiveSite, Seeded
from tests.browser.pages import WIDTHS, open_page

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
