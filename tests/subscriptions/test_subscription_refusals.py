"""Subscriptions Mailchimp refuses are reported on the contact, not retried: an address it forgot
(deleted permanently), one it takes for fake or that signed up too often (asked again later:
tests/subscriptions/test_for_now.py), and the confirmation it will not ask of an unsubscribed or
archived contact."""

from __future__ import annotations

import httpx

from addon.subscriptions.apply import FORGOTTEN
from addon.subscriptions.repository import ContactRepository
from tests.conftest import RecordingTransport
from tests.subscriptions.conftest import (
    Shop,
    _account_page,
    _subscribed_customer,
    _unsubscribed_in_mailchimp,
)
from tests.test_saleor_versions import stored


async def test_forgotten_email_is_reported_not_retried(newsletter: Shop) -> None:
    shop = newsletter
    news = shop.ids["news"]
    await _subscribed_customer(shop, "rae@example.com")
    await shop.mc("POST", f"/lists/{news}/members/rae@example.com/actions/delete-permanent")
    response = await shop.client.post(
        "/api/storefront/subscribe",
        params={"saleor_api_url": shop.saleor.api_url},
        json={"email": "rae@example.com"},
    )
    assert response.status_code == 202
    await shop.work()
    assert shop.member(news, "rae@example.com") is None
    from sqlalchemy import select

    from addon.jobs.models import Job, JobStatus
    from addon.subscriptions.models import ContactState

    async with shop.services.db.session() as session:
        jobs = (
            await session.execute(select(Job).where(Job.kind == "subscriptions.apply"))
        ).scalars()
        assert all(j.status is JobStatus.DONE and j.attempts == 1 for j in jobs)
        state = (
            await session.execute(
                select(ContactState).where(ContactState.email == "rae@example.com")
            )
        ).scalar_one()
    # Deleted by an erasure the store made or at the contact's request: Mailchimp's refusal
    # does not say which, so the message claims neither.
    assert state.last_problem == FORGOTTEN
    assert "an erasure made by the store, or at the contact's own request" in FORGOTTEN


async def test_an_address_mailchimp_refuses_is_reported_not_retried(newsletter: Shop) -> None:
    """Mailchimp refuses some addresses (verbb/formie#2276): as fake (refused again whenever
    sent), or "for now" (too many signups). The contact says why and the change is not retried
    in its lane (it would hold the contact's other changes back); one refused "for now" is asked
    again later (tests/subscriptions/test_for_now.py)."""
    from sqlalchemy import select

    from addon.jobs.models import Job, JobStatus
    from addon.subscriptions.models import ContactState

    shop = newsletter
    shop.mailchimp.refuse_address(shop.account, "bot@example.com")
    shop.mailchimp.refuse_address(shop.account, "busy@example.com", "signups")
    for email in ("bot@example.com", "busy@example.com"):
        response = await shop.client.post(
            "/api/storefront/subscribe",
            params={"saleor_api_url": shop.saleor.api_url},
            json={"email": email},
        )
        assert response.status_code == 202
    await shop.work()
    async with shop.services.db.session() as session:
        jobs = list(
            (await session.execute(select(Job).where(Job.kind == "subscriptions.apply"))).scalars()
        )
        states = {
            s.email: s.last_problem for s in (await session.execute(select(ContactState))).scalars()
        }
    assert len(jobs) == 2 and all(j.status is JobStatus.DONE and j.attempts == 1 for j in jobs)
    assert "fake or invalid" in (states["bot@example.com"] or "")
    assert "signed up to many audiences very recently" in (states["busy@example.com"] or "")
    for email in ("bot@example.com", "busy@example.com"):
        assert shop.member(shop.ids["news"], email) is None


class _RefusingConfirmation(httpx.AsyncBaseTransport):
    """Mailchimp refusing to set a member pending too ("Member In Compliance State")."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method not in ("PATCH", "PUT") or b'"pending"' not in request.content:
            return await self.inner.handle_async_request(request)
        problem = {
            "type": "https://mailchimp.com/developer/marketing/docs/errors/",
            "title": "Member In Compliance State",
            "status": 400,
            "detail": "quinn@example.com is in a compliance state due to unsubscribe, bounce, "
            "or compliance review and cannot be subscribed.",
            "instance": "",
        }
        return httpx.Response(
            400, json=problem, headers={"content-type": "application/problem+json"}
        )


async def test_a_confirmation_mailchimp_refuses_is_reported_not_asked_again(
    newsletter: Shop, outbound: RecordingTransport
) -> None:
    """The shopper's fresh consent asks an unsubscribed contact to confirm (pending); where
    Mailchimp refuses that too, the contact says so and the job ends."""
    shop = newsletter
    news = shop.ids["news"]
    customer = await _unsubscribed_in_mailchimp(shop, "quinn@example.com")
    outbound.inner = _RefusingConfirmation(outbound.inner)

    await _account_page(shop, customer, news, subscribed=True)
    await shop.work()

    pending = [r for r in outbound.requests if r.method == "PATCH" and b'"pending"' in r.content]
    assert len(pending) == 1  # asked once, not again at once nor by retries
    installation = await stored(shop.services)
    assert installation is not None
    async with shop.services.db.session() as session:
        [state] = [
            s
            for s in await ContactRepository(session).for_email(
                installation.id, "quinn@example.com"
            )
            if s.list_id == news
        ]
    assert "refused to ask them to confirm" in (state.last_problem or "")
    assert shop.member(news, "quinn@example.com").status == "unsubscribed"


async def test_a_confirmation_refused_for_an_archived_contact_is_reported_too(
    newsletter: Shop, outbound: RecordingTransport
) -> None:
    """An archived contact is added again (PUT); refused there and in the PATCH after it."""
    shop = newsletter
    deals = shop.ids["deals"]  # double opt-in: the shopper is asked to confirm (pending)
    customer = await _subscribed_customer(shop, "quinn@example.com")
    await shop.mc(
        "PUT",
        f"/lists/{deals}/members/quinn@example.com",
        {"email_address": "quinn@example.com", "status_if_new": "subscribed"},
    )
    await shop.mc("DELETE", f"/lists/{deals}/members/quinn@example.com")  # archived
    outbound.inner = _RefusingConfirmation(outbound.inner)

    await _account_page(shop, customer, deals, subscribed=True)
    await shop.work()

    installation = await stored(shop.services)
    assert installation is not None
    async with shop.services.db.session() as session:
        state = await ContactRepository(session).get(installation.id, deals, "quinn@example.com")
    assert state is not None and "refused to ask them to confirm" in (state.last_problem or "")
