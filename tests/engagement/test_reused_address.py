"""An address one customer gave up, registered by another: its member moves to the newcomer,
and both customers' metadata is written again."""

from __future__ import annotations

import json
from typing import Any

from addon.engagement.metadata import SUMMARY_KEY
from addon.jobs.worker import Worker
from tests.engagement.conftest import ALICE, Engagement

NEW = "alice.new@grocer.example"


async def _reuse(e: Engagement) -> tuple[dict[str, Any], dict[str, Any]]:
    """Alice opens and clicks, changes her address; someone else registers with the old one.
    Answers Alice's summary and the newcomer's."""
    campaign = e.send("Spring", e.at(days=-3))
    e.activity(campaign, (ALICE, "open", e.at(days=-2)), (ALICE, "click", e.at(days=-2)))
    await e.collect()
    e.clock.advance(3600)
    await e.shop.saleor.update_customer(e.customers[ALICE], email=NEW)
    await Worker(e.services).run_until_idle()
    await e.collect()
    e.clock.advance(3600)
    e.shop.saleor.store.create_customer(
        ALICE, "Other", "Person", date_joined=e.clock.now(), updated_at=e.clock.now()
    )
    await e.collect()
    e.clock.advance(3600)
    await e.collect()
    first = json.loads(e.private(NEW)[SUMMARY_KEY])
    newcomer = json.loads(e.private(ALICE).get(SUMMARY_KEY, "{}"))
    return first, newcomer


async def test_newcomer_with_a_reused_address_is_written_its_summary(e: Engagement) -> None:
    """Before, the moved member row kept the fingerprint of its write to Alice: the newcomer's
    summary looked unchanged and was never written."""
    _, newcomer = await _reuse(e)
    assert (newcomer.get("opens"), newcomer.get("clicks")) == (1, 1), newcomer


async def test_customer_who_gave_the_address_up_no_longer_shows_its_engagement(
    e: Engagement,
) -> None:
    """Before, Alice had no member row left, nothing marked her changed, and her summary kept
    the moved address's open and click (counted on both customers)."""
    first, _ = await _reuse(e)
    assert (first["opens"], first["clicks"], first["campaigns_received"]) == (0, 0, 0), first
