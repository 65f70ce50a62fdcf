"""What a collection holds whatever the audience's size: a full read of members remembers who it
listed a bit per member and forgets the others a page at a time; the statements it binds have
IN lists of a few lengths only (each length is a statement the database keeps prepared)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import event, select

from addon.engagement import audience_members, in_lists
from addon.engagement.audience_members import RowIds
from addon.engagement.models import EngagementMember
from addon.mailchimp import subscriber_hash
from sandboxes.mailchimp.campaigns import set_member_rating
from tests.engagement.conftest import ALICE, BOB, GUEST, Engagement

DAY_AND_AN_HOUR = 25 * 3600  # the next run reads every member again (`FULL_MEMBER_READ`)
READERS = 20
FORGET_PAGE = 4


def test_row_ids_keep_a_bit_per_row() -> None:
    ids = RowIds()
    ids.update([1005, 1000, 1007, 1000, 1100, 999, 5])  # out of order, one twice
    assert len(ids) == 6
    assert [i for i in range(1200) if i in ids] == [5, 999, 1000, 1005, 1007, 1100]
    assert -1 not in ids and "1000" not in ids
    dense = RowIds()
    dense.update(range(500_000, 600_000))
    assert len(dense) == 100_000 and dense.nbytes == 100_000 // 8


async def _ratings(e: Engagement) -> dict[str, int | None]:
    async with e.services.db.session() as session:
        rows = await session.execute(
            select(EngagementMember.email_hash, EngagementMember.member_rating)
        )
        return {h: rating for h, rating in rows}


async def test_a_full_read_keeps_a_bit_per_member_and_forgets_a_page_at_a_time(
    e: Engagement, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audience_members, "FORGET_PAGE", FORGET_PAGE)
    await e.readers(READERS)
    mailchimp, account, list_id = e.shop.mailchimp, e.shop.account, e.shop.list_id
    everyone = [ALICE, BOB, GUEST, *(f"reader{i:02}@example.com" for i in range(READERS))]
    for email in everyone:
        set_member_rating(mailchimp, account, list_id, email, 3)
    await e.collect()
    assert set((await _ratings(e)).values()) == {3}

    gone = everyone[3::4]  # five readers, deleted in Mailchimp
    for email in gone:
        deleted = await mailchimp.call(
            account, "POST", f"/lists/{list_id}/members/{email}/actions/delete-permanent"
        )
        assert deleted.status == 204, deleted.body
    order = sorted(subscriber_hash(m) for m in everyone)
    pages = {order.index(subscriber_hash(m)) // FORGET_PAGE for m in gone}
    assert len(pages) > 1  # forgotten on several of its pages
    kept: list[RowIds] = []
    forget = audience_members.forget_audience

    async def spy(*args: Any, listed: RowIds, **kwargs: Any) -> int:
        kept.append(listed)
        return await forget(*args, listed=listed, **kwargs)

    monkeypatch.setattr(audience_members, "forget_audience", spy)
    e.clock.advance(DAY_AND_AN_HOUR)
    await e.collect()

    ratings = await _ratings(e)
    assert {m: ratings[subscriber_hash(m)] for m in gone} == dict.fromkeys(gone)
    assert {ratings[subscriber_hash(m)] for m in everyone if m not in gone} == {3}
    [listed] = kept
    assert len(listed) == len(everyone) - len(gone)
    # A bit per member, not a hash (their ids consecutive, a byte at each end partly used).
    assert listed.nbytes <= len(everyone) // 8 + 2


_IN_LIST = re.compile(r"\bIN \(([^()]*)\)")
_TABLES = re.compile(
    r"\b(engagement_members|engagement_member_campaigns|engagement_orders|"
    r"engagement_customers|ecommerce_erased_addresses)\b"
)


async def test_a_collection_binds_in_lists_of_a_few_lengths(e: Engagement) -> None:
    await e.readers(READERS)
    campaign = e.send("Spring", e.at(days=-2))
    e.activity(
        campaign,
        *((f"reader{i:02}@example.com", "open", e.at(hours=-30)) for i in range(0, READERS, 3)),
        (ALICE, "click", e.at(hours=-20)),
    )
    await e.order("o-1", BOB, campaign, 25.0)
    lengths: set[int] = set()

    def spy(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if _TABLES.search(statement):
            for found in _IN_LIST.findall(statement):
                if not found.lstrip().upper().startswith("SELECT"):
                    lengths.add(len(found.split(",")))

    engine = e.services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", spy)
    try:
        await e.collect()
        e.clock.advance(3600)
        e.activity(campaign, (GUEST, "open", e.at(minutes=-5)))
        await e.collect()
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    assert lengths and lengths <= set(in_lists.SIZES)
