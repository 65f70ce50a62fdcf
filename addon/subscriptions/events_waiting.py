"""Mailchimp changes waiting in a contact's lane, for the store changes queued before them
(`apply`): the audience-webhook events (`mailchimp_hooks`) not applied yet."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from addon.connection.reconnect import OwedKind
from addon.subscriptions.mailchimp_hooks import EVENT_JOB
from addon.subscriptions.schemas import MailchimpEvent
from addon.subscriptions.upemail_waits import waits_for_connection
from addon.subscriptions.writeback import waiting_in_lane


def _address_change(payload: dict[str, Any]) -> bool:
    try:
        return waits_for_connection(MailchimpEvent.model_validate(payload))
    except ValidationError:
        return False


# Address changes received while the account was away (`upemail_waits`): applied at once when
# it is connected again, not at their next hourly try (the contact's lane waits behind them).
WAITING_ADDRESS_CHANGES = OwedKind(
    EVENT_JOB,
    "address change made in Mailchimp",
    "address changes made in Mailchimp",
    dropped="the store's contacts stay at their old addresses",
    owes=_address_change,
    blocks_switch=False,
)


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
    session: AsyncSession, installation_id: int, list_id: str, email: str, since: datetime
) -> bool:
    """Whether an unsubscribe or a clean of the contact in audience `list_id`, received after
    `since`, waits to be applied (its job, in the contact's lane, runs after the change
    asking). The lane holds the address's events of every audience: leaving another is no
    answer to a consent to this one."""
    for payload in await waiting_in_lane(session, installation_id, email, EVENT_JOB):
        event = MailchimpEvent.model_validate(payload)
        leaving = event.type in ("unsubscribe", "cleaned") and not event.seen_before
        if leaving and event.list_id == list_id and event.received_at > since:
            return True
    return False
