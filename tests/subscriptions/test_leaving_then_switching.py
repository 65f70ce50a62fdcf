"""A shopper's unsubscribe waiting for the Mailchimp account it was asked under, when the admin
connects another: refused unless confirmed (the message counts it), and then it ends with
Activity saying it was not done, instead of silently (its audience gone with the old account's
data). Reconnecting the same account sends it at once."""

from __future__ import annotations

from sqlalchemy import select

from addon.connection.reconnect import NOT_DONE_SWITCHED
from addon.jobs.models import Job, JobStatus
from addon.subscriptions.owed_withdrawals import NOT_DONE_NOTE
from tests.subscriptions.conftest import Shop
from tests.subscriptions.test_leaving_while_disconnected import (
    MAX,
    _apply_jobs,
    _leave,
    _subscribed,
    _waiting,
)


async def _leaving_while_reset(shop: Shop) -> None:
    auth = await _subscribed(shop)
    reset = await shop.client.post("/api/connection/reset", json={}, headers=shop.headers)
    assert reset.status_code == 200, reset.text
    await _leave(shop, auth)
    await shop.work()
    await _waiting(shop)


async def _connect(shop: Shop, key: str, **confirm: bool) -> dict[str, object]:
    response = await shop.client.post(
        "/api/connection/api-key", json={"api_key": key, **confirm}, headers=shop.headers
    )
    body: dict[str, object] = response.json()
    body["status"] = response.status_code
    return body


async def _notes(shop: Shop) -> list[Job]:
    async with shop.services.db.session() as session:
        return list(await session.scalars(select(Job).where(Job.kind == NOT_DONE_NOTE)))


async def test_another_account_is_refused_while_an_unsubscribe_waits(newsletter: Shop) -> None:
    shop = newsletter
    await _leaving_while_reset(shop)
    other = shop.mailchimp.create_account("Other Co", "owner@other.example", dc="us21")
    refused = await _connect(shop, other.api_key)
    assert refused["status"] == 409
    error = refused["error"]
    assert isinstance(error, dict) and error["code"] == "OWED_TO_PREVIOUS_ACCOUNT"
    assert error["message"].startswith("1 unsubscribe still waits for Green Grocer")
    assert "whoever left stays subscribed there" in error["message"]
    await _waiting(shop)

    confirmed = await _connect(shop, other.api_key, drop_owed_to_previous_account=True)
    assert confirmed["status"] == 200 and confirmed["continuity"] == "started_clean"
    assert "1 unsubscribe owed to the previous account ends not done" in str(confirmed["message"])
    await shop.work()  # made due at once
    assert [j.status for j in await _apply_jobs(shop)] == [JobStatus.DONE, JobStatus.DONE]
    [note] = await _notes(shop)
    assert note.status is JobStatus.DONE
    assert note.last_error is not None and note.last_error.startswith(NOT_DONE_SWITCHED)
    assert MAX in note.last_error
    # Nothing was sent to either account: Max is still subscribed in the first.
    assert shop.member(shop.ids["news"], MAX).status == "subscribed"
    activity = await shop.client.get("/api/activity?limit=100", headers=shop.headers)
    assert any(
        (i["last_error"] or "").startswith(NOT_DONE_SWITCHED) for i in activity.json()["items"]
    )


async def test_reconnecting_the_same_account_sends_the_unsubscribe_at_once(
    newsletter: Shop,
) -> None:
    shop = newsletter
    await _leaving_while_reset(shop)
    resumed = await _connect(shop, shop.account.api_key)
    assert resumed["continuity"] == "resumed"
    assert "1 unsubscribe waiting for it runs now" in str(resumed["message"])
    await shop.work()  # no hour to wait
    assert shop.member(shop.ids["news"], MAX).status == "unsubscribed"
    assert await _notes(shop) == []


async def test_the_account_before_s_webhooks_are_answered_gone(newsletter: Shop) -> None:
    """The app cannot remove its webhooks from an account it no longer holds: Mailchimp kept
    delivering that account's contacts' changes, answered 200 (and ignored) for good. Another
    account connected gets a new secret: a delivery at the old one is answered 410, on which
    Mailchimp disables the webhook (its release notes, 2021-04-05)."""
    shop = newsletter
    news = shop.ids["news"]
    assert len(shop.mailchimp.webhooks(shop.account, news)) == 1
    other = shop.mailchimp.create_account("Other Co", "owner@other.example", dc="us21")
    assert (await _connect(shop, other.api_key))["status"] == 200
    await shop.work()

    answers = await shop.mailchimp.fire_list_webhook(shop.account, news, "profile", {"email": MAX})
    assert [a.status_code for a in answers] == [410]
    again = await shop.mailchimp.fire_list_webhook(shop.account, news, "profile", {"email": MAX})
    assert again == []  # disabled for good
