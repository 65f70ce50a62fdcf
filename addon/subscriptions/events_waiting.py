"""Mailchimp changes waiting in a contact's lane, for the store changes queued before them
(`apply`): the audience-webhook events (`mailchimp_hooks`) not applied yet."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from addon.subscriptions.mailchimp_hooks import EVENT_JOB
from addon.subscriptions.schemas import MailchimpEvent
from addon.subscriptions.writeback import waiting_in_lane


async def upemail_waiting(
    session: AsyncSession, installation_id: int, list_id: str, email: str
) -> bool:
    """Whether an address change of the contact made in Mailchimp (`upemail` from `email`)
    waits to be applied, in the contact's lane, after the job asking: Mailchimp has the
    member at its new address already."""
    for payload in await waiting_in_lane(session, installation_id, email, EVENT_JOB):
        event = MailchimpEvent.model_validate(payload)
        moved = event.type == "upemail" and event.new_email not in (None, email)
        # Not a body seen before: a retry, most likely, of a change applied already.
        if moved and event.list_id == list_id and event.email == email and not event.seen_before:
            return True
    return False


async def withdrawal_waiting(
    session: AsyncSession, installation_id: int, email: str, since: datetime
) -> bool:
    """Whether an unsubscribe or a clean of the contact received after `since` waits to be
    applied (its job, in the contact's lane, runs after the change asking)."""
    for payload in await waiting_in_lane(session, installation_id, email, EVENT_JOB):
        event = MailchimpEvent.model_validate(payload)
        leaving = event.type in ("unsubscribe", "cleaned") and not event.seen_before
        if leaving and event.received_at > since:
            return True
    return False
