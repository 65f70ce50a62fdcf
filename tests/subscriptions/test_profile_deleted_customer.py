"""Mailchimp → store write-back of mapped merge fields, to a customer deleted in Saleor after the
app found them: Saleor answers the names and public metadata writes with NOT_FOUND. The job
ends: nothing is left to write, and asking again cannot help. (A private metadata key is never
written back: `profile_writeback`.)"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from addon.jobs.models import Job
from addon.subscriptions.metadata import CONSENT_SUBSCRIBE
from addon.subscriptions.profile_writeback import WRITE_PROFILE_JOB
from tests.conftest import RecordingTransport
from tests.subscriptions.conftest import Shop


class _DeletingOnWrite(httpx.AsyncBaseTransport):
    """Deletes the customer (its CUSTOMER_DELETED not yet handled) when the first write-back
    mutation goes out, then passes every request on."""

    def __init__(self, inner: httpx.AsyncBaseTransport, shop: Shop, customer: Any) -> None:
        self.inner, self.shop, self.customer = inner, shop, customer

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.customer is not None and b"SubscriptionsUpdateCustomerNames" in request.content:
            self.shop.saleor.store.delete_customer(self.customer)
            self.customer = None
        return await self.inner.handle_async_request(request)


async def test_a_customer_deleted_before_the_write_back_ends_the_job(
    newsletter: Shop, outbound: RecordingTransport
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    for tag, name in (("COMPANY", "Company"), ("TEAM", "Team")):
        created = await shop.client.post(
            f"/api/audiences/{news}/merge-fields",
            json={"name": name, "tag": tag, "type": "text"},
            headers=shop.headers,
        )
        assert created.status_code == 201, created.text
    mapped = await shop.client.put(
        f"/api/audiences/{news}/mapping",
        json={
            "fields": [
                {"merge_tag": "FNAME", "source": "first_name"},
                {"merge_tag": "TEAM", "source": "metadata", "key": "team"},
                {"merge_tag": "COMPANY", "source": "metadata", "key": "company"},
            ]
        },
        headers=shop.headers,
    )
    assert mapped.status_code == 200, mapped.text
    customer = await shop.saleor.create_customer(
        "ed@example.com", "Ed", metadata={CONSENT_SUBSCRIBE: "true"}
    )
    await shop.work()
    outbound.inner = _DeletingOnWrite(outbound.inner, shop, customer)

    await shop.mc(
        "PATCH",
        f"/lists/{news}/members/ed@example.com",
        {"merge_fields": {"FNAME": "Eddie", "TEAM": "Blue", "COMPANY": "Pear Co"}},
    )
    responses = await shop.mailchimp.fire_list_webhook(
        shop.account, news, "profile", {"email": "ed@example.com"}, source="user"
    )
    assert responses and all(r.status_code == 200 for r in responses)
    await shop.work()

    writes = [r.content for r in outbound.requests if b"updateMetadata" in r.content]
    assert writes, "the write-back reached the metadata"
    async with shop.services.db.session() as session:
        jobs = list(await session.scalars(select(Job).where(Job.kind == WRITE_PROFILE_JOB)))
    assert [(j.status, j.attempts, j.last_error) for j in jobs] == [("done", 1, None)]
