"""A shopper's unsubscribe, or withdrawn consent, while the Mailchimp account is disconnected
(the admin disconnected it, its key was deleted, its OAuth access revoked) waits for the
reconnection, as an erasure does, rather than be dropped: the shopper would stay subscribed for
good. The account page takes a leaving while disconnected too."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from addon.connection.models import ConnectionStatus, MailchimpConnection
from addon.connection.reconnect import RECONNECT_WAIT
from addon.db.types import utcnow
from addon.jobs.models import Job, JobStatus
from addon.subscriptions.owed_withdrawals import WAITING_FOR_CONNECTION
from addon.subscriptions.service import APPLY_JOB
from tests.conftest import SALEOR_API_URL
from tests.subscriptions.conftest import Shop

STORE = {"saleor_api_url": SALEOR_API_URL}
PAGE = "/api/storefront/me/subscriptions"
MAX = "max@example.com"


async def _subscribed(shop: Shop, permission: str | None = None) -> dict[str, str]:
    max_ = await shop.saleor.create_customer(MAX, is_confirmed=True)
    auth = {"Authorization": f"Bearer {shop.saleor.mint_customer_token(max_)}"}
    body: dict[str, Any] = {"audiences": [{"list_id": shop.ids["news"], "subscribed": True}]}
    if permission is not None:
        body["permissions"] = [permission]
    assert (await _put(shop, auth, body)).status_code == 202
    await shop.work()
    assert shop.member(shop.ids["news"], MAX).status == "subscribed"
    return auth


async def _put(shop: Shop, auth: dict[str, str], body: dict[str, Any]) -> Any:
    return await shop.client.put(PAGE, params=STORE, headers=auth, json=body)


async def _leave(shop: Shop, auth: dict[str, str]) -> None:
    body = {"audiences": [{"list_id": shop.ids["news"], "subscribed": False}]}
    response = await _put(shop, auth, body)
    assert response.status_code == 202, response.text


async def _set_status(shop: Shop, status: ConnectionStatus) -> None:
    async with shop.services.db.transaction() as session:
        await session.execute(update(MailchimpConnection).values(status=status))


async def _apply_jobs(shop: Shop) -> list[Job]:
    async with shop.services.db.session() as session:
        return list(await session.scalars(select(Job).where(Job.kind == APPLY_JOB)))


async def _waiting(shop: Shop) -> Job:
    [job] = [j for j in await _apply_jobs(shop) if j.status is JobStatus.PENDING]
    assert job.last_error == WAITING_FOR_CONNECTION
    return job


async def _an_hour_later(shop: Shop, asked_earlier: timedelta = timedelta()) -> None:
    """`RECONNECT_RETRY_SECONDS` on (the job moved, not the clock)."""
    async with shop.services.db.transaction() as session:
        for job in await _apply_jobs(shop):
            await session.execute(
                update(Job)
                .where(Job.id == job.id)
                .values(run_after=utcnow(), created_at=job.created_at - asked_earlier)
            )


async def test_an_unsubscribe_waits_for_a_revoked_connection(newsletter: Shop) -> None:
    shop = newsletter
    auth = await _subscribed(shop)
    await _leave(shop, auth)
    # Before the worker runs it, some call gets 401 and the connection is marked revoked.
    await _set_status(shop, ConnectionStatus.REVOKED)
    await shop.work()
    await _waiting(shop)
    await shop.connect()
    await _an_hour_later(shop)
    await shop.work()
    assert shop.member(shop.ids["news"], MAX).status == "unsubscribed"


async def test_an_unsubscribe_met_by_a_401_waits_for_the_new_key(newsletter: Shop) -> None:
    shop = newsletter
    auth = await _subscribed(shop)
    await _leave(shop, auth)
    shop.mailchimp.revoke(shop.account)  # the key deleted in Mailchimp
    await shop.work()
    await _waiting(shop)
    shop.account.api_key = shop.mailchimp.add_api_key(shop.account)
    await shop.connect()
    await _an_hour_later(shop)
    await shop.work()
    assert shop.member(shop.ids["news"], MAX).status == "unsubscribed"


async def test_a_withdrawn_consent_waits_for_the_connection(newsletter: Shop) -> None:
    shop = newsletter
    permission = await shop.offered_permission()
    auth = await _subscribed(shop, permission)
    assert shop.consents(MAX)[permission] is True
    body = {"audiences": [{"list_id": shop.ids["news"], "subscribed": True}], "permissions": []}
    assert (await _put(shop, auth, body)).status_code == 202
    await _set_status(shop, ConnectionStatus.REVOKED)
    await shop.work()
    await _waiting(shop)
    await shop.connect()
    await _an_hour_later(shop)
    await shop.work()
    assert shop.consents(MAX)[permission] is False


async def test_a_shopper_can_leave_while_mailchimp_is_disconnected(newsletter: Shop) -> None:
    shop = newsletter
    news = shop.ids["news"]
    auth = await _subscribed(shop)
    await _set_status(shop, ConnectionStatus.DISCONNECTED)
    joining = {"audiences": [{"list_id": shop.ids["deals"], "subscribed": True}]}
    refused = await _put(shop, auth, joining)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "NEWSLETTER_UNAVAILABLE"
    unknown = {"audiences": [{"list_id": "nosuchlist", "subscribed": False}]}
    assert (await _put(shop, auth, unknown)).status_code == 409
    await _leave(shop, auth)
    await shop.work()
    await _waiting(shop)
    await _set_status(shop, ConnectionStatus.CONNECTED)
    await _an_hour_later(shop)
    await shop.work()
    assert shop.member(news, MAX).status == "unsubscribed"


async def test_a_subscription_while_disconnected_is_not_kept_waiting(newsletter: Shop) -> None:
    """A subscription is settled as before: the consent stays the shopper's to give again."""
    shop = newsletter
    max_ = await shop.saleor.create_customer(MAX, is_confirmed=True)
    auth = {"Authorization": f"Bearer {shop.saleor.mint_customer_token(max_)}"}
    body = {"audiences": [{"list_id": shop.ids["news"], "subscribed": True}]}
    assert (await _put(shop, auth, body)).status_code == 202
    await _set_status(shop, ConnectionStatus.REVOKED)
    await shop.work()
    assert [j.status for j in await _apply_jobs(shop)] == [JobStatus.DONE]
    assert shop.member(shop.ids["news"], MAX) is None


async def test_an_unsubscribe_is_given_up_after_the_reconnection_wait(newsletter: Shop) -> None:
    shop = newsletter
    auth = await _subscribed(shop)
    await _leave(shop, auth)
    await _set_status(shop, ConnectionStatus.REVOKED)
    await shop.work()
    await _waiting(shop)
    await _an_hour_later(shop, asked_earlier=RECONNECT_WAIT)
    await shop.work()
    assert {j.status for j in await _apply_jobs(shop)} == {JobStatus.DONE}
