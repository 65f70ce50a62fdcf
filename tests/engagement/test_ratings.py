"""A member's rating: Mailchimp rates an address in each audience it is in; the customer's
`member_rating` is the highest of them, whichever audience is read last."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, text, update

from addon.audiences.models import Audience
from addon.db.engine import Database
from addon.db.migrations import alembic_config
from addon.engagement import collector, repository
from addon.engagement.metadata import SUMMARY_KEY, TAGS_PREFIX
from addon.mailchimp import subscriber_hash
from addon.mailchimp.campaigns import CampaignReads
from sandboxes.mailchimp.campaigns import set_member_rating
from tests.engagement.conftest import ALICE, Engagement
from tests.migration_rows import NOW, installed_at
from tests.sandbox_mailchimp.helpers import list_body

DAY_AND_AN_HOUR = 25 * 3600  # each run reads every member again (`collector.FULL_MEMBER_READ`)


async def _second_audience(e: Engagement) -> str:
    created = await e.shop.mailchimp.call(
        e.shop.account, "POST", "/lists", body=list_body("VIP news")
    )
    assert created.status == 200 and created.body is not None, created.body
    list_id = str(created.body["id"])
    async with e.services.db.transaction() as session:
        session.add(
            Audience(installation_id=e.installation_id, list_id=list_id, name="VIP", active=True)
        )
    added = await e.shop.mailchimp.call(
        e.shop.account,
        "POST",
        f"/lists/{list_id}/members",
        body={"email_address": ALICE, "status": "subscribed"},
    )
    assert added.status == 200, added.body
    return list_id


async def _ratings(e: Engagement) -> tuple[int, int | None]:
    """What Saleor holds of Alice's rating, and what her panel shows."""
    async with e.services.db.session() as session:
        alice = await repository.customer_engagement(
            session, e.installation_id, e.customers[ALICE].global_id
        )
    assert alice is not None
    return json.loads(e.private(ALICE)[SUMMARY_KEY])["member_rating"], alice.member_rating


async def test_a_member_of_two_audiences_has_the_higher_rating(e: Engagement) -> None:
    vip = await _second_audience(e)
    mailchimp, account = e.shop.mailchimp, e.shop.account
    set_member_rating(mailchimp, account, e.shop.list_id, ALICE, 5)
    set_member_rating(mailchimp, account, vip, ALICE, 1)
    seen = []
    for _ in range(3):  # run after run, each reading both audiences
        await e.collect()
        seen.append(await _ratings(e))
        e.clock.advance(DAY_AND_AN_HOUR)
    assert seen == [(5, 5)] * 3
    written = len(e.metadata_writes())

    # Her rating falls in the first audience: the second one's is the higher now.
    set_member_rating(mailchimp, account, e.shop.list_id, ALICE, 2)
    set_member_rating(mailchimp, account, vip, ALICE, 3)
    await e.collect()
    assert await _ratings(e) == (3, 3)
    assert len(e.metadata_writes()) == written + 1


async def test_0045_gives_members_from_before_no_ratings_and_goes_back_down(
    tmp_path: Path,
) -> None:
    """Their rating stays until their audiences are read again, which fills `ratings`."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")

    def to_0044(connection: Connection) -> None:
        installed_at(connection, "0044_oauth_browser_key")
        connection.execute(
            text(
                "INSERT INTO engagement_members (installation_id, email_hash, campaigns_received,"
                " opens, clicks, member_rating, tags, recent_campaigns, changed, updated_at)"
                " VALUES (1, 'h', 0, 0, 0, 4, '{}', '[]', 0, :now)"
            ),
            {"now": NOW},
        )
        command.upgrade(alembic_config(connection), "0045_engagement_ratings")

    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(to_0044)
            up = (
                await connection.execute(
                    text("SELECT member_rating, ratings FROM engagement_members")
                )
            ).one()
        async with database.engine.begin() as connection:
            await connection.run_sync(
                lambda sync: command.downgrade(alembic_config(sync), "0044_oauth_browser_key")
            )
            down = (
                (await connection.execute(text("SELECT * FROM engagement_members")))
                .mappings()
                .one()
            )
    finally:
        await database.dispose()
    assert (up[0], json.loads(up[1])) == (4, {})
    assert down["member_rating"] == 4 and "ratings" not in down


async def _vip_tagged(e: Engagement, vip: str) -> None:
    tagged = await e.shop.mailchimp.call(
        e.shop.account,
        "POST",
        f"/lists/{vip}/members/{ALICE}/tags",
        body={"tags": [{"name": "gold", "status": "active"}]},
    )
    assert tagged.status == 204, tagged.body


async def test_an_audience_no_longer_read_takes_its_rating_and_tags_with_it(
    e: Engagement,
) -> None:
    vip = await _second_audience(e)
    mailchimp, account = e.shop.mailchimp, e.shop.account
    set_member_rating(mailchimp, account, e.shop.list_id, ALICE, 2)
    set_member_rating(mailchimp, account, vip, ALICE, 5)
    await _vip_tagged(e, vip)
    await e.collect()
    assert await _ratings(e) == (5, 5)
    assert json.loads(e.private(ALICE)[TAGS_PREFIX + vip]) == ["gold"]

    async with e.services.db.transaction() as session:
        await session.execute(update(Audience).where(Audience.list_id == vip).values(active=False))
    e.clock.advance(600)
    await e.collect()
    assert await _ratings(e) == (2, 2)
    assert json.loads(e.private(ALICE)[TAGS_PREFIX + vip]) == []  # overwritten, not left


async def test_an_archived_member_loses_its_rating_and_tags_there(e: Engagement) -> None:
    vip = await _second_audience(e)
    mailchimp, account = e.shop.mailchimp, e.shop.account
    set_member_rating(mailchimp, account, e.shop.list_id, ALICE, 2)
    set_member_rating(mailchimp, account, vip, ALICE, 5)
    await _vip_tagged(e, vip)
    await e.collect()
    assert await _ratings(e) == (5, 5)

    e.clock.advance(600)
    mailchimp.clock.advance(600)  # archived after the last read of members
    archived = await mailchimp.call(account, "DELETE", f"/lists/{vip}/members/{ALICE}")
    assert archived.status == 204, archived.body
    await e.collect()
    assert await _ratings(e) == (2, 2)
    assert json.loads(e.private(ALICE)[TAGS_PREFIX + vip]) == []


async def test_a_member_deleted_from_an_audience_loses_its_rating_at_the_full_read(
    e: Engagement,
) -> None:
    vip = await _second_audience(e)
    mailchimp, account = e.shop.mailchimp, e.shop.account
    set_member_rating(mailchimp, account, e.shop.list_id, ALICE, 2)
    set_member_rating(mailchimp, account, vip, ALICE, 5)
    await _vip_tagged(e, vip)
    await e.collect()
    assert await _ratings(e) == (5, 5)

    deleted = await mailchimp.call(
        account, "POST", f"/lists/{vip}/members/{ALICE}/actions/delete-permanent"
    )
    assert deleted.status == 204, deleted.body
    e.clock.advance(600)
    await e.collect()  # changed members only: a deleted one is not listed
    assert await _ratings(e) == (5, 5)
    e.clock.advance(DAY_AND_AN_HOUR)
    await e.collect()  # every member: she is not among them
    assert await _ratings(e) == (2, 2)
    assert json.loads(e.private(ALICE)[TAGS_PREFIX + vip]) == []


async def test_a_member_deleted_while_the_members_are_read_misses_no_one(
    e: Engagement, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fails before the fix: read by offset, two a page, a member deleted after the second page
    moved the next back into it; the third page missed it, and the full read took it for one
    no longer in the audience (its rating forgotten, never written). Pages overlap now."""
    monkeypatch.setattr(collector, "MEMBER_PAGE", 2)
    await e.readers(4)
    mailchimp, account = e.shop.mailchimp, e.shop.account
    for email in e.customers:
        set_member_rating(mailchimp, account, e.shop.list_id, email, 4)
    real = CampaignReads.members
    pages: list[list[str]] = []

    async def deleting(self: CampaignReads, list_id: str, **kwargs: Any) -> Any:
        page = await real(self, list_id, **kwargs)
        pages.append([m.email_address for m in page.members])
        if len(pages) == 2:  # deleted in Mailchimp right after the second page was read
            gone = subscriber_hash(page.members[0].email_address)
            deleted = await mailchimp.call(
                account, "POST", f"/lists/{list_id}/members/{gone}/actions/delete-permanent"
            )
            assert deleted.status == 204, deleted.body
        return page

    monkeypatch.setattr(CampaignReads, "members", deleting)
    await e.collect()

    kept = set(e.customers) - {pages[1][0]}
    assert len(kept) >= 5
    for email in kept:
        assert json.loads(e.private(email)[SUMMARY_KEY])["member_rating"] == 4, email
