"""The Reports page, the customer panel's engagement and the Audiences page's engagement
settings in Chromium, inside the sandbox dashboard: the campaign table sorted by its headings
and narrowed to dates, the charts with their tables, "Sync engagement now", light and dark,
axe-core clean. Engagement is put in the app's database directly (as the collector writes it)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import FrameLocator, Page, expect
from sqlalchemy import and_, delete, or_, select

from addon.audiences.service import IMPORT_JOB, IMPORTED_KIND
from addon.db.engine import Database
from addon.db.types import utcnow
from addon.engagement.jobs import COLLECT_JOB
from addon.engagement.models import RunState
from addon.installations.models import Installation
from addon.jobs.models import Job, JobStatus
from sandboxes.mailchimp.campaigns import record_activity, send_campaign
from tests.browser.conftest import LiveSite
from tests.browser.pages import app_frame, check_a11y, said, set_theme
from tests.browser.test_subscription_pages import (
    app_api,
    eventually,
    in_thread,
    mailchimp_api,
    only_users,
    open_page,
    shot,
)
from tests.engagement.seeding import MODELS, Purchase, seed
from tests.sandbox_mailchimp.helpers import list_body

pytestmark = pytest.mark.browser

EMAIL = "engaged.reader@example.com"
AUDIENCE = "Engagement news"


@dataclass
class Seeded:
    now: datetime
    customer_id: str
    finished: datetime


# What the campaigns of this page share where it differs from `CAMPAIGN_DEFAULTS`.
STORE_NEWS: dict[str, Any] = {
    "list_id": "news",
    "list_name": "Store news",
    "unique_opens": 0,
    "unique_clicks": 0,
    "bounces": 0,
}


# Jobs whose run would overwrite the seeded rows: a collection (connecting the account imports
# the audiences, whose import starts one; a previous test's "Sync engagement now" queues one).
COLLECTING = (COLLECT_JOB, IMPORT_JOB, IMPORTED_KIND)


async def _quiet(database: Database) -> None:
    """Wait until no collection runs or is due, then drop the pending ones (the hourly
    schedule's), so none rewrites the seeded rows while a test looks at them."""
    busy = (
        select(Job.id)
        .where(
            Job.kind.in_(COLLECTING),
            or_(
                Job.status == JobStatus.RUNNING,
                and_(Job.status == JobStatus.PENDING, Job.run_after <= utcnow()),
            ),
        )
        .limit(1)
    )
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        async with database.session() as session:
            if (await session.execute(busy)).first() is None:
                break
        assert asyncio.get_running_loop().time() < deadline, "a collection never ended"
        await asyncio.sleep(0.1)  # a real worker in another thread: polled, with a bound
    async with database.transaction() as session:
        await session.execute(
            delete(Job).where(Job.kind == COLLECT_JOB, Job.status == JobStatus.PENDING)
        )


async def _seed(database_url: str, customer_id: str, now: datetime) -> None:
    database = Database(database_url)
    try:
        await _quiet(database)
        async with database.transaction() as session:
            installation_id = (await session.execute(select(Installation.id))).scalar_one()
            for model in MODELS:
                await session.execute(delete(model))
            day = timedelta(days=1)
            await seed(
                session,
                installation_id,
                settings=dict(
                    state=RunState.IDLE,
                    last_started_at=now - timedelta(hours=1, minutes=1),
                    last_finished_at=now - timedelta(hours=1),
                    next_run_at=now + timedelta(minutes=1),
                    campaigns_total=3,
                    campaigns_done=3,
                    members_seen=3,
                    list_cursors={},
                ),
                campaigns=[
                    dict(
                        STORE_NEWS,
                        campaign_id="c-summer",
                        title="Summer sale",
                        sent_at=now - 5 * day,
                        recipients=1000,
                        opens=600,
                        open_rate=0.45,
                        clicks=120,
                        click_rate=0.09,
                        unsubscribes=4,
                        orders=12,
                        revenue_cents=123456,
                    ),
                    dict(
                        STORE_NEWS,
                        campaign_id="c-news",
                        title="May newsletter",
                        sent_at=now - 20 * day,
                        recipients=800,
                        opens=300,
                        open_rate=0.30,
                        clicks=40,
                        click_rate=0.05,
                        unsubscribes=9,
                        orders=2,
                        revenue_cents=9900,
                    ),
                    dict(
                        STORE_NEWS,
                        campaign_id="c-old",
                        title="April picks",
                        sent_at=now - 50 * day,
                        recipients=500,
                        opens=100,
                        open_rate=0.18,
                        clicks=10,
                        click_rate=0.02,
                        unsubscribes=1,
                        orders=0,
                        revenue_cents=0,
                        currency=None,
                    ),
                ],
                days=[
                    (campaign, (now - back * day).date(), opens, clicks)
                    for back, campaign, opens, clicks in [
                        (5, "c-summer", 400, 80),
                        (4, "c-summer", 150, 30),
                        (20, "c-news", 250, 30),
                        (18, "c-news", 50, 10),
                        (50, "c-old", 100, 10),
                    ]
                ],
                members=[
                    dict(  # the reader who bought
                        email_hash="1" * 32,
                        saleor_user_id=customer_id,
                        campaigns_received=2,
                        opens=5,
                        clicks=2,
                        last_open=now - 4 * day,
                        last_click=now - 4 * day,
                        member_rating=4,
                        tags={"news": ["vip"]},
                        recent_campaigns=["c-summer", "c-news"],
                    ),
                    dict(
                        email_hash="2" * 32,
                        saleor_user_id="VXNlcjo5OTk5",
                        campaigns_received=1,
                        opens=0,
                        clicks=0,
                        tags={},
                        recent_campaigns=["c-old"],
                    ),
                    dict(  # a guest
                        email_hash="3" * 32,
                        saleor_user_id=None,
                        campaigns_received=1,
                        opens=1,
                        clicks=0,
                        last_open=now - 2 * day,
                        tags={},
                        recent_campaigns=["c-summer"],
                    ),
                ],
                purchase=Purchase(
                    campaign_id="c-summer",
                    opens=4,
                    clicks=2,
                    store_id="default-channel",
                    order_id="1042",
                    total_cents=8950,
                    currency="USD",
                    ordered_at=now - 4 * day,
                ),
            )
    finally:
        await database.dispose()


async def _forget(database_url: str) -> None:
    database = Database(database_url)
    try:
        async with database.transaction() as session:
            for model in MODELS:
                await session.execute(delete(model))
    finally:
        await database.dispose()


@pytest.fixture
def seeded(live_site: LiveSite) -> Iterator[Seeded]:
    """A connected store with three collected campaigns and one customer who bought."""
    with app_api(live_site) as api:

        def answered() -> httpx.Response | None:
            response = api.get("/api/connection")  # the app is installed in the background
            return response if response.is_success else None

        if eventually(answered).json()["status"] != "connected":
            key = live_site.stack.demo_account.api_key
            assert api.post("/api/connection/api-key", json={"api_key": key}).is_success
    store = live_site.stack.saleor.store
    customer = store.find_customer_by_email(EMAIL) or store.create_customer(
        EMAIL, first_name="Enga", last_name="Ged"
    )
    now = datetime.now(UTC).replace(microsecond=0)
    in_thread(lambda: _seed(live_site.database_url, customer.global_id, now))
    yield Seeded(now=now, customer_id=customer.global_id, finished=now - timedelta(hours=1))
    in_thread(lambda: _forget(live_site.database_url))


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
    expect(summer).to_contain_text("$1.2346")  # revenue per recipient
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


def test_customer_panel_shows_the_customers_engagement(
    page: Page, live_site: LiveSite, seeded: Seeded, artifacts: Path
) -> None:
    minted = only_users(page)
    page.goto(f"{live_site.dashboard}customers?theme=light")
    page.get_by_role("link", name=f"Open {EMAIL}").click()
    page.get_by_text("More actions").click()
    page.get_by_role("link", name="Newsletter (Mailchimp)").click()
    panel = page.frame_locator("#app-frame")
    expect(panel.locator("#customer-email")).to_have_text(EMAIL)
    card = panel.get_by_role("region", name="Campaign engagement")
    expect(card).to_contain_text("Campaigns received")
    facts = card.locator("dl.facts")
    expect(facts).to_contain_text("4 of 5")
    last = card.get_by_role("table", name="Last campaigns sent to this customer")
    expect(last.locator("tbody tr")).to_have_count(2)
    expect(last.locator("tbody tr").first).to_contain_text("Summer sale")
    orders = card.get_by_role("table", name="Orders Mailchimp attributes to a campaign")
    expect(orders.locator("tbody tr")).to_contain_text(["1042"])
    expect(orders).to_contain_text("$89.50")
    assert minted, "the panel's token was not narrowed to MANAGE_USERS"
    check_a11y(app_frame(page), "the customer panel's engagement (light)")
    shot(page, artifacts, "customer-engagement-light", height=1400)
    set_theme(page, panel, "dark")
    check_a11y(app_frame(page), "the customer panel's engagement (dark)")
    shot(page, artifacts, "customer-engagement-dark", height=1400)


def test_engagement_settings_on_the_audiences_page(
    page: Page, live_site: LiveSite, artifacts: Path
) -> None:
    with app_api(live_site) as api:  # the dev stack installs the app in the background
        eventually(lambda: api.get("/api/connection").is_success)
    app = open_page(page, live_site, "Audiences & groups")
    section = app.get_by_role("region", name="Engagement")
    days = section.get_by_label("Activity update interval (days)")
    schedule = section.get_by_label("Collect")
    expect(days).to_have_value("30")
    expect(schedule.locator("option:checked")).to_have_text("Every hour")
    save = app.get_by_role("button", name="Save", exact=True)
    expect(save).to_be_disabled()
    try:
        days.fill("400")
        save.click()
        expect(app.locator("#engagement-days-error")).to_have_text(
            "Write a whole number of days from 1 to 365."
        )
        expect(days).to_be_focused()
        days.fill("14")
        schedule.select_option(label="Every 6 hours")
        check_a11y(app_frame(page), "the Audiences page's engagement settings (light)")
        save.click()
        said(app, "Audience settings saved")
        expect(save).to_be_disabled()
        with app_api(live_site) as api:
            run = api.get("/api/engagement/settings").json()
        assert (run["activity_interval_days"], run["schedule_minutes"]) == (14, 360)
        set_theme(page, app, "dark")
        check_a11y(app_frame(page), "the Audiences page's engagement settings (dark)")
        section.screenshot(path=str(artifacts / "audiences-engagement-dark.png"))
        # Discard puts the saved values back.
        days.fill("7")
        app.get_by_role("button", name="Discard").click()
        expect(days).to_have_value("14")
    finally:
        with app_api(live_site) as api:
            body = {"activity_interval_days": 30, "schedule_minutes": 60}
            assert api.put("/api/engagement/settings", json=body).is_success
