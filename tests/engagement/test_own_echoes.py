"""Saleor's echo of the app's own metadata writes (`OWN_ECHO_EVENTS`).

Each metadata write the app makes on a customer (a status write-back, an engagement summary)
makes Saleor send CUSTOMER_METADATA_UPDATED to every webhook subscribing to it, naming the app
as the event's `issuingPrincipal`. The receiver records such a delivery and hands it to no
handler. Before, each one queued a customer push and a profile update per audience, each
reading the customer from Saleor to find nothing had changed.
"""

from __future__ import annotations

import json

from sqlalchemy import func, select

from addon.jobs.models import Job, JobStatus
from addon.subscriptions.profile_sync import UPDATE_PROFILE_JOB
from tests.engagement.conftest import ALICE, BOB, Engagement

ECHOED = "CUSTOMER_METADATA_UPDATED"


def _outcomes(e: Engagement, since: int) -> list[str]:
    deliveries = e.shop.saleor.deliveries[since:]
    return [json.loads(d.response_body)["outcome"] for d in deliveries if d.event_type == ECHOED]


async def _queued_after_deliveries(e: Engagement, kinds: tuple[str, ...]) -> int:
    async with e.services.db.session() as session:
        statement = select(func.count()).select_from(Job).where(Job.kind.in_(kinds))
        return int(await session.scalar(statement) or 0)


async def test_the_apps_own_metadata_writes_come_back_recorded_not_handled(e: Engagement) -> None:
    e.activity(e.send("News", e.at(days=-1)), (ALICE, "open", e.at(hours=-3)))
    before = len(e.shop.saleor.deliveries)
    profiles = await _queued_after_deliveries(e, (UPDATE_PROFILE_JOB,))

    await e.collect()

    assert e.metadata_writes()  # the app wrote engagement onto its customers
    outcomes = _outcomes(e, before)
    assert outcomes and set(outcomes) == {"own_echo"}
    assert await _queued_after_deliveries(e, (UPDATE_PROFILE_JOB,)) == profiles
    async with e.services.db.session() as session:
        webhooks = await session.execute(
            select(Job.status, Job.payload).where(Job.kind.like("webhook.%"))
        )
        echoes = {status for status, payload in webhooks if payload["event"] == ECHOED}
    assert echoes == {JobStatus.DONE}


async def test_a_metadata_change_made_by_someone_else_is_handled(e: Engagement) -> None:
    """The store's own change (no principal here; a staff user or another app in Saleor)."""
    before = len(e.shop.saleor.deliveries)
    await e.shop.saleor.update_customer_metadata(e.customers[BOB], {"birthday": "1990-12-03"})
    assert set(_outcomes(e, before)) == {"queued"}
