"""The engagement read functions (what the Reports page and customer panel show), on rows put
in directly."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from addon.clock import ManualClock
from addon.engagement import repository
from addon.engagement.models import RunState
from addon.engagement.views import cents
from addon.services import Services
from tests.engagement.seeding import Purchase, seed
from tests.factories import make_installation

NOW = datetime(2030, 3, 1, 12, tzinfo=UTC)


async def test_reads_campaigns_days_split_customer_and_run(
    services: Services, clock: ManualClock
) -> None:
    clock.set(NOW)
    installation_id = await make_installation(services)
    async with services.db.transaction() as session:
        assert (await repository.run_status(session, installation_id)).state == "never"
        assert await repository.customer_engagement(session, installation_id, "VXNlcjox") is None
        await seed(
            session,
            installation_id,
            settings=dict(
                activity_interval_days=30,
                schedule_minutes=60,
                state=RunState.IDLE,
                campaigns_total=2,
                campaigns_done=2,
                members_seen=3,
                list_cursors={},
            ),
            campaigns=[
                dict(campaign_id="new", sent_at=NOW - timedelta(days=2)),
                dict(campaign_id="old", sent_at=NOW - timedelta(days=40), revenue_cents=0),
            ],
            days=[("new", date(2030, 2, 28), 5, 1), ("old", date(2030, 1, 21), 7, 2)],
            members=[
                dict(  # a customer
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
                ),
                dict(  # a stale customer
                    email_hash="b" * 32,
                    saleor_user_id="VXNlcjoy",
                    last_open=NOW - timedelta(days=45),
                    tags={},
                    recent_campaigns=["old"],
                ),
                dict(  # a guest
                    email_hash="c" * 32,
                    last_click=NOW - timedelta(days=3),
                    tags={},
                    recent_campaigns=["new"],
                ),
            ],
            purchase=Purchase(
                campaign_id="new",
                opens=3,
                clicks=1,
                store_id="s1",
                order_id="o1",
                total_cents=4999,
                currency="USD",
                ordered_at=NOW - timedelta(hours=5),
            ),
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


def test_an_amount_is_kept_to_the_cent_half_a_cent_up() -> None:
    """As the Reports page rounds its figures (not half to even: 1.225 is 1.23, not 1.22)."""
    assert [cents(a) for a in (1.225, 1.235, "0.005", 19.994)] == [123, 124, 1, 1999]
