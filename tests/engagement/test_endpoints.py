"""The Reports page's API (/api/engagement): dashboard authentication, sorting by any column,
the date range, totals and chart series, bad input answered 422 in the app's error shape, the
settings and "Sync engagement now"; and a customer's engagement for the customer panel."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from addon.clock import ManualClock
from addon.engagement import reports
from addon.engagement.schemas import CampaignSort, SortDirection
from addon.engagement.views import DailyActivity
from addon.installations.models import Installation
from addon.jobs.models import Job
from addon.services import Services
from sandboxes.saleor import SaleorSandbox, SandboxApp
from tests.conftest import dashboard_headers
from tests.engagement.seeding import Purchase, campaign_row, seed

CUSTOMER = "VXNlcjo0Mg=="  # User:42


@pytest.fixture
def headers(saleor: SaleorSandbox, installed_app: SandboxApp) -> dict[str, str]:
    return dashboard_headers(saleor, installed_app)


async def _installation_id(services: Services) -> int:
    async with services.db.session() as session:
        return (await session.execute(select(Installation.id))).scalar_one()


async def _seed(services: Services, now: datetime) -> int:
    """Three campaigns (one without recipients), their days, one customer with an order."""
    installation_id = await _installation_id(services)
    async with services.db.transaction() as session:
        await seed(
            session,
            installation_id,
            campaigns=[
                dict(
                    campaign_id="spring",
                    sent_at=now - timedelta(days=3),
                    title="spring sale",
                    recipients=200,
                    unique_opens=100,
                    bounces=0,
                    open_rate=0.5,
                    orders=4,
                    revenue_cents=50000,
                    currency="EUR",
                ),
                dict(
                    campaign_id="winter",
                    sent_at=now - timedelta(days=60),
                    title="Winter news",
                    unique_opens=20,
                    bounces=0,
                    open_rate=0.2,
                    revenue_cents=0,
                    orders=0,
                    currency=None,
                ),
                dict(
                    campaign_id="test",
                    sent_at=now - timedelta(days=10),
                    title="Autumn test",
                    recipients=0,
                    unique_opens=0,
                    bounces=0,
                    open_rate=0.0,
                    click_rate=0.0,
                    revenue_cents=0,
                    orders=0,
                    currency="EUR",
                ),
            ],
            days=[
                ("spring", (now - timedelta(days=3)).date(), 30, 6),
                ("spring", (now - timedelta(days=1)).date(), 5, 1),
                ("winter", (now - timedelta(days=59)).date(), 7, 0),
            ],
            members=[
                dict(
                    email_hash="a" * 32,
                    saleor_user_id=CUSTOMER,
                    campaigns_received=2,
                    opens=3,
                    clicks=1,
                    last_open=now - timedelta(days=2),
                    last_click=now - timedelta(days=2),
                    member_rating=4,
                    tags={"L1": ["vip"]},
                    recent_campaigns=["spring", "winter"],
                ),
                dict(  # a guest
                    email_hash="b" * 32,
                    saleor_user_id=None,
                    campaigns_received=1,
                    opens=0,
                    clicks=0,
                    tags={},
                    recent_campaigns=["winter"],
                ),
            ],
            purchase=Purchase(
                campaign_id="spring",
                opens=3,
                clicks=1,
                store_id="s1",
                order_id="T3JkZXI6MQ==",
                total_cents=4599,
                currency="EUR",
                ordered_at=now - timedelta(days=2),
            ),
        )
    return installation_id


async def test_the_api_needs_a_dashboard_user(
    app_client: httpx.AsyncClient, saleor: SaleorSandbox, installed_app: SandboxApp
) -> None:
    for method, path in [
        ("GET", "/api/engagement/campaigns"),
        ("POST", "/api/engagement/sync"),
        ("GET", "/api/engagement/settings"),
        ("GET", f"/api/engagement/customers/{CUSTOMER}"),
    ]:
        response = await app_client.request(method, path)
        assert response.status_code == 401, path
        assert response.json()["error"]["code"] == "MISSING_AUTHENTICATION"
    # The page's settings need MANAGE_APPS; the customer panel's read needs MANAGE_USERS.
    users_only = dashboard_headers(saleor, installed_app, user_permissions=["MANAGE_USERS"])
    refused = await app_client.get("/api/engagement/campaigns", headers=users_only)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "MISSING_PERMISSIONS"
    apps_only = dashboard_headers(saleor, installed_app, user_permissions=["MANAGE_APPS"])
    refused = await app_client.get(f"/api/engagement/customers/{CUSTOMER}", headers=apps_only)
    assert refused.status_code == 403
    found = await app_client.get(f"/api/engagement/customers/{CUSTOMER}", headers=users_only)
    assert found.status_code == 404
    assert found.json()["error"]["code"] == "NOT_FOUND"


async def test_campaigns_sorted_by_any_column_in_a_range_with_totals_and_series(
    app_client: httpx.AsyncClient, headers: dict[str, str], services: Services, clock: ManualClock
) -> None:
    now = clock.now()
    await _seed(services, now)

    report = (await app_client.get("/api/engagement/campaigns", headers=headers)).json()
    assert [c["campaign_id"] for c in report["campaigns"]] == ["spring", "test", "winter"]
    assert (report["sort"], report["direction"]) == ("sent_at", "desc")
    spring = report["campaigns"][0]
    assert spring["revenue"] == 500.0 and spring["revenue_per_recipient"] == 2.5
    assert spring["collecting"] is True and report["campaigns"][2]["collecting"] is False
    totals = report["totals"]
    assert (totals["campaigns"], totals["recipients"], totals["orders"]) == (3, 300, 4)
    # Mailchimp's rate: unique opens over deliveries, (100 + 20 + 0) / (200 + 100 + 0).
    assert totals["open_rate"] == pytest.approx(0.4)
    assert totals["revenue"] == [{"currency": "EUR", "amount": 500.0}]
    # Over the recipients of the EUR campaigns only (200 + 0): the other has no currency.
    assert totals["revenue_per_recipient"] == [{"currency": "EUR", "amount": 2.5}]
    assert report["top_revenue"] == [
        {"campaign_id": "spring", "title": "spring sale", "revenue": 500.0, "currency": "EUR"}
    ]
    # The days between two days with activity are there, as zeros.
    days = [(p["day"], p["opens"]) for p in report["activity"]]
    assert len(days) == 59 and days[0][1] == 7 and days[-1][1] == 5 and days[1][1] == 0
    assert report["split"] == {
        "engaged_customers": 1,
        "unengaged_customers": 0,
        "engaged_guests": 0,
        "unengaged_guests": 1,
    }
    assert report["run"]["state"] == "never"

    async def order(sort: str, direction: str) -> list[str]:
        params = {"sort": sort, "direction": direction}
        answer = await app_client.get("/api/engagement/campaigns", params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        return [c["campaign_id"] for c in answer.json()["campaigns"]]

    assert await order("title", "asc") == ["test", "spring", "winter"]  # case does not matter
    assert await order("open_rate", "desc") == ["spring", "winter", "test"]
    # Money sorts by currency, then amount: the campaign without one (no revenue) first
    # ascending, last descending.
    assert await order("revenue", "asc") == ["winter", "test", "spring"]
    assert await order("revenue", "desc") == ["spring", "test", "winter"]
    # No recipients, no revenue per recipient: last, whichever the direction.
    assert await order("revenue_per_recipient", "asc") == ["winter", "spring", "test"]
    assert await order("revenue_per_recipient", "desc") == ["spring", "winter", "test"]

    # Whole days, both ends included.
    sent = (now - timedelta(days=3)).date()
    params = {"sent_from": sent.isoformat(), "sent_to": sent.isoformat()}
    ranged = await app_client.get("/api/engagement/campaigns", params=params, headers=headers)
    body = ranged.json()
    assert [c["campaign_id"] for c in body["campaigns"]] == ["spring"]
    assert body["totals"]["recipients"] == 200
    assert [p["opens"] for p in body["activity"]] == [30, 0, 5]
    params = {"sent_from": (now + timedelta(days=1)).date().isoformat()}
    empty = await app_client.get("/api/engagement/campaigns", params=params, headers=headers)
    assert empty.json()["campaigns"] == [] and empty.json()["activity"] == []
    assert empty.json()["totals"]["open_rate"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        # Named in words, as the Reports page shows the message (`validation_messages.py`).
        ({"sort": "subject"}, "Sort must be 'sent_at', 'title'"),
        ({"direction": "up"}, "Direction must be 'asc' or 'desc'"),
        ({"sent_from": "2026-02-30"}, "Sent from"),
        ({"sent_to": "yesterday"}, "Sent to"),
        ({"sent_from": "2026-03-02", "sent_to": "2026-03-01"}, "start date is after"),
    ],
)
async def test_bad_report_parameters_are_refused_in_words(
    app_client: httpx.AsyncClient, headers: dict[str, str], params: dict[str, str], field: str
) -> None:
    response = await app_client.get("/api/engagement/campaigns", params=params, headers=headers)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == "INVALID_INPUT"
    assert field in body["error"]["message"]


async def test_the_last_day_of_the_calendar_is_a_range_end(
    app_client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    params = {"sent_from": "0001-01-01", "sent_to": "9999-12-31"}
    response = await app_client.get("/api/engagement/campaigns", params=params, headers=headers)
    assert response.status_code == 200, response.text


async def test_settings_are_read_validated_and_saved(
    app_client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    run = (await app_client.get("/api/engagement/settings", headers=headers)).json()
    assert (run["activity_interval_days"], run["schedule_minutes"]) == (30, 60)
    for bad in [
        {"activity_interval_days": 0, "schedule_minutes": 60},
        {"activity_interval_days": 366, "schedule_minutes": 60},
        {"activity_interval_days": 30, "schedule_minutes": 14},
        {"activity_interval_days": 30, "schedule_minutes": 1441},
        {"activity_interval_days": "30", "schedule_minutes": 60},
        {"activity_interval_days": True, "schedule_minutes": 60},
        {"activity_interval_days": 30},
        {"activity_interval_days": 30, "schedule_minutes": 60, "extra": 1},
    ]:
        response = await app_client.put("/api/engagement/settings", json=bad, headers=headers)
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["error"]["code"] == "INVALID_INPUT"
    body = {"activity_interval_days": 7, "schedule_minutes": 15}
    saved = await app_client.put("/api/engagement/settings", json=body, headers=headers)
    assert saved.status_code == 200, saved.text
    assert (saved.json()["activity_interval_days"], saved.json()["schedule_minutes"]) == (7, 15)
    again = (await app_client.get("/api/engagement/settings", headers=headers)).json()
    assert (again["activity_interval_days"], again["schedule_minutes"]) == (7, 15)


async def test_sync_now_queues_one_collection(
    app_client: httpx.AsyncClient, headers: dict[str, str], services: Services
) -> None:
    async def jobs() -> int:
        async with services.db.session() as session:
            return int((await session.execute(select(func.count()).select_from(Job))).scalar_one())

    before = await jobs()
    first = await app_client.post("/api/engagement/sync", headers=headers)
    assert first.status_code == 202, first.text
    assert first.json()["state"] == "queued"
    queued = await jobs()
    assert queued > before  # the collection now (and the schedule's next, on a first press)
    # Pressed again while it waits: the same collection, no second job.
    second = await app_client.post("/api/engagement/sync", headers=headers)
    assert second.status_code == 202 and second.json()["state"] == "queued"
    assert await jobs() == queued
    report = (await app_client.get("/api/engagement/campaigns", headers=headers)).json()
    assert report["run"]["state"] == "queued"


async def test_a_customers_engagement_for_the_panel(
    app_client: httpx.AsyncClient,
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    services: Services,
    clock: ManualClock,
) -> None:
    await _seed(services, clock.now())
    headers = dashboard_headers(saleor, installed_app, user_permissions=["MANAGE_USERS"])
    response = await app_client.get(f"/api/engagement/customers/{CUSTOMER}", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["campaigns_received"], body["opens"], body["clicks"]) == (2, 3, 1)
    assert body["member_rating"] == 4
    assert [(c["campaign_id"], c["opened"]) for c in body["last_campaigns"]] == [
        ("spring", True),
        ("winter", False),
    ]
    [order] = body["attributed_orders"]
    assert (order["campaign_title"], order["total"], order["currency"]) == (
        "spring sale",
        45.99,
        "EUR",
    )
    too_long = await app_client.get("/api/engagement/customers/" + "x" * 201, headers=headers)
    assert too_long.status_code == 422


# --- the shaping rules on their own ------------------------------------------------------------


def test_totals_keep_currencies_apart() -> None:
    rows = [
        campaign_row("a", recipients=100, orders=2, revenue=Decimal("30.00"), currency="EUR"),
        campaign_row("b", recipients=50, orders=1, revenue=Decimal("90.00"), currency="USD"),
        campaign_row("c", recipients=50),
    ]
    totals = reports.totals(rows)
    assert [(a.currency, a.amount) for a in totals.revenue] == [("USD", 90.0), ("EUR", 30.0)]
    # Each currency's revenue per recipient of that currency's campaigns (not of "c", nor of
    # the other currency's).
    assert [(a.currency, a.amount) for a in totals.revenue_per_recipient] == [
        ("USD", 1.8),
        ("EUR", 0.3),
    ]


def test_money_sorts_within_each_currency() -> None:
    rows = [
        campaign_row("usd-90", revenue=Decimal("90"), orders=1, currency="USD"),
        campaign_row("eur-80", revenue=Decimal("80"), orders=1, currency="EUR"),
        campaign_row("usd-10", revenue=Decimal("10"), orders=1, currency="USD"),
        campaign_row("none"),
        campaign_row("eur-empty", recipients=0, currency="EUR"),
    ]
    campaigns = [reports.campaign_read(r) for r in rows]

    def order(sort: CampaignSort, direction: SortDirection) -> list[str]:
        return [c.campaign_id for c in reports.sort_campaigns(campaigns, sort, direction)]

    desc, asc = SortDirection.DESC, SortDirection.ASC
    # By currency code, then amount; the other direction reverses it all.
    assert order(CampaignSort.REVENUE, asc) == ["none", "eur-empty", "eur-80", "usd-10", "usd-90"]
    assert order(CampaignSort.REVENUE, desc) == ["usd-90", "usd-10", "eur-80", "eur-empty", "none"]
    # No recipients: no revenue per recipient, last either way.
    assert order(CampaignSort.REVENUE_PER_RECIPIENT, desc) == [
        "usd-90", "usd-10", "eur-80", "none", "eur-empty"
    ]  # fmt: skip
    # Other columns are not grouped.
    assert order(CampaignSort.RECIPIENTS, asc)[0] == "eur-empty"


def test_top_revenue_and_sorting_ties() -> None:
    older = datetime(2030, 1, 1, tzinfo=UTC)
    rows = [
        campaign_row("old", sent_at=older, revenue=Decimal("5"), orders=1),
        campaign_row("new", sent_at=older + timedelta(days=1), revenue=Decimal("5"), orders=1),
        campaign_row("none"),
    ]
    campaigns = [reports.campaign_read(r) for r in rows]
    assert [b.campaign_id for b in reports.top_revenue(campaigns)] == ["new", "old"]
    ordered = reports.sort_campaigns(campaigns, CampaignSort.REVENUE, SortDirection.DESC)
    assert [c.campaign_id for c in ordered] == ["new", "old", "none"]


def test_a_long_activity_span_keeps_only_active_days() -> None:
    first, last = date(2020, 1, 1), date(2024, 1, 1)
    series = reports.activity_series(
        [DailyActivity(day=first, opens=1, clicks=0), DailyActivity(day=last, opens=2, clicks=1)]
    )
    assert [p.day for p in series] == [first, last]
