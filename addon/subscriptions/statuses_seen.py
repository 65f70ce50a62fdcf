"""Mailchimp → store when no webhook told: the statuses the engagement collector reads.

The audience webhook is the fast path (`mailchimp_hooks.py`), not a sure one: Mailchimp retries
a delivery that fails "at increasing intervals over the course of 75 minutes" and then drops it,
and may disable a webhook that keeps failing ("Synchronize Audience Data with Webhooks",
https://mailchimp.com/developer/marketing/guides/sync-audience-data-webhooks/); and the webhook
leaves out `api` sources (the app's own writes would echo), which is how Mailchimp labels the
confirmation of a contact the app added as `pending` (Mailchimp for Magento subscribes its
webhook to `api` alone, for that confirmation: mailchimp/mc-magento `_createWebhook`).

The engagement collector reads every active audience's members changed since its last read,
each with its `status` and `last_changed` (all of them once a day), and hands them here as a
job. A contact the app knows whose status differs, changed in Mailchimp after the app last
synced it and after the store or a webhook last changed it, gets the event the webhook would
have brought, in its own lane (`handle_event`: the same priority rules, member read and
write-back to Saleor).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.audiences.repository import AudienceRepository
from addon.db.types import utcnow
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob
from addon.services import Services
from addon.subscriptions.mailchimp_hooks import EVENT_JOB
from addon.subscriptions.models import ContactState
from addon.subscriptions.schemas import MailchimpEvent
from addon.subscriptions.writeback import contact_lane

STATUSES_SEEN_JOB = "subscriptions.statuses_seen"

# How each status Mailchimp reports reaches the store as a webhook would: `unsubscribe` with
# "unsub" or, for an archived contact, "delete"; `cleaned`; any other by a read of the member.
_EVENTS: dict[str, tuple[str, str | None]] = {
    "unsubscribed": ("unsubscribe", "unsub"),
    "archived": ("unsubscribe", "delete"),
    "cleaned": ("cleaned", None),
}


class SeenStatus(BaseModel):
    model_config = ConfigDict(frozen=True)

    email: str  # lower-cased
    status: str
    last_changed: datetime


class StatusesSeen(BaseModel):
    """One page of an audience's members, as the engagement collector read them."""

    model_config = ConfigDict(frozen=True)

    list_id: str
    members: list[SeenStatus]


async def enqueue_statuses_seen(
    session: AsyncSession, installation_id: int, list_id: str, members: Sequence[SeenStatus]
) -> None:
    """Hand on the statuses of contacts the app knows, of an audience synced both ways: the
    job keeps no address of anyone else (it is kept as long as done jobs are)."""
    audiences = AudienceRepository(session)
    settings = await audiences.find_settings(installation_id)
    audience = await audiences.audience(installation_id, list_id)
    if (
        settings is None
        or not settings.two_way
        or audience is None
        or not audience.active
        or audience.removed_at is not None
    ):
        return
    wanted = {m.email: m for m in members}
    known = set(
        await session.scalars(
            select(ContactState.email).where(
                ContactState.installation_id == installation_id,
                ContactState.list_id == list_id,
                ContactState.email.in_(sorted(wanted)),
            )
        )
    )
    kept = [wanted[email] for email in sorted(known)]
    if kept:
        payload = StatusesSeen(list_id=list_id, members=kept)
        await JobRepository(session).enqueue(
            installation_id, STATUSES_SEEN_JOB, payload.model_dump(mode="json")
        )


def _newer(seen: SeenStatus, state: ContactState) -> bool:
    """Whether Mailchimp changed the contact after everything the app knows of it. To the
    second, as Mailchimp writes `last_changed`: a change in the second the app last synced the
    contact counts (its own write in that second left the same status, which is skipped)."""
    known = [state.synced_at, state.store_changed_at, state.mailchimp_changed_at]
    return all(at is None or seen.last_changed >= at.replace(microsecond=0) for at in known)


async def handle_statuses_seen(job: ClaimedJob, seen: StatusesSeen, services: Services) -> None:
    installation_id = job.installation_id
    now = utcnow()
    async with services.db.transaction() as session:
        audiences = AudienceRepository(session)
        settings = await audiences.find_settings(installation_id)
        active = {a.list_id for a in await audiences.active_audiences(installation_id)}
        if settings is None or not settings.two_way or seen.list_id not in active:
            return  # as the webhook: registered only for two-way sync of an active audience
        by_email = {m.email: m for m in seen.members}
        states = await session.scalars(
            ContactState.of_installation(installation_id)
            .where(
                ContactState.list_id == seen.list_id,
                ContactState.email.in_(sorted(by_email)),
            )
            .order_by(ContactState.id)
            .with_for_update(key_share=True)
        )
        jobs = JobRepository(session)
        for state in states:
            member = by_email[state.email]
            if member.status == state.status or not _newer(member, state):
                continue
            kind, action = _EVENTS.get(member.status, ("subscribe", None))
            event = MailchimpEvent(
                type=kind,
                fired_at=member.last_changed.isoformat(),
                list_id=seen.list_id,
                email=state.email,
                action=action,
                received_at=now,
                base_synced_at=state.synced_at,
            )
            key = f"{seen.list_id}:{state.email}:{member.status}:{member.last_changed}"
            taken = await jobs.enqueue(
                installation_id,
                EVENT_JOB,
                event.model_dump(mode="json"),
                dedupe_key="seen:" + hashlib.sha256(key.encode()).hexdigest(),
                lane=contact_lane(state.email),
            )
            if taken is not None:
                state.mailchimp_changed_at = now  # as a webhook's receipt (`receive_event`)


def seen_statuses(
    members: Sequence[tuple[str, str, datetime | None]], since: datetime | None = None
) -> list[SeenStatus]:
    """The members a read returned, as this job takes them: those changed `since` (None: all).
    A full read lists every member; only the changes are handed on (the job keeps what it is
    given for as long as done jobs are kept)."""
    return [
        SeenStatus(email=email.lower(), status=status, last_changed=changed)
        for email, status, changed in members
        # Not `transactional`: what the e-commerce API makes of a customer, no newsletter status.
        if changed is not None
        and status
        and status != "transactional"
        and (since is None or changed >= since)
    ]
