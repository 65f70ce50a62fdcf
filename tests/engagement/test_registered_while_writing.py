"""A customer who registered while a collection wrote metadata was never matched: the next
scans skip that window of `updatedAt` (the app's own writes set it), which held her only
`updatedAt`. They now also read the customers who joined on the window's days (`dateJoined`,
which metadata writes do not move)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from addon.engagement.collector import _joined_days, _scan_ranges
from addon.engagement.metadata import SUMMARY_KEY
from addon.engagement.models import EngagementSettings
from tests.engagement.conftest import ALICE, Engagement

CAROL = "carol@grocer.example"


async def test_customer_registered_during_the_metadata_writes_gets_engagement(
    e: Engagement,
) -> None:
    """A first collection's writes take minutes (12,500 requests at 50 k customers). Carol, a
    subscriber, registers in the store during them, then opens and clicks a campaign."""
    await e.subscribe(CAROL)
    e.activity(e.send("News", e.at(days=-1)), (ALICE, "open", e.at(hours=-3)))
    await e.collect()
    # The run's write window, as a two-minute write leaves it.
    end = e.clock.now()
    async with e.services.db.transaction() as session:
        await session.execute(
            update(EngagementSettings)
            .where(EngagementSettings.installation_id == e.installation_id)
            .values(customers_written_from=end - timedelta(minutes=2), customers_written_until=end)
        )
    at = end - timedelta(minutes=1)
    carol = e.shop.saleor.store.create_customer(
        CAROL, "C", "Customer", date_joined=at, updated_at=at
    )
    assert carol.updated_at == at, carol.updated_at

    later = e.send("Later news", e.at(minutes=1))
    e.clock.advance(600)
    e.activity(later, (CAROL, "open", e.at(minutes=-5)), (CAROL, "click", e.at(minutes=-4)))
    e.clock.advance(3600)
    await e.collect()

    assert SUMMARY_KEY in e.private(CAROL), carol.global_id in e.metadata_writes()


def test_joined_days_are_read_only_when_a_write_window_is_skipped() -> None:
    since = datetime(2030, 3, 1, 23, 50, tzinfo=UTC)
    start, end = since + timedelta(minutes=5), since + timedelta(minutes=15)  # over midnight
    skipping = _scan_ranges(since, start, end)
    assert _joined_days(skipping, start, end) == (start.date(), end.date())
    assert _joined_days(_scan_ranges(since, None, None), None, None) is None
    # A window before the scan's start is not skipped: nothing more to read.
    assert _joined_days(_scan_ranges(end, since, start), since, start) is None
