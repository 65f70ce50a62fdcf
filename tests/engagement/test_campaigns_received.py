"""Each campaign is counted as received once per member, and only when it was delivered."""

from __future__ import annotations

import json

import pytest

from addon.engagement import campaign_passes
from addon.engagement.metadata import SUMMARY_KEY
from sandboxes.mailchimp.campaigns import record_activity
from tests.engagement.conftest import ALICE, BOB, Engagement, FailingNth


async def test_a_404_report_after_the_first_pass_does_not_count_received_twice(
    e: Engagement,
) -> None:
    """A 404 on the report after the first pass's pages were counted resets the pass to
    "never read"; before, the next run read the first pass again and counted every recipient
    as having received the campaign a second time."""
    campaign = e.send("Weekly", e.at(days=-1))
    e.activity(campaign, (ALICE, "open", e.at(hours=-20)))
    e.outbound.inner = FailingNth(e.outbound.inner, f"/reports/{campaign}?".encode(), 1, 404)

    await e.collect()
    e.clock.advance(3600)
    await e.collect()

    alice = json.loads(e.private(ALICE)[SUMMARY_KEY])
    bob = json.loads(e.private(BOB)[SUMMARY_KEY])
    assert (alice["campaigns_received"], alice["opens"]) == (1, 1), alice
    assert bob["campaigns_received"] == 1, bob


async def test_a_hard_bounced_campaign_is_not_counted_as_received(e: Engagement) -> None:
    """Before, every recipient counted as having received the campaign, a hard-bounced one
    too (never delivered: Mailchimp's rates divide by "successful deliveries")."""
    campaign = e.send("Autumn news", e.at(days=-1))
    record_activity(
        e.shop.mailchimp, e.shop.account, campaign,
        [(ALICE, "bounce", e.at(hours=-23).timestamp())], bounce_type="hard",
    )  # fmt: skip
    e.activity(campaign, (BOB, "open", e.at(hours=-20)))

    await e.collect()

    alice = json.loads(e.private(ALICE)[SUMMARY_KEY])
    bob = json.loads(e.private(BOB)[SUMMARY_KEY])
    assert (bob["campaigns_received"], alice["campaigns_received"]) == (1, 0), (alice, bob)


async def test_a_soft_bounced_campaign_is_counted_as_received(e: Engagement) -> None:
    """A soft bounce is retried by Mailchimp: only a hard one leaves the campaign undelivered."""
    campaign = e.send("Autumn news", e.at(days=-1))
    record_activity(
        e.shop.mailchimp, e.shop.account, campaign,
        [(ALICE, "bounce", e.at(hours=-23).timestamp())], bounce_type="soft",
    )  # fmt: skip

    await e.collect()

    assert json.loads(e.private(ALICE)[SUMMARY_KEY])["campaigns_received"] == 1


async def test_a_recipient_read_again_by_overlapping_pages_is_counted_once(
    e: Engagement, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each page of e-mail activity starts a recipient before the last one ended (a contact
    deleted meanwhile would hide the next one): Bob, last on page 1 and first on page 2, had
    the campaign counted twice before "received" was kept per member and campaign."""
    monkeypatch.setattr(campaign_passes, "ACTIVITY_PAGE", 2)
    campaign = e.send("Weekly", e.at(days=-1))  # alice, bob, guest
    e.activity(campaign, (BOB, "open", e.at(hours=-20)))

    await e.collect()

    reads = [r for r in e.activity_reads() if "offset=1" in r]
    assert reads, e.activity_reads()  # page 2 started on Bob again
    bob = json.loads(e.private(BOB)[SUMMARY_KEY])
    assert (bob["campaigns_received"], bob["opens"]) == (1, 1), bob
