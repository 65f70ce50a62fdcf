"""Webhook registration when an imported audience was deleted in Mailchimp since the last
import (Mailchimp answers 404): that audience is skipped and imported again (marked removed),
the others still get their webhook. Before, the whole job failed, retried and failed, every
audience after the deleted one left without a webhook until the next import, hours later (and
Mailchimp never replays the changes made before a webhook exists)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from addon.audiences.models import Audience
from addon.audiences.repository import AudienceRepository
from addon.audiences.service import REGISTER_WEBHOOKS_JOB
from addon.clock import ManualClock
from addon.jobs.models import Job, JobStatus
from addon.mailchimp import MailchimpClient, ValidationFailed, Webhook, WebhookInput
from addon.mailchimp.errors import FieldError
from tests.conftest import RecordingTransport
from tests.subscriptions.conftest import Shop


async def _audiences(shop: Shop) -> dict[str, Audience]:
    async with shop.services.db.session() as session:
        return {a.list_id: a for a in await session.scalars(select(Audience))}


async def _failed_jobs(shop: Shop) -> list[str]:
    """The webhook registrations that did not end done at the first try."""
    async with shop.services.db.session() as session:
        jobs = await session.scalars(select(Job).where(Job.kind == REGISTER_WEBHOOKS_JOB))
        return [
            f"{job.status}: {job.last_error}"
            for job in jobs
            if job.status is not JobStatus.DONE or job.attempts != 1
        ]


async def test_webhooks_are_registered_past_an_audience_deleted_in_mailchimp(
    shop: Shop, clock: ManualClock
) -> None:
    old = await shop.new_list("Old")  # imported, never offered
    news = await shop.new_list("News")
    deals = await shop.new_list("Deals")
    await shop.connect()
    await shop.work()
    await shop.configure(active_list_ids=[news], default_list_id=news)
    assert len(shop.mailchimp.webhooks(shop.account, news)) == 1
    # The admin deletes an audience nobody uses, in Mailchimp; the next import is hours away.
    clock.advance(3600)
    await shop.mc("DELETE", f"/lists/{old}")
    # Then offers "Deals" too, with two-way sync on (the default).
    await shop.configure(active_list_ids=[news, deals], default_list_id=news)
    await shop.work()

    [hook] = shop.mailchimp.webhooks(shop.account, deals)
    audiences = await _audiences(shop)
    assert audiences[deals].webhook_id == hook.id
    assert audiences[old].removed_at is not None  # imported again at once
    assert await _failed_jobs(shop) == []


async def test_two_way_sync_turned_off_past_an_audience_deleted_in_mailchimp(
    shop: Shop, clock: ManualClock
) -> None:
    news = await shop.new_list("News")
    deals = await shop.new_list("Deals")
    await shop.connect()
    await shop.work()
    await shop.configure(active_list_ids=[news, deals], default_list_id=news)
    assert len(shop.mailchimp.webhooks(shop.account, deals)) == 1
    clock.advance(3600)
    await shop.mc("DELETE", f"/lists/{news}")
    await shop.configure(active_list_ids=[news, deals], default_list_id=news, two_way=False)
    await shop.work()

    assert shop.mailchimp.webhooks(shop.account, deals) == []
    audiences = await _audiences(shop)
    assert audiences[deals].webhook_id is None
    assert audiences[news].removed_at is not None
    assert await _failed_jobs(shop) == []


async def test_an_audience_gone_right_after_an_import_waits_for_the_next(shop: Shop) -> None:
    """An import made a moment ago listed the audience: it is not imported again at once (were
    Mailchimp to list an audience whose webhooks it cannot find, the two jobs would queue each
    other for good); the other audiences get their webhooks all the same."""
    old = await shop.new_list("Old")
    news = await shop.new_list("News")
    await shop.connect()
    await shop.work()
    await shop.mc("DELETE", f"/lists/{old}")
    await shop.configure(active_list_ids=[news], default_list_id=news)
    await shop.work()

    assert len(shop.mailchimp.webhooks(shop.account, news)) == 1
    assert (await _audiences(shop))[old].removed_at is None
    assert await _failed_jobs(shop) == []


async def test_a_refusal_quoting_the_webhook_url_leaves_its_secret_out(
    shop: Shop, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Mailchimp's messages may quote the request: the webhook URL's last segment is the
    secret that authenticates its deliveries, and a job's error is shown on the Activity page."""

    async def refused(_: MailchimpClient, list_id: str, webhook: WebhookInput) -> Webhook:
        raise ValidationFailed(
            "The resource submitted could not be validated.",
            status=400,
            title="Invalid Resource",
            errors=(FieldError("url", f"{webhook.url} could not be reached"),),
        )

    news = await shop.new_list("News")
    await shop.connect()
    await shop.work()
    monkeypatch.setattr(MailchimpClient, "create_webhook", refused)
    await shop.configure(active_list_ids=[news], default_list_id=news)
    await shop.work()

    async with shop.services.db.session() as session:
        [job] = await session.scalars(
            select(Job).where(Job.kind == REGISTER_WEBHOOKS_JOB, Job.last_error.is_not(None))
        )
        secret = (await AudienceRepository(session).settings(job.installation_id)).webhook_secret
    assert secret is not None and job.last_error is not None
    assert "could not be reached" in job.last_error and "[redacted]" in job.last_error
    assert secret.get_secret_value() not in job.last_error
    assert secret.get_secret_value() not in caplog.text


class _CreatesTwice(httpx.AsyncBaseTransport):
    """The first POST to an audience's webhooks reaches Mailchimp, its answer is lost, and it
    is sent again (`twice`: the second's answer, Mailchimp's refusal of the same URL, comes
    back) or not (a read timeout)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *, twice: bool) -> None:
        self.inner, self.twice, self.done = inner, twice, False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method != "POST" or not request.url.path.endswith("/webhooks") or self.done:
            return response
        self.done = True
        await response.aread()
        if self.twice:
            return await self.inner.handle_async_request(request)
        raise httpx.ReadTimeout("answer lost", request=request)


@pytest.mark.parametrize("twice", [False, True])
async def test_a_webhook_made_though_its_answer_was_lost_is_found(
    shop: Shop, outbound: RecordingTransport, twice: bool
) -> None:
    """Sent once (`MailchimpClient.create_webhook`); its outcome unknown, or refused as the
    same URL again: the webhook made is listed and kept, at the first try."""
    news = await shop.new_list("News")
    await shop.connect()
    await shop.work()
    outbound.inner = _CreatesTwice(outbound.inner, twice=twice)
    await shop.configure(active_list_ids=[news], default_list_id=news)
    await shop.work()

    [hook] = shop.mailchimp.webhooks(shop.account, news)
    assert (await _audiences(shop))[news].webhook_id == hook.id
    assert await _failed_jobs(shop) == []
    posted = [
        r for r in outbound.requests if r.method == "POST" and r.url.path.endswith("/webhooks")
    ]
    assert len(posted) == 1


async def test_a_webhook_edited_in_mailchimp_is_set_back_by_the_next_import(
    shop: Shop, clock: ManualClock
) -> None:
    """An admin turned events and a source off in Mailchimp's webhook settings: the app would
    never hear of those unsubscribes again. The scheduled import's registration sets it back."""
    news = await shop.new_list("News")
    await shop.connect()
    await shop.work()
    await shop.configure(active_list_ids=[news], default_list_id=news)
    [hook] = shop.mailchimp.webhooks(shop.account, news)
    edit = {"events": {"unsubscribe": False, "upemail": False}, "sources": {"user": False}}
    await shop.mc("PATCH", f"/lists/{news}/webhooks/{hook.id}", edit)

    clock.advance(shop.services.settings.audience_import_interval_hours * 3600)
    await shop.work()

    [repaired] = shop.mailchimp.webhooks(shop.account, news)
    assert repaired.id == hook.id and repaired.url == hook.url
    assert repaired.events.model_dump() == {
        "subscribe": True,
        "unsubscribe": True,
        "profile": True,
        "cleaned": True,
        "upemail": True,
        "campaign": False,
    }
    assert repaired.sources.model_dump() == {"user": True, "admin": True, "api": False}
    assert await _failed_jobs(shop) == []
