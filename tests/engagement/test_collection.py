"""Collection end to end: the app's worker against the Mailchimp and Saleor sandboxes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from addon.audiences.service import enqueue_import
from addon.engagement import repository
from addon.engagement.collector import (
    CLOSING_GRACE,
    SCAN_OVERLAP,
    _next_scan_from,
    _scan_ranges,
)
from addon.engagement.metadata import SUMMARY_KEY, TAGS_PREFIX
from addon.engagement.models import EngagementMember, EngagementOrder, EngagementSettings
from addon.erasure.jobs import enqueue_erasure
from addon.erasure.schemas import EraseRequest, ErasureSource
from addon.errors import Unprocessable
from addon.jobs.models import Job, JobStatus
from addon.jobs.worker import Worker
from sandboxes.mailchimp.campaign_state import remove_campaign
from sandboxes.mailchimp.campaigns import set_member_rating
from sandboxes.saleor.sandbox_api import MUTATION_COUNT_LIMIT
from tests.engagement.conftest import ALICE, BOB, GUEST, Engagement, FailingNth

CAROL = "carol@grocer.example"


async def _tag(e: Engagement, email: str, name: str) -> None:
    tagged = await e.shop.mailchimp.call(
        e.shop.account,
        "POST",
        f"/lists/{e.shop.list_id}/members/{email}/tags",
        body={"tags": [{"name": name, "status": "active"}]},
    )
    assert tagged.status == 204


async def test_first_run_imports_campaigns_and_writes_customers_once(e: Engagement) -> None:
    campaign = e.send("Spring sale", e.at(days=-2))
    e.activity(
        campaign,
        (ALICE, "open", e.at(days=-2, hours=1)),
        (ALICE, "open", e.at(days=-1)),
        (ALICE, "click", e.at(days=-1, minutes=1)),
        (GUEST, "open", e.at(hours=-5)),
    )
    await _tag(e, ALICE, "vip")
    set_member_rating(e.shop.mailchimp, e.shop.account, e.shop.list_id, ALICE, 4)
    await e.order("o-1", ALICE, campaign, 42.5)

    await e.collect()

    async with e.services.db.session() as session:
        [row] = await repository.campaign_rows(
            session, e.installation_id, sent_from=None, sent_to=None
        )
        assert (row.campaign_id, row.title, row.recipients) == (campaign, "Spring sale", 3)
        assert (row.opens, row.unique_opens, row.clicks, row.orders) == (3, 2, 1, 1)
        # Mailchimp's campaign revenue: the order's 42.50 less its shipping (2) and tax (1);
        # the customer's attributed revenue below is what she paid.
        assert row.revenue == Decimal("39.50") and row.collecting
        alice = await repository.customer_engagement(
            session, e.installation_id, e.customers[ALICE].global_id
        )
        assert alice is not None
        assert (alice.campaigns_received, alice.opens, alice.clicks) == (1, 2, 1)
        assert alice.member_rating == 4 and alice.tags == {e.shop.list_id: ["vip"]}
        assert [(c.campaign_id, c.opened, c.clicked) for c in alice.last_campaigns] == [
            (campaign, True, True)
        ]
        [order] = alice.attributed_orders
        assert (order.order_id, order.campaign_id, order.total) == (
            "o-1",
            campaign,
            Decimal("42.50"),
        )
        split = await repository.engagement_split(session, e.installation_id)
        assert (split.engaged_customers, split.unengaged_customers) == (1, 1)
        assert (split.engaged_guests, split.unengaged_guests) == (1, 0)
        days = await repository.daily_activity(
            session, e.installation_id, sent_from=None, sent_to=None
        )
        assert sum(d.opens for d in days) == 3 and sum(d.clicks for d in days) == 1
        run = await repository.run_status(session, e.installation_id)
        assert (run.state, run.campaigns_total, run.campaigns_done) == ("idle", 1, 1)
        assert run.members_seen >= 3 and run.next_run_at is not None

    summary = json.loads(e.private(ALICE)[SUMMARY_KEY])
    assert summary["opens"] == 2 and summary["clicks"] == 1 and summary["member_rating"] == 4
    assert summary["attributed_orders"] == 1 and summary["attributed_revenue"] == {"USD": "42.50"}
    assert json.loads(e.private(ALICE)[TAGS_PREFIX + e.shop.list_id]) == ["vip"]
    assert json.loads(e.private(BOB)[SUMMARY_KEY])["campaigns_received"] == 1
    # One mutation per customer (both keys in it); the guest has no account to write on.
    assert sorted(e.metadata_writes()) == sorted(c.global_id for c in e.customers.values())

    e.clock.advance(3600)
    before = len(e.metadata_writes())
    await e.collect()
    assert len(e.metadata_writes()) == before  # nothing changed: nothing written
    assert "since=" in e.activity_reads()[-1]


async def test_an_hourly_run_reads_and_writes_only_what_is_new(e: Engagement) -> None:
    campaign = e.send("News", e.at(days=-1))
    e.activity(campaign, (ALICE, "open", e.at(hours=-3)))
    await e.collect()
    first_run = e.clock.now()

    e.clock.advance(3600)
    e.activity(campaign, (BOB, "open", first_run.replace(microsecond=0)))  # at the cut, exactly
    e.activity(campaign, (BOB, "click", e.at(minutes=-30)))
    writes, reads = len(e.metadata_writes()), len(e.activity_reads())
    await e.collect()

    [read] = e.activity_reads()[reads:]
    assert "since=" in read
    async with e.services.db.session() as session:
        bob = await repository.customer_engagement(
            session, e.installation_id, e.customers[BOB].global_id
        )
        alice = await repository.customer_engagement(
            session, e.installation_id, e.customers[ALICE].global_id
        )
    assert bob is not None and (bob.opens, bob.clicks, bob.campaigns_received) == (1, 1, 1)
    assert alice is not None and (alice.opens, alice.campaigns_received) == (1, 1)  # not twice
    assert e.metadata_writes()[writes:] == [e.customers[BOB].global_id]


async def test_the_next_scan_skips_the_window_in_which_a_run_wrote_customers(
    e: Engagement,
) -> None:
    """Since Saleor 3.23 a metadata write sets the customer's `updatedAt` (the sandbox too):
    the scan after a run that wrote reads the customers changed since the last scan but for
    that window (else it read every customer it wrote again: 500 pages after 50 k)."""
    campaign = e.send("News", e.at(days=-1))
    e.activity(campaign, (ALICE, "open", e.at(hours=-3)))
    await e.collect()
    async with e.services.db.session() as session:
        settings = await session.get(EngagementSettings, e.installation_id)
    assert settings is not None and e.metadata_writes()
    scanned = settings.customers_scanned_at
    written = (settings.customers_written_from, settings.customers_written_until)
    assert scanned is not None and written[0] is not None and written[1] is not None
    assert scanned <= written[0] <= written[1]

    e.clock.advance(3600)
    before = len(e.outbound.requests)
    await e.collect()
    scans = [
        json.loads(r.content)["variables"]
        for r in e.outbound.requests[before:]
        if r.url.host == "saleor.test" and b"EngagementCustomers(" in r.content
    ]
    assert [(v["since"], v["until"]) for v in scans] == [
        (scanned.isoformat(), written[0].isoformat()),
        (written[1].isoformat(), None),
    ]
    # And who registered in that window, by the day they joined (tests/engagement/
    # test_registered_while_writing.py).
    joined = [
        json.loads(r.content)["variables"]
        for r in e.outbound.requests[before:]
        if r.url.host == "saleor.test" and b"EngagementCustomersJoined(" in r.content
    ]
    days = (written[0].date().isoformat(), written[1].date().isoformat())
    assert [(v["from"], v["until"]) for v in joined] == [days]
    # This run wrote nothing new: the scan after it reads from its start, in one range.
    async with e.services.db.session() as session:
        settings = await session.get(EngagementSettings, e.installation_id)
    assert settings is not None and settings.customers_written_from is None


async def test_a_customer_stamped_before_the_last_scan_by_a_slower_saleor_clock_is_matched(
    e: Engagement,
) -> None:
    """The scan's cursor is the app's time; Saleor stamps `updatedAt` by its own clock. Here
    Saleor's runs two minutes behind: a customer who registered just after a run began got an
    `updatedAt` before that run's cursor. Before, the next scan read from the cursor and never
    matched them (no engagement written until they changed again); it now reads from a margin
    before it (`SCAN_OVERLAP`)."""
    e.activity(e.send("News", e.at(days=-1)), (ALICE, "open", e.at(hours=-3)))
    await e.collect()
    async with e.services.db.session() as session:
        settings = await session.get(EngagementSettings, e.installation_id)
    assert settings is not None and settings.last_started_at is not None
    saleor_behind = timedelta(minutes=2)
    registered = settings.last_started_at + timedelta(seconds=10) - saleor_behind
    carol = e.shop.saleor.store.create_customer(
        CAROL, "C", "Customer", date_joined=registered, updated_at=registered
    )
    await e.subscribe(CAROL)

    e.clock.advance(3600)
    later = e.send("Later news", e.at(minutes=-45))
    e.activity(later, (CAROL, "open", e.at(minutes=-30)))
    await e.collect()

    assert carol.global_id in e.metadata_writes()
    assert json.loads(e.private(CAROL)[SUMMARY_KEY])["opens"] == 1


def test_scan_ranges() -> None:
    t = [datetime(2026, 1, 1, h, tzinfo=UTC) for h in range(4)]
    assert _scan_ranges(None, t[1], t[2]) == [(None, None)]  # the first scan: everyone
    assert _scan_ranges(t[0], None, None) == [(t[0], None)]
    assert _scan_ranges(t[0], t[1], t[2]) == [(t[0], t[1]), (t[2], None)]
    assert _scan_ranges(t[3], t[1], t[2]) == [(t[3], None)]  # an older window: no skip


def test_the_next_scan_starts_a_margin_before_this_one_but_not_inside_the_last_writes() -> None:
    began = datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert _next_scan_from(began, None, None) == began - SCAN_OVERLAP
    before = (began - timedelta(hours=1), began - timedelta(minutes=50))
    assert _next_scan_from(began, *before) == began - SCAN_OVERLAP
    # A run asked for two minutes after the last one wrote: not its writes again.
    just_before = (began - timedelta(minutes=6), began - timedelta(minutes=2))
    assert _next_scan_from(began, *just_before) == just_before[1]


async def test_a_campaign_older_than_the_interval_stops_being_collected(e: Engagement) -> None:
    """Past its interval, a campaign gets one closing pass, which counts its activity up to the
    interval's end (an open in the hours between the last pass and that end would otherwise
    never count), none after it; then it is read no more."""
    await e.update_settings(activity_interval_days=3, schedule_minutes=60)
    # On a whole second, as Mailchimp's send times are, so listing "since" it would miss it.
    sent = e.at(days=-2).replace(microsecond=0)
    old = e.send("Old", sent)
    e.activity(old, (ALICE, "open", e.at(hours=-1)))
    await e.collect()

    e.clock.advance(2 * 86_400)  # now 4 days after the send
    e.activity(
        old,
        (BOB, "open", e.at(days=-1, hours=-1)),  # the interval's last hour
        (ALICE, "open", e.at(hours=-1)),  # after its end
    )
    # Sent inside the look-back but before the interval: never collected, nor kept now.
    e.send("Older", sent + timedelta(hours=1))
    reads = len(e.activity_reads())
    await e.collect()

    assert _listed_since(e)[-1] == sent - timedelta(seconds=1)
    assert len(e.activity_reads()[reads:]) == 1
    assert await _opens(e, ALICE) == 1
    assert await _opens(e, BOB) == 1
    async with e.services.db.session() as session:
        [row] = await repository.campaign_rows(
            session, e.installation_id, sent_from=None, sent_to=None
        )
    assert not row.collecting

    e.clock.advance(3600)
    e.activity(old, (BOB, "click", e.at(minutes=-5)))
    reads = len(e.activity_reads())
    await e.collect()
    assert e.activity_reads()[reads:] == []
    assert await _opens(e, BOB) == 1


async def test_a_campaign_deleted_before_its_closing_pass_is_left_as_counted(
    e: Engagement,
) -> None:
    await e.update_settings(activity_interval_days=3, schedule_minutes=60)
    sent = e.at(days=-2).replace(microsecond=0)
    old = e.send("Old", sent)
    e.activity(old, (ALICE, "open", e.at(hours=-1)))
    await e.collect()
    remove_campaign(e.shop.mailchimp, e.shop.account, old)

    e.clock.advance(2 * 86_400)
    reads = len(e.activity_reads())
    await e.collect()
    # That collection listed the campaigns back to its send, found it gone and left it: the
    # next lists those of the interval only.
    assert _listed_since(e)[-1] == sent - timedelta(seconds=1)
    e.clock.advance(3600)
    await e.collect()

    assert _listed_since(e)[-1] == _second(e.at(days=-3)) - timedelta(seconds=1)
    assert e.activity_reads()[reads:] == []
    assert await _opens(e, ALICE) == 1


async def test_a_closing_pass_owed_for_longer_than_its_grace_is_dropped(e: Engagement) -> None:
    """Collections that failed (or did not run) for more than `CLOSING_GRACE` after the
    interval ended: the campaign is left as counted, not listed nor read."""
    await e.update_settings(activity_interval_days=3, schedule_minutes=60)
    old = e.send("Old", e.at(days=-2))
    e.activity(old, (ALICE, "open", e.at(hours=-1)))
    await e.collect()

    e.clock.advance(2 * 86_400 + CLOSING_GRACE.total_seconds())
    e.activity(old, (BOB, "open", e.at(days=-8)))
    reads = len(e.activity_reads())
    await e.collect()

    assert _listed_since(e)[-1] == _second(e.at(days=-3)) - timedelta(seconds=1)
    assert e.activity_reads()[reads:] == []
    assert await _opens(e, BOB) == 0


async def test_a_closing_pass_mailchimp_answers_404_is_not_tried_again(e: Engagement) -> None:
    await e.update_settings(activity_interval_days=3, schedule_minutes=60)
    old = e.send("Old", e.at(days=-2))
    await e.collect()
    e.clock.advance(2 * 86_400)
    # Listed by the run, gone when its activity is read.
    marker = f"/reports/{old}/email-activity".encode()
    e.outbound.inner = FailingNth(e.outbound.inner, marker, 1, 404)
    reads = len(e.activity_reads())
    await e.collect()
    e.clock.advance(3600)
    await e.collect()

    assert len(e.activity_reads()[reads:]) == 1


def _second(at: datetime) -> datetime:
    return at.replace(microsecond=0)


def _listed_since(e: Engagement) -> list[datetime]:
    """The `since_send_time` of each listing of campaigns (sent to the second)."""
    return [
        datetime.fromisoformat(r.url.params["since_send_time"])
        for r in e.outbound.requests
        if r.url.path.endswith("/campaigns")
    ]


async def _opens(e: Engagement, email: str) -> int:
    async with e.services.db.session() as session:
        found = await repository.customer_engagement(
            session, e.installation_id, e.customers[email].global_id
        )
    return found.opens if found is not None else 0


async def test_erasure_removes_the_customers_engagement(e: Engagement) -> None:
    campaign = e.send("Sale", e.at(days=-1))
    e.activity(campaign, (ALICE, "click", e.at(hours=-2)))
    await e.order("o-9", ALICE, campaign, 10.0)
    await e.collect()
    user_id = e.customers[ALICE].global_id
    # Read by the next collection only: an open since this one, and a campaign sent to her.
    e.clock.advance(600)
    e.activity(campaign, (ALICE, "open", e.at(seconds=-5)))
    e.send("Last call", e.at(seconds=-1))

    async with e.services.db.transaction() as session:
        request = EraseRequest(email=ALICE, saleor_user_id=user_id, source=ErasureSource.PANEL)
        await enqueue_erasure(session, e.installation_id, request)
    await Worker(e.services).run_until_idle()

    async with e.services.db.session() as session:
        assert await repository.customer_engagement(session, e.installation_id, user_id) is None
        assert await session.scalar(select(func.count()).select_from(EngagementOrder)) == 0
        # Bob's and the guest's engagement stay.
        assert await session.scalar(select(func.count()).select_from(EngagementMember)) == 2

    # Her order stays in Mailchimp (orders are kept by default), attributed to the campaign,
    # as may her activity: the next collection does not bring her engagement back with them.
    assert [o.id for o in e.shop.mailchimp.orders(e.shop.account, e.shop.store_id)] == ["o-9"]
    e.clock.advance(3600)
    await e.collect()
    async with e.services.db.session() as session:
        assert await repository.customer_engagement(session, e.installation_id, user_id) is None
        assert await session.scalar(select(func.count()).select_from(EngagementOrder)) == 0
        assert await session.scalar(select(func.count()).select_from(EngagementMember)) == 2


async def test_sync_is_asked_once_and_settings_are_checked(e: Engagement) -> None:
    first = await e.request_sync()
    again = await e.request_sync()
    assert first.state == again.state == "queued"
    async with e.services.db.session() as session:
        pending = await session.scalar(
            select(func.count()).where(
                Job.kind == "engagement.collect", Job.status == JobStatus.PENDING
            )
        )
    assert pending == 2  # the one asked for now, and the schedule's next
    with pytest.raises(Unprocessable):
        await e.update_settings(activity_interval_days=0, schedule_minutes=60)
    with pytest.raises(Unprocessable):
        await e.update_settings(activity_interval_days=30, schedule_minutes=5)
    run = await e.update_settings(activity_interval_days=45, schedule_minutes=120)
    assert (run.activity_interval_days, run.schedule_minutes) == (45, 120)


async def test_a_removed_tag_is_written_as_an_empty_list(e: Engagement) -> None:
    await _tag(e, ALICE, "vip")
    await e.collect()
    key = TAGS_PREFIX + e.shop.list_id
    assert json.loads(e.private(ALICE)[key]) == ["vip"]

    e.clock.advance(600)
    e.shop.mailchimp.clock.advance(600)  # the tag's change after the last read of members
    removed = await e.shop.mailchimp.call(
        e.shop.account,
        "POST",
        f"/lists/{e.shop.list_id}/members/{ALICE}/tags",
        body={"tags": [{"name": "vip", "status": "inactive"}]},
    )
    assert removed.status == 204
    writes = len(e.metadata_writes())
    await e.collect()
    assert json.loads(e.private(ALICE)[key]) == []  # overwritten, not left behind
    assert e.metadata_writes()[writes:] == [e.customers[ALICE].global_id]


async def test_a_tag_changed_in_the_second_a_read_began_is_read_by_the_next(
    e: Engagement,
) -> None:
    """Mailchimp stamps a member's change to the second and `since_last_changed` excludes it:
    read from the last read's start, a change in that second would wait for the daily full read."""
    await e.collect()
    await _tag(e, ALICE, "vip")  # the same second as the read's start
    e.clock.advance(600)
    e.shop.mailchimp.clock.advance(600)
    await e.collect()
    assert json.loads(e.private(ALICE)[TAGS_PREFIX + e.shop.list_id]) == ["vip"]


async def test_audiences_imported_start_collecting_without_the_reports_page(
    e: Engagement,
) -> None:
    """Nobody has to open the Reports page: the audience import that follows connecting started
    a collection and its schedule (the shop fixture ran it), the schedule collects on its own,
    and later imports leave a started schedule alone."""
    async with e.services.db.session() as session:
        started = await repository.run_status(session, e.installation_id)
    assert started.last_finished_at is not None and started.next_run_at is not None
    campaign = e.send("Welcome", e.at(hours=-2))
    e.activity(campaign, (BOB, "open", e.at(hours=-1)))

    e.clock.advance(3601)  # the schedule's next run is due
    await Worker(e.services).run_until_idle()
    async with e.services.db.session() as session:
        run = await repository.run_status(session, e.installation_id)
        bob = await repository.customer_engagement(
            session, e.installation_id, e.customers[BOB].global_id
        )
    assert bob is not None and bob.opens == 1
    assert run.next_run_at is not None and run.next_run_at > started.next_run_at

    async with e.services.db.transaction() as session:
        await enqueue_import(session, e.installation_id, scheduled=False)
    await Worker(e.services).run_until_idle()
    async with e.services.db.session() as session:
        again = await repository.run_status(session, e.installation_id)
    assert again.next_run_at == run.next_run_at


async def test_many_customers_are_written_within_saleors_mutation_limit(e: Engagement) -> None:
    """Saleor refuses a request of more than 4 mutations (MUTATION_COUNT_LIMIT): a run that
    changed two dozen customers writes them all, in requests of at most 4."""
    await e.readers(22)
    e.send("Big news", e.at(days=-1))

    await e.collect()

    for email in e.customers:
        assert json.loads(e.private(email)[SUMMARY_KEY])["campaigns_received"] == 1
    assert sorted(e.metadata_writes()) == sorted(c.global_id for c in e.customers.values())
    sizes = [
        len(json.loads(r.content)["variables"]) // 2
        for r in e.outbound.requests
        if r.url.host == "saleor.test" and b"updatePrivateMetadata" in r.content
    ]
    assert max(sizes) == MUTATION_COUNT_LIMIT


async def test_a_customer_who_changed_address_keeps_the_old_ones_engagement(
    e: Engagement,
) -> None:
    """Their member moves to the new address (`subscriptions/email_change.py`): what was
    collected of the old one stays theirs, and what the new one gets adds up with it."""
    campaign = e.send("Spring", e.at(days=-3))
    e.activity(campaign, (ALICE, "open", e.at(days=-2)), (ALICE, "click", e.at(days=-2)))
    await e.order("o-1", ALICE, campaign, 42.5)
    await e.collect()
    e.clock.advance(3600)
    new = "alice.new@grocer.example"
    await e.shop.saleor.update_customer(e.customers[ALICE], email=new)
    await Worker(e.services).run_until_idle()
    assert e.shop.mailchimp.member(e.shop.account, e.shop.list_id, new) is not None  # moved
    await e.collect()
    e.clock.advance(3600)
    later = e.send("Summer", e.at(hours=-2))
    e.activity(later, (new, "open", e.at(hours=-1)))
    await e.collect()

    summary = json.loads(e.private(new)[SUMMARY_KEY])
    assert (summary["campaigns_received"], summary["opens"], summary["clicks"]) == (2, 2, 1)
    assert summary["attributed_orders"] == 1
    async with e.services.db.session() as session:
        user_id = e.customers[ALICE].global_id
        panel = await repository.customer_engagement(session, e.installation_id, user_id)
    assert panel is not None and (panel.opens, len(panel.attributed_orders)) == (2, 1)
