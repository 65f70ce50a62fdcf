"""The engagement read functions (what the Reports page and customer panel show), on rows put
in directly."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from addon.clock import ManualClock
from addon.engagement import repository
from addon.engagement.models import (
    EngagementCampaign,
    EngagementDay,
    EngagementMember,
    EngagementMemberCampaign,
    EngagementOrder,
    EngagementSettings,
    RunState,
)
from addon.services import Services
from tests.factories import make_installation

NOW = datetime(2030, 3, 1, 12, tzinfo=UTC)


def _campaign(
    installation_id: int, campaign_id: str, sent_at: datetime, **kw: object
) -> EngagementCampaign:
    values: dict[str, object] = {
        "installation_id": installation_id,
        "campaign_id": campaign_id,
        "list_id": "L1",
        "list_name": "Newsletter",
        "title": f"Campaign {campaign_id}",
        "subject": "Hello",
        "sent_at": sent_at,
        "recipients": 100,
        "opens": 50,
        "unique_opens": 40,
        "open_rate": 0.4,
        "clicks": 10,
        "unique_clicks": 8,
        "click_rate": 0.08,
        "unsubscribes": 1,
        "bounces": 2,
        "orders": 3,
        "revenue_cents": 12345,
        "currency": "USD",
        **kw,
    }
    return EngagementCampaign(**values)


async def test_reads_campaigns_days_split_customer_and_run(
    services: Services, clock: ManualClock
) -> None:
    clock.set(NOW)
    installation_id = await make_installation(services)
    async with services.db.transaction() as session:
        assert (await repository.run_status(session, installation_id)).state == "never"
        assert await repository.customer_engagement(session, installation_id, "VXNlcjox") is None
        session.add_all(
            [
                EngagementSettings(
                    installation_id=installation_id,
                    activity_interval_days=30,
                    schedule_minutes=60,
                    state=RunState.IDLE,
                    campaigns_total=2,
                    campaigns_done=2,
                    members_seen=3,
                    list_cursors={},
                ),
                _campaign(installation_id, "new", NOW - timedelta(days=2)),
                _campaign(installation_id, "old", NOW - timedelta(days=40), revenue_cents=0),
                EngagementDay(
                    installation_id=installation_id,
                    campaign_id="new",
                    day=date(2030, 2, 28),
                    opens=5,
                    clicks=1,
                ),
                EngagementDay(
                    installation_id=installation_id,
                    campaign_id="old",
                    day=date(2030, 1, 21),
                    opens=7,
                    clicks=2,
                ),
            ]
        )
        customer = EngagementMember(
            installation_id=installation_id,
            email_hash="a" * 32,
            saleor_user_id="VXNlcjox",
            campaigns_received=2,
            opens=3,
            clicks=1,
            last_open=NOW - timedelta(days=1),
            last_click=NOW - timedelta(days=1),
            member_rating=4,
            tags={"L1": ["vip"]},
            recent_campaigns=["new", "old"],
        )
        stale = EngagementMember(
            installation_id=installation_id,
            email_hash="b" * 32,
            saleor_user_id="VXNlcjoy",
            last_open=NOW - timedelta(days=45),
            tags={},
            recent_campaigns=["old"],
        )
        guest = EngagementMember(
            installation_id=installation_id,
            email_hash="c" * 32,
            last_click=NOW - timedelta(days=3),
            tags={},
            recent_campaigns=["new"],
        )
        session.add_all([customer, stale, guest])
        await session.flush()
        session.add_all(
            [
                EngagementMemberCampaign(
                    installation_id=installation_id,
                    member_id=customer.id,
                    campaign_id="new",
                    opens=3,
                    clicks=1,
                ),
                EngagementOrder(
                    installation_id=installation_id,
                    store_id="s1",
                    order_id="o1",
                    campaign_id="new",
                    member_id=customer.id,
                    total_cents=4999,
                    currency="USD",
                    ordered_at=NOW - timedelta(hours=5),
                ),
            ]
        )

    async with services.db.session() as session:
        rows = await repository.campaign_rows(
            session, installation_id, sent_from=None, sent_to=None
        )
        assert [(r.campaign_id, r.collecting) for r in rows] == [("new", True), ("old", False)]
        assert rows[0].revenue == Decimal("123.45")
        recent = await repository.campaign_rows(
            session, installation_id, sent_from=NOW - timedelta(days=10), sent_to=NOW
        )
        assert [r.campaign_id for r in recent] == ["new"]
        days = await repository.daily_activity(
            session, installation_id, sent_from=NOW - timedelta(days=10), sent_to=None
        )
        assert [(d.day, d.opens, d.clicks) for d in days] == [(date(2030, 2, 28), 5, 1)]
        assert (
            len(
                await repository.daily_activity(
                    session, installation_id, sent_from=None, sent_to=None
                )
            )
            == 2
        )
        split = await repository.engagement_split(session, installation_id)
        assert (
            split.engaged_customers,
            split.unengaged_customers,
            split.engaged_guests,
            split.unengaged_guests,
        ) == (1, 1, 1, 0)
        found = await repository.customer_engagement(session, installation_id, "VXNlcjox")
        assert found is not None
        assert (found.campaigns_received, found.opens, found.member_rating) == (2, 3, 4)
        assert found.tags == {"L1": ["vip"]}
        assert [(c.campaign_id, c.opened, c.clicked) for c in found.last_campaigns] == [
            ("new", True, True),
            ("old", False, False),
        ]
        [order] = found.attributed_orders
        assert (order.order_id, order.campaign_title, order.total) == (
            "o1",
            "Campaign new",
            Decimal("49.99"),
        )
        run = await repository.run_status(session, installation_id)
        assert (run.state, run.campaigns_done, run.members_seen) == ("idle", 2, 3)
