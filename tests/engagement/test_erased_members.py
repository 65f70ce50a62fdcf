"""An address erased here keeps no rating or tags from Mailchimp's member lists, as it keeps no
activity or attributed orders (`audience_members.apply_members`): another account connected
since the erasure (erased addresses are kept for every account) still lists it. Before, a full
read made its member row again, with that account's rating and tags, and wrote them onto its
customer."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from addon.engagement.metadata import SUMMARY_KEY
from addon.privacy.erased import remember_erased
from sandboxes.mailchimp.campaigns import set_member_rating
from tests.engagement.conftest import ALICE, BOB, Engagement


async def _erase_alice(e: Engagement) -> None:
    """Alice's address erased now, by Mailchimp's clock (its members' `last_changed`)."""
    now = datetime.fromtimestamp(e.shop.mailchimp.clock.now(), UTC)
    async with e.services.db.transaction() as session:
        await remember_erased(session, e.installation_id, [ALICE], now)


async def test_an_erased_address_s_rating_and_tags_are_not_collected_again(
    e: Engagement,
) -> None:
    mailchimp, account, list_id = e.shop.mailchimp, e.shop.account, e.shop.list_id
    set_member_rating(mailchimp, account, list_id, ALICE, 5)
    set_member_rating(mailchimp, account, list_id, BOB, 4)
    tagged = await mailchimp.call(
        account, "POST", f"/lists/{list_id}/members/{ALICE}/tags",
        body={"tags": [{"name": "vip", "status": "active"}]},
    )  # fmt: skip
    assert tagged.status == 204, tagged.body
    await _erase_alice(e)

    await e.collect()

    assert SUMMARY_KEY not in e.private(ALICE)
    assert not [k for k in e.private(ALICE) if k.startswith("mailchimp.tags.")]
    assert json.loads(e.private(BOB)[SUMMARY_KEY])["member_rating"] == 4


async def test_an_erased_address_added_again_since_is_collected(e: Engagement) -> None:
    """Changed in Mailchimp after the erasure (subscribed again): a new relationship."""
    mailchimp, account, list_id = e.shop.mailchimp, e.shop.account, e.shop.list_id
    await _erase_alice(e)
    mailchimp.clock.advance(60)
    changed = await mailchimp.call(
        account, "PATCH", f"/lists/{list_id}/members/{ALICE}",
        body={"merge_fields": {"FNAME": "Alice"}},
    )  # fmt: skip
    assert changed.status == 200, changed.body
    set_member_rating(mailchimp, account, list_id, ALICE, 3)

    await e.collect()

    assert json.loads(e.private(ALICE)[SUMMARY_KEY])["member_rating"] == 3
