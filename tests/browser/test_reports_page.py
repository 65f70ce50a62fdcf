"""The Reports page in Chromium, inside the sandbox dashboard: the campaign table sorted by its
headings and narrowed to dates, the charts with their tables, "Sync engagement now", light and
dark, axe-core clean. Engagement is put in the app's database directly (the `seeded` fixture), as
the collector writes it. The customer panel's engagement: tests/browser/test_customer_panel_page.py;
the Audiences page's engagement settings: tests/browser/test_subscription_pages.py."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import FrameLocator, Page, expect

from sandboxes.mailchimp.campaigns import record_activity, send_campaign
from tests.browser.conftest import EMAIL, LiveSite, Seeded, shot
from tests.browser.pages import (
    app_api,
    app_frame,
    check_a11y,
    eventually,
    mailchimp_api,
    open_page,
    set_theme,
)
from tests.sandbox_mailchimp.helpers import list_body

pytestmark = pytest.mark.browser

AUDIENCE = "Engagement news"


def _active_audience(live_site: LiveSite) -> tuple[str, dict[str, Any]]:
    """A new audience with the customer subscribed, imported and the store's only one; returns
    it and the audience settings to put back."""
    with mailchimp_api(live_site) as mc:
        created = mc.post("/lists", json=list_body(AUDIENCE))
        assert created.status_code == 200, created.text
        list_id = str(created.json()["id"])
        member = {"email_address": EMAIL, "status": "subscribed"}
        assert mc.post(f"/lists/{list_id}/members", json=member).status_code == 200
    with app_api(live_site) as api:
        before = api.get("/api/audiences").json()
        previous = {
            "active_list_ids": [a["list_id"] for a in before["audiences"] if a["active"]],
            "default_list_id": before["settings"]["default_list_id"],
        }
        assert api.post("/api/audiences/refresh").status_code == 202
        eventually(
            lambda: any(
                a["list_id"] == list_id for a in api.get("/api/audiences").json()["audiences"]
            )
        )
        body = {"active_list_ids": [list_id], "default_list_id": list_id}
        assert api.put("/api/audiences/settings", json=body).is_success
    return list_id, previous


def titles(app: FrameLocator) -> list[str]:
    return app.locator("#campaign-rows .campaign-title").all_text_contents()


def heading(app: FrameLocator, name: str) -> Any:
    return app.get_by_role("columnheader", name=re.compile("^" + name))


def test_reports_table_ranges_charts_and_sync(
    page: Page, live_site: LiveSite, seeded: Seeded, artifacts: Path
) -> None:
    mailchimp, demo = live_site.stack.mailchimp, live_site.stack.demo_account
    app = open_page(page, live_site, "Reports")
    expect(app.locator("#run-state")).to_have_text("Up to date")
    expect(app.locator("#campaign-rows tr")).to_have_count(3)
    # Newest send first; the sorted column says so to screen readers.
    assert titles(app) == ["Summer sale", "May newsletter", "April picks"]
    expect(heading(app, "Sent")).to_have_attribute("aria-sort", "descending")
    summer = app.locator("#campaign-rows tr").first
    expect(summer).to_contain_text("45%")
    expect(summer).to_contain_text("$1,234.56")
    expect(summer).to_contain_text("$1.23")  # revenue per recipient: the currency's decimals
    expect(app.locator("#totals")).to_contain_text("2,300")  # recipients

    # Sort by revenue: largest first, then smallest first; focus stays on the heading.
    revenue = heading(app, "Revenue$").get_by_role("button")
    revenue.click()
    expect(heading(app, "Revenue$")).to_have_attribute("aria-sort", "descending")
    expect(heading(app, "Sent")).not_to_have_attribute("aria-sort", re.compile(".*"))
    eventually(lambda: titles(app) == ["Summer sale", "May newsletter", "April picks"] or None)
    revenue.click()
    expect(heading(app, "Revenue$")).to_have_attribute("aria-sort", "ascending")
    eventually(lambda: titles(app) == ["April picks", "May newsletter", "Summer sale"] or None)
    expect(revenue).to_be_focused()
    heading(app, "Campaign").get_by_role("button").click()
    expect(heading(app, "Campaign")).to_have_attribute("aria-sort", "ascending")
    eventually(lambda: titles(app) == ["April picks", "May newsletter", "Summer sale"] or None)
    heading(app, "Click rate").get_by_role("button").click()
    eventually(lambda: titles(app) == ["Summer sale", "May newsletter", "April picks"] or None)

    # Dates: a start after the end is said in words; the last 30 days leave April out.
    start = app.get_by_label("Sent from")
    start.fill((seeded.now + timedelta(days=2)).date().isoformat())
    app.get_by_label("Sent until").fill(seeded.now.date().isoformat())
    expect(app.locator("#range-error")).to_have_text("The start date is after the end date.")
    start.fill((seeded.now - timedelta(days=30)).date().isoformat())
    expect(app.locator("#range-error")).to_have_text("")
    expect(app.locator("#campaign-rows tr")).to_have_count(2)
    expect(app.locator("#totals")).to_contain_text("1,800")

    # The charts, each with its numbers as a table.
    charts = app.locator("#charts")
    for name in ("Opens and clicks over time", "Revenue per campaign"):
        figure = charts.get_by_role("figure", name=name)
        expect(figure.get_by_role("img", name=name)).to_be_visible()
    revenue_chart = charts.get_by_role("figure", name="Revenue per campaign")
    revenue_chart.get_by_text("Show as a table").click()
    rows = revenue_chart.get_by_role("table").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Summer sale")
    expect(rows.first).to_contain_text("$1,234.56")
    activity = charts.get_by_role("figure", name="Opens and clicks over time")
    activity.get_by_text("Show as a table").click()
    expect(activity.get_by_role("table").locator("tbody tr")).to_have_count(4)
    split = charts.get_by_role("figure", name="Engaged and unengaged customers")
    split.get_by_text("Show as a table").click()
    customers = split.get_by_role("row", name=re.compile("^Customers"))
    expect(customers).to_contain_text("1 (50 %)")
    check_a11y(app_frame(page), "the Reports page (light)")
    shot(page, artifacts, "reports-light", height=2400)
    set_theme(page, app, "dark")
    check_a11y(app_frame(page), "the Reports page (dark)")
    shot(page, artifacts, "reports-dark", height=2400)
    set_theme(page, app, "light")

    app.get_by_role("button", name="All time").click()
    expect(app.locator("#campaign-rows tr")).to_have_count(3)

    # A campaign sent in Mailchimp since: Sync now queues a collection at once, the page
    # follows it and then shows the campaign the app read.
    list_id, previous = _active_audience(live_site)
    try:
        cid = send_campaign(mailchimp, demo, list_id, title="Autumn launch")
        record_activity(mailchimp, demo, cid, [(EMAIL, "open", None), (EMAIL, "click", None)])
        before = app.locator("#run-last").inner_text()
        app.get_by_role("button", name="Sync engagement now").click()
        expect(app.locator("#run-state")).not_to_have_text("Up to date")
        expect(app.locator("#run-last")).not_to_have_text(before, timeout=30_000)
        expect(app.locator("#run-state")).to_have_text("Up to date")
        expect(app.get_by_role("button", name="Sync engagement now")).to_be_enabled()
        launch = app.locator("#campaign-rows tr").filter(has_text="Autumn launch")
        expect(launch).to_contain_text("Engagement news")
        expect(launch.locator('td[data-label="Open rate"]')).to_have_text("100%")
    finally:
        with app_api(live_site) as api:
            api.put("/api/audiences/settings", json=previous)
