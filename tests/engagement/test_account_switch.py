"""Another Mailchimp account connected: its members are linked to the store's customers from
scratch. The old account's members and their links went with its data (`account_scoped`),
but the collection's cursors stayed: a scan of customers from the last one on (`updatedAt`)
never linked those unchanged since to the new account's members, whose engagement was then
never written (`account_data.account_progress`)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import update

from addon.audiences.models import Audience
from addon.engagement.collector import Collector
from addon.engagement.metadata import SUMMARY_KEY
from sandboxes.mailchimp.campaigns import set_member_rating
from sandboxes.mailchimp.models import SandboxAccount
from tests.engagement.conftest import ALICE, Engagement
from tests.sandbox_mailchimp.helpers import list_body


async def _other_account(e: Engagement) -> tuple[SandboxAccount, str]:
    """Another account, Alice a member of its audience rated 2; and that audience's id."""
    mailchimp = e.shop.mailchimp
    other = mailchimp.create_account("Other Grocer", "owner@other.example", dc="us19")
    created = await mailchimp.call(other, "POST", "/lists", body=list_body("Other news"))
    assert created.status == 200 and created.body is not None, created.body
    list_id = str(created.body["id"])
    added = await mailchimp.call(
        other, "POST", f"/lists/{list_id}/members",
        body={"email_address": ALICE, "status": "subscribed"},
    )  # fmt: skip
    assert added.status == 200, added.body
    set_member_rating(mailchimp, other, list_id, ALICE, 2)
    return other, list_id


async def _activate(e: Engagement, list_id: str) -> None:
    async with e.services.db.transaction() as session:
        activated = await session.execute(
            update(Audience).where(Audience.list_id == list_id).values(active=True)
        )
        assert activated.rowcount == 1  # type: ignore[attr-defined]


async def test_customers_are_linked_to_another_account_s_members(e: Engagement) -> None:
    mailchimp = e.shop.mailchimp
    set_member_rating(mailchimp, e.shop.account, e.shop.list_id, ALICE, 5)
    # Registered days before: a scan reads again only those changed, or who joined on the
    # days of the last run's metadata writes (`collector._joined_days`).
    e.clock.advance(2 * 86400)
    await e.collect()
    assert json.loads(e.private(ALICE)[SUMMARY_KEY])["member_rating"] == 5
    e.clock.advance(3600)

    other, list_id = await _other_account(e)
    switched = await e.shop.api("POST", "/api/connection/api-key", {"api_key": other.api_key})
    assert switched.status_code == 200, switched.text
    await e.shop.drain()
    await _activate(e, list_id)

    await e.collect()

    assert json.loads(e.private(ALICE)[SUMMARY_KEY])["member_rating"] == 2


async def test_a_collection_begun_before_a_switch_writes_nothing_of_the_account_before(
    e: Engagement, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another account connected while a collection read the one before: the run used to write
    that account's ratings on the customers, and its cursors back over those the switch reset,
    so customers unchanged since were never linked to the new account's members. Now the run
    drops what it wrote, and the next one starts over."""
    set_member_rating(e.shop.mailchimp, e.shop.account, e.shop.list_id, ALICE, 5)
    e.clock.advance(2 * 86400)
    await e.collect()
    e.clock.advance(3600)
    other, list_id = await _other_account(e)
    scan = Collector._customers

    async def switched_first(self: Collector, *args: Any) -> None:
        e.clock.advance(1)
        switched = await e.shop.api("POST", "/api/connection/api-key", {"api_key": other.api_key})
        assert switched.status_code == 200, switched.text
        await scan(self, *args)

    monkeypatch.setattr(Collector, "_customers", switched_first)
    await e.collect()
    monkeypatch.undo()

    e.clock.advance(3600)
    await _activate(e, list_id)
    await e.collect()

    assert json.loads(e.private(ALICE)[SUMMARY_KEY])["member_rating"] == 2
