"""Mailchimp → store when no webhook told (`addon/subscriptions/statuses_seen.py`): the statuses
the engagement collector reads reach the store as the webhook would have brought them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from addon.engagement import service as engagement
from addon.erasure.forget import forget
from addon.installations.models import Installation
from addon.jobs.models import Job, JobStatus
from addon.jobs.repository import JobRepository
from addon.subscriptions.metadata import STATUS_PREFIX as STATUS
from addon.subscriptions.models import ContactState
from addon.subscriptions.statuses_seen import STATUSES_SEEN_JOB
from tests.subscriptions.conftest import Shop, _account_page, _metadata, _subscribed_customer


async def _collect(shop: Shop) -> None:
    """An engagement collection, as "Sync engagement now" asks, run by the worker."""
    async with shop.services.db.transaction() as session:
        installation_id = await session.scalar(select(Installation.id))
        assert installation_id is not None
        await engagement.request_sync(session, installation_id)
    await shop.work()


async def _state(shop: Shop, list_id: str, email: str) -> ContactState:
    async with shop.services.db.session() as session:
        return (
            await session.scalars(
                select(ContactState).where(
                    ContactState.list_id == list_id, ContactState.email == email
                )
            )
        ).one()


async def test_a_confirmed_double_opt_in_reaches_the_store_without_a_webhook(
    newsletter: Shop,
) -> None:
    """Mailchimp labels the confirmation of a contact added through the API `api`, a source
    the app's webhook leaves out: the collector's read of the members brings it."""
    shop = newsletter
    deals = shop.ids["deals"]
    customer: Any = await shop.saleor.create_customer("tia@example.com", is_confirmed=True)
    await shop.work()
    await _account_page(shop, customer, deals, subscribed=True)
    await shop.work()
    assert shop.member(deals, "tia@example.com").status == "pending"
    assert _metadata(shop, customer)[STATUS + deals] == "pending"
    # She clicks the link in the confirmation e-mail: no webhook reaches the app.
    await shop.mc("PATCH", f"/lists/{deals}/members/tia@example.com", {"status": "subscribed"})
    await _collect(shop)
    assert _metadata(shop, customer)[STATUS + deals] == "subscribed"
    state = await _state(shop, deals, "tia@example.com")
    assert (state.status, state.last_change_source) == ("subscribed", "mailchimp")
    # Read again, it is nothing new.
    await _collect(shop)
    assert (await _state(shop, deals, "tia@example.com")).updated_at == state.updated_at


async def test_an_unsubscribe_whose_webhook_was_lost_reaches_the_store(newsletter: Shop) -> None:
    shop = newsletter
    news = shop.ids["news"]
    customer = await _subscribed_customer(shop, "ola@example.com")
    await shop.mc("PATCH", f"/lists/{news}/members/ola@example.com", {"status": "unsubscribed"})
    await _collect(shop)
    assert _metadata(shop, customer)[STATUS + news] == "unsubscribed"


async def test_a_reading_older_than_the_stores_change_is_left_alone(newsletter: Shop) -> None:
    """A member read before the store's newer change was pushed must not undo it."""
    shop = newsletter
    news = shop.ids["news"]
    customer = await _subscribed_customer(shop, "ola@example.com")
    await shop.mc("PATCH", f"/lists/{news}/members/ola@example.com", {"status": "unsubscribed"})
    async with shop.services.db.transaction() as session:
        state = (
            await session.scalars(select(ContactState).where(ContactState.list_id == news))
        ).one()
        state.store_changed_at = state.store_changed_at + timedelta(hours=1)  # type: ignore[operator]
    await _collect(shop)
    assert _metadata(shop, customer)[STATUS + news] == "subscribed"
    assert (await _state(shop, news, "ola@example.com")).status == "subscribed"


async def test_only_contacts_the_app_knows_are_handed_on(newsletter: Shop) -> None:
    """The job is kept as long as done jobs are: it names no one else (engagement keeps
    members by their hash only)."""
    shop = newsletter
    news = shop.ids["news"]
    await _subscribed_customer(shop, "ola@example.com")
    for email in ("ola@example.com", "stranger@example.com"):
        body = {"email_address": email, "status_if_new": "unsubscribed", "status": "unsubscribed"}
        await shop.mc("PUT", f"/lists/{news}/members/{email}", body)
    await _collect(shop)
    async with shop.services.db.session() as session:
        payloads = list(
            await session.scalars(select(Job.payload).where(Job.kind == STATUSES_SEEN_JOB))
        )
        known = set(await session.scalars(select(ContactState.email)))
    named = {m["email"] for p in payloads for m in p["members"]}
    assert "ola@example.com" in named and named <= known
    assert "stranger@example.com" not in str(payloads)


async def test_an_erasure_takes_its_customer_out_and_leaves_the_others(newsletter: Shop) -> None:
    """A job naming many contacts: once, an erasure of one dropped the others' changes."""
    shop = newsletter
    news = shop.ids["news"]
    now = "2026-12-01T10:00:00+00:00"
    members = [
        {"email": e, "status": "unsubscribed", "last_changed": now}
        for e in ("ann@example.com", "bo@example.com")
    ]
    async with shop.services.db.transaction() as session:
        installation_id = await session.scalar(select(Installation.id))
        assert installation_id is not None
        job_id = await JobRepository(session).enqueue(
            installation_id,
            STATUSES_SEEN_JOB,
            {"list_id": news, "members": members},
            run_after=datetime(2100, 1, 1, tzinfo=UTC),
        )
        await forget(session, installation_id, {"ann@example.com"}, None, orders_deleted=False)
    async with shop.services.db.session() as session:
        job = await session.get(Job, job_id)
        assert job is not None and job.status is JobStatus.PENDING
        assert [m["email"] for m in job.payload["members"]] == ["bo@example.com"]
