"""Writing the status back to Saleor: only onto the address's own user, once, in its own job.

Real Saleor refuses a staff user's metadata to an app without MANAGE_STAFF (the sandbox does
the same, see tests/sandbox_saleor/test_users_metadata.py), and a checkout may carry another
e-mail than its signed-in user's.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import select, update

from addon.jobs.models import Job, JobStatus
from addon.subscriptions.metadata import CONSENT_AUDIENCES, CONSENT_SUBSCRIBE, STATUS_PREFIX
from addon.subscriptions.writeback import WRITE_STATUS_JOB
from addon.subscriptions.writeback_notes import STATUS_NOT_WRITTEN
from sandboxes.saleor import Customer, LineSpec, VariantSpec
from sandboxes.transport import HostRoutingTransport
from tests.conftest import RecordingTransport
from tests.subscriptions.conftest import Shop


async def _checkout(shop: Shop, email: str, customer: Customer | None) -> None:
    saleor = shop.saleor
    if not saleor.store.channels:
        await saleor.add_channel("default")
    product = await saleor.create_product("Plum", [VariantSpec(sku=None)])
    checkout = await saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)],
        email=email,
        customer=customer,
        metadata={CONSENT_SUBSCRIBE: "true", CONSENT_AUDIENCES: shop.ids["news"]},
    )
    await saleor.complete_checkout(checkout)


def _member_calls(shop: Shop, email: str) -> list[str]:
    from addon.mailchimp import subscriber_hash

    hashed = subscriber_hash(email)
    return [
        f"{r.method} {r.path.split(hashed)[-1] or '/'}"
        for r in shop.mailchimp.requests
        if hashed in r.path
    ]


def _metadata_writes(outbound: RecordingTransport) -> list[dict[str, Any]]:
    writes = []
    for request in outbound.requests:
        if request.url.host == "saleor.test" and b"SubscriptionsWriteStatus" in request.content:
            writes.append(json.loads(request.content)["variables"])
    return writes


async def _jobs(shop: Shop) -> list[Job]:
    """The newsletter's jobs (not the scheduled audience refresh)."""
    async with shop.services.db.session() as session:
        statement = select(Job).where(Job.kind.like("subscriptions.%")).order_by(Job.id)
        return list((await session.execute(statement)).scalars())


async def test_staff_customer_is_subscribed_once_and_the_refusal_is_recorded_once(
    newsletter: Shop, outbound: RecordingTransport
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    # A staff member shopping in the store: Saleor counts them as a customer once they order,
    # but writing their metadata needs MANAGE_STAFF, which the app does not have.
    staff = shop.saleor.store.create_customer("boss@grocer.example", "Bo", is_staff=True)
    await _checkout(shop, "boss@grocer.example", staff)
    await shop.work()

    assert shop.member(news, "boss@grocer.example").status == "subscribed"
    calls = _member_calls(shop, "boss@grocer.example")
    assert calls == ["GET /", "PUT /", "POST /tags"]  # once each: no retry repeated them
    assert STATUS_PREFIX + news not in staff.metadata
    assert len(_metadata_writes(outbound)) == 1

    jobs = await _jobs(shop)
    assert all(job.status is JobStatus.DONE for job in jobs), [
        (j.kind, j.status, j.last_error) for j in jobs
    ]
    [write] = [j for j in jobs if j.kind == WRITE_STATUS_JOB]
    assert write.attempts == 1
    [note] = [j for j in jobs if j.kind == STATUS_NOT_WRITTEN]
    assert note.last_error is not None
    assert "boss@grocer.example" in note.last_error and "MANAGE_STAFF" in note.last_error

    response = await shop.client.get("/api/activity", headers=shop.headers)
    assert response.status_code == 200, response.text
    [entry] = [i for i in response.json()["items"] if i["kind"] == STATUS_NOT_WRITTEN]
    assert entry["status"] == "done" and "MANAGE_STAFF" in entry["last_error"]
    assert entry["subject"] == (
        "Newsletter status of boss@grocer.example not written to Saleor (no permission)"
    )

    # The next change of this contact reaches Mailchimp; Saleor is not asked again.
    await _checkout(shop, "boss@grocer.example", staff)
    await shop.work()
    assert len(_metadata_writes(outbound)) == 1
    assert [j.kind for j in await _jobs(shop)].count(STATUS_NOT_WRITTEN) == 1
    assert all(j.status is JobStatus.DONE for j in await _jobs(shop))


class _WritesUnreachable(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if b"mutation" in request.content:
            raise httpx.ConnectError("Saleor is unreachable", request=request)
        return await self.inner.handle_async_request(request)


async def test_saleor_down_at_write_back_retries_the_write_only(
    newsletter: Shop, network: HostRoutingTransport, outbound: RecordingTransport
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    ann = await shop.saleor.create_customer("ann@example.com", "Ann")
    await _checkout(shop, "ann@example.com", ann)
    # Saleor unreachable from the app for its writes (it answered the consent's read).
    saleor_route = network._routes["saleor.test"]
    network._routes["saleor.test"] = _WritesUnreachable(saleor_route)  # type: ignore[assignment]
    await shop.work()
    network._routes["saleor.test"] = saleor_route

    [write] = [j for j in await _jobs(shop) if j.kind == WRITE_STATUS_JOB]
    assert write.status is JobStatus.PENDING and "unavailable" in (write.last_error or "")
    async with shop.services.db.transaction() as session:
        await session.execute(
            update(Job).where(Job.id == write.id).values(run_after=write.created_at)
        )
    await shop.work()

    assert ann.metadata[STATUS_PREFIX + news] == "subscribed"
    assert _member_calls(shop, "ann@example.com") == ["GET /", "PUT /", "POST /tags"]
    assert all(j.status is JobStatus.DONE for j in await _jobs(shop))


async def test_checkout_email_of_another_person_never_reaches_the_signed_in_user(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    bob = await shop.saleor.create_customer("bob@example.com", "Bob")
    # Bob is signed in, but the checkout (and so the order) carries Ann's address.
    await _checkout(shop, "ann@example.com", bob)
    await shop.work()
    assert shop.member(news, "ann@example.com").status == "subscribed"
    assert not any(key.startswith("mailchimp.") for key in bob.metadata)

    # Once Ann has an account of her own, her status goes there (and still not to Bob).
    ann = await shop.saleor.create_customer("ann@example.com", "Ann", is_confirmed=True)
    await _checkout(shop, "ann@example.com", bob)
    await shop.work()
    assert ann.metadata[STATUS_PREFIX + news] == "subscribed"
    assert not any(key.startswith("mailchimp.") for key in bob.metadata)
