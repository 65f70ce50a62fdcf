"""Withdrawals owed to the shopper (GDPR art. 7(3)): a leaving, or a consent withdrawn, is
sent whenever Mailchimp can be told. With the account disconnected (or refusing the app's
credentials) it waits for the reconnection (`addon.connection.reconnect`), as an erasure does;
one asked under an account another was connected in place of ends not done, Activity saying so
(its audience is that account's). The `subscriptions.apply` job (`apply`) asks these first.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

from addon.connection.reconnect import NOT_DONE_SWITCHED, asked_of_another_account
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob
from addon.services import Services
from addon.subscriptions.schemas import Action, ContactChange

logger = logging.getLogger(__name__)

WAITING_FOR_CONNECTION = (
    "Waits for Mailchimp to be connected again: the shopper left, or withdrew a consent, and "
    "Mailchimp does not know it yet"
)


def withdraws(change: ContactChange, held: set[str]) -> bool:
    """A leaving, or a consent the contact holds (`held`) withdrawn: owed to the shopper
    (GDPR art. 7(3)) whenever Mailchimp can be told. (An unproven one is not sent at all.)"""
    if not change.address_proven:
        return False
    if change.action is Action.UNSUBSCRIBE:
        return True
    return change.permissions_exact and bool(held - set(change.permission_ids))


# Done on arrival: the Activity entry of a withdrawal owed to an account another was connected
# in place of (text in `last_error`, as the Activity page shows a row's).
NOT_DONE_NOTE = "subscriptions.not_done_account_switched"


def owed(change: ContactChange) -> bool:
    """A leaving, or a choice of consents that may withdraw one: owed to the account the change
    was asked under (whether it withdraws one, only that account's contact knew)."""
    return change.address_proven and (
        change.action is Action.UNSUBSCRIBE or change.permissions_exact
    )


def owes(payload: dict[str, Any]) -> bool:
    try:
        return owed(ContactChange.model_validate(payload))
    except ValidationError:
        return False


async def for_another_account(services: Services, job: ClaimedJob, change: ContactChange) -> bool:
    """Whether the change was asked under the account connected before another: its audience
    is that one's, and the app forgot it (`addon.connection.reconnect`). A withdrawal owed to
    it ends with Activity saying it was not done; any other change as one of a gone audience."""
    async with services.db.session() as session:
        if not await asked_of_another_account(session, job):
            return False
    if owed(change):
        async with services.db.transaction() as session:
            note = (
                f"{NOT_DONE_SWITCHED}. {change.email} left audience {change.list_id} (or "
                "withdrew a consent) while the app waited to tell the account connected before, "
                "and another account was connected in its place: that account may still have "
                "them subscribed. Unsubscribe them there by hand if it is still in use."
            )
            jobs = JobRepository(session)
            await jobs.record_note(
                job.installation_id,
                NOT_DONE_NOTE,
                {"email": change.email, "list_id": change.list_id},
                note,
                dedupe_key=f"{NOT_DONE_NOTE}:{job.id}",
            )
            logger.warning(
                "A shopper's withdrawal was not sent: the Mailchimp account was switched"
            )
    return True
