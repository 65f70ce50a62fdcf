"""A contact deleted in Mailchimp while a campaign's e-mail activity is paged by offset: its
activity goes with it (Fivetran's Mailchimp connector docs: "When you delete a list member in
Mailchimp, their activity (sent, open, click, bounce) is deleted as well"), and every later
recipient moves back a place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest

from addon.engagement import campaign_passes, repository
from addon.mailchimp import subscriber_hash
from tests.engagement.conftest import GUEST, Engagement


class _BeforeNth(httpx.AsyncBaseTransport):
    """Runs `hook` before the `nth` request whose URL holds `marker`."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        marker: str,
        nth: int,
        hook: Callable[[], Awaitable[None]],
    ) -> None:
        self.inner, self.marker, self.left, self.hook = inner, marker, nth, hook

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.marker in str(request.url):
            self.left -= 1
            if self.left == 0:
                await self.hook()
        return await self.inner.handle_async_request(request)


async def _delete_permanently(e: Engagement, email: str) -> None:
    answer = await e.shop.mailchimp.call(
        e.shop.account,
        "POST",
        f"/lists/{e.shop.list_id}/members/{subscriber_hash(email)}/actions/delete-permanent",
    )
    assert answer.status == 204, answer.body


@pytest.mark.parametrize("deleted", [False, True], ids=["control", "deleted"])
async def test_contact_deleted_between_pages_hides_no_other_recipient(
    e: Engagement, monkeypatch: pytest.MonkeyPatch, deleted: bool
) -> None:
    """Before, each page started where the last one ended: with the guest deleted between
    pages 1 and 2, reader00 moved back onto page 1's last place and was never read (neither
    received nor opened counted, in this run or any later one). Pages now overlap, and the
    overlap is counted once."""
    monkeypatch.setattr(campaign_passes, "ACTIVITY_PAGE", 3)
    await e.readers(2)  # recipients: alice, bob, guest, reader00, reader01
    reader = "reader00@example.com"
    campaign = e.send("Winter sale", e.at(days=-1))
    e.activity(campaign, (reader, "open", e.at(hours=-20)), (GUEST, "open", e.at(hours=-20)))
    if deleted:  # the guest deletes themself from Mailchimp (or an erasure runs) meanwhile
        e.outbound.inner = _BeforeNth(
            e.outbound.inner, "/email-activity", 2, lambda: _delete_permanently(e, GUEST)
        )

    await e.collect()
    e.clock.advance(3600)
    await e.collect()

    for email, opens in ((reader, 1), ("reader01@example.com", 0)):
        async with e.services.db.session() as session:
            found = await repository.customer_engagement(
                session, e.installation_id, e.customers[email].global_id
            )
        assert found is not None, email
        assert (found.campaigns_received, found.opens) == (1, opens), email


async def test_sandbox_drops_a_permanently_deleted_contacts_activity(e: Engagement) -> None:
    """Before, the sandbox kept listing a permanently deleted contact in its campaigns'
    e-mail activity, so no test could see the paging shift above."""
    campaign = e.send("Winter sale", e.at(days=-1))
    e.activity(campaign, (GUEST, "open", e.at(hours=-20)))
    await _delete_permanently(e, GUEST)
    for query in ({"count": "1000"}, {"count": "1000", "since": e.at(days=-2).isoformat()}):
        listed = await e.shop.mailchimp.call(
            e.shop.account, "GET", f"/reports/{campaign}/email-activity", query=query
        )
        addresses = [m["email_address"] for m in listed.body["emails"]]
        assert GUEST not in addresses, addresses
        assert listed.body["total_items"] == len(addresses)
