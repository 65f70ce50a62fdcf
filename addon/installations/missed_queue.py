"""Queueing the replay of what Saleor did not deliver while the app was deactivated, or while
no web process answered (`outage.py`) (the job itself: `missed.py`), and what it must know of
the deliveries received before.

Saleor sends no webhook to an inactive app, and keeps none for later: it picks the webhooks of
an event among active apps only (saleor/webhook/utils.py `get_webhooks_for_event`,
`app__is_active=True`), and activating the app again sends nothing of what happened meanwhile.
So when processing resumes, the installation's `missed_since` becomes this job.

A registration or an order is replayed as new unless its creation was delivered: its consent
must not subscribe twice (`replay.py`). The creations delivered in the window are recorded when
the pause is noticed (`Installation.missed_creations`), since done jobs are pruned after a week
and a deactivation may last longer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.installations.webhook_kinds import webhook_job_kind
from addon.jobs.models import Job
from addon.jobs.repository import JobRepository
from addon.saleor.manifest import registered_webhook_definitions, webhook_definitions

MISSED_JOB = "installation.missed"
# Saleor's clock and the app's may differ, and an event raised just before the deactivation
# may still have been in Saleor's queue: replayed from this much earlier.
MARGIN = timedelta(minutes=10)
CREATIONS = {"CUSTOMER_CREATED": "CUSTOMER_UPDATED", "ORDER_CREATED": "ORDER_UPDATED"}

Creation = tuple[str, str]  # (event, entity id)


class Missed(BaseModel):
    """Since when Saleor may have delivered nothing (its own clock: `MARGIN`), until when (the
    resume: later changes are delivered), and the creations delivered before the pause."""

    model_config = ConfigDict(frozen=True)
    since: AwareDatetime
    until: AwareDatetime | None = None
    delivered: list[Creation] = Field(default_factory=list)


@cache
def creation_kinds() -> tuple[str, ...]:
    """The job kinds of documents that take a creation and not the update after it: a
    creation replayed to them again would act twice (consent)."""
    every = webhook_definitions() + registered_webhook_definitions()
    return tuple(
        webhook_job_kind(d.slug)
        for d in every
        if any(c in d.events and u not in d.events for c, u in CREATIONS.items())
    )


async def delivered_creations(
    session: AsyncSession, installation_id: int, since: datetime
) -> set[Creation]:
    """The creations stored as deliveries (replayed ones included) since `since`."""
    found: set[Creation] = set()
    payloads = await session.scalars(
        select(Job.payload).where(
            Job.installation_id == installation_id,
            Job.kind.in_(creation_kinds()),
            Job.created_at >= since,
        )
    )
    for payload in payloads:
        event = str(payload.get("event", "")).upper()
        body = payload.get("body") or {}
        entity = body.get("user") or body.get("order") or {}
        if event in CREATIONS and entity.get("id"):
            found.add((event, str(entity["id"])))
    return found


async def queue_missed(
    session: AsyncSession,
    installation_id: int,
    missed: Missed,
    *,
    at: datetime | None = None,
) -> None:
    """Queue the catch-up, due now or `at`. Not merged with a pending one: each resume
    replays its own pause."""
    await JobRepository(session).enqueue(
        installation_id, MISSED_JOB, missed.model_dump(mode="json"), run_after=at
    )
