"""Another Mailchimp account connected: its members are linked to the store's customers from
scratch. The old account's members and their links went with its data (`account_scoped`),
but the collection's cursors stayed: a scan of customers from the last one on (`updatedAt`)
never linked those unchanged since to the new account's members, whose engagement was then
never written (`account_data.account_progress`)."""

from __future__ import annotations

import json

from sqlalchemy import update

from addon.audiences.models import Audience
from addon.engagement.metadata import SUMMARY_KEY
from sandboxes.mailchimp.campaigns import set_member_rating
from tests.engagement.conftest import ALICE, Engagement
from tests.sandbox_mailchimp.helpers import list_body


async def test_customers_are_linked_to_another_account_s_members(e: Engagement) -> None:
    mailchimp = e.shop.mailchimp
    set_member_rating(mailchimp, e.shop.account, e.shop.list_id, ALICE, 5)
    # Registered days before: a scan reads again only those changed, or who joined on the
    # days of the last run's metadata writes (`collector._joined_days`).
    e.clock.advance(2 * 86400)
    await e.collect()
    assert json.loads(e.private(ALICE)[SUMMARY_KEY])["member_rating"] == 5
    e.clock.advance(3600)

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
    switched = await e.shop.api("POST", "/api/connection/api-key", {"api_key": other.api_key})
    assert switched.status_code == 200, switched.text
    await e.shop.drain()
    async with e.services.db.transaction() as session:
        activated = await session.execute(
            update(Audience).where(Audience.list_id == list_id).values(active=True)
        )
        assert activated.rowcount == 1  # type: ignore[attr-defined]

    await e.collect()

    assert json.loads(e.private(ALICE)[SUMMARY_KEY])["member_rating"] == 2
