"""Saleor's echo of the app's own metadata writes (`OWN_ECHO_EVENTS`).

Each metadata write the app makes on a customer (a status write-back, an engagement summary)
makes Saleor send CUSTOMER_METADATA_UPDATED to every webhook subscribing to it, and
CUSTOMER_UPDATED while the store keeps Saleor's legacy update emission, naming the app as the
event's `issuingPrincipal`. The receiver records such a delivery and hands it to no
handler. Before, each one queued a customer push and a profile update per audience, each
reading the customer from Saleor to find nothing had changed.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from addon.jobs.models import Job, JobStatus
from tests.engagement.conftest import ALICE, BOB, Engagement

ECHOED = "CUSTOMER_METADATA_UPDATED"


def _outcomes(e: Engagement, since: int) -> list[str]:
    deliveries = e.shop.saleor.deliveries[since:]
    return [json.loads(d.response_body)["outcome"] for d in deliveries if d.event_type == ECHOED]


async def test_the_apps_own_metadata_writes_come_back_recorded_not_handled(e: Engagement) -> None:
    e.activity(e.send("News", e.at(days=-1)), (ALICE, "open", e.at(hours=-3)))
    before = len(e.shop.saleor.deliveries)

    await e.collect()

    assert e.metadata_writes()  # the app wrote engagement onto its customers
    outcomes = _outcomes(e, before)
    assert outcomes and set(outcomes) == {"own_echo"}
    # Stored done, never claimed by a worker (a handled one would count an attempt).
    async with e.services.db.session() as session:
        webhooks = await session.execute(
            select(Job.status, Job.attempts, Job.payload).where(Job.kind.like("webhook.%"))
        )
        echoes = {
            (status, tries) for status, tries, payload in webhooks if payload["event"] == ECHOED
        }
    assert echoes == {(JobStatus.DONE, 0)}
    # The store keeps Saleor's legacy update emission (its default): each write also sends
    # CUSTOMER_UPDATED, recorded the same way by the documents that can tell who made it.
    legacy = {
        json.loads(d.response_body)["outcome"]
        for d in e.shop.saleor.deliveries[before:]
        if d.event_type == "CUSTOMER_UPDATED"
        and d.target_url.endswith(("/subscriptions-customer-updated", "/ecommerce-customers"))
    }
    assert legacy == {"own_echo"}


async def test_a_metadata_change_made_by_someone_else_is_handled(e: Engagement) -> None:
    """The store's own change (no principal here; a staff user or another app in Saleor)."""
    before = len(e.shop.saleor.deliveries)
    await e.shop.saleor.update_customer_metadata(e.customers[BOB], {"birthday": "1990-12-03"})
    assert set(_outcomes(e, before)) == {"queued"}
