"""What the status write-back (`writeback`) says when it writes nothing on a customer: a contact
moved in Mailchimp onto another customer's address (the customer panel's note on the contact),
and a customer whose metadata Saleor refuses the app (an Activity entry, once per user)."""

from __future__ import annotations

import logging

from sqlalchemy import select

from addon.jobs.models import Job
from addon.jobs.repository import JobRepository
from addon.services import Services
from addon.subscriptions.models import ContactState
from addon.subscriptions.repository import ContactRepository

logger = logging.getLogger(__name__)

# Done on arrival: an Activity entry saying why a customer's status is not in Saleor.
STATUS_NOT_WRITTEN = "subscriptions.status_not_written"


def _refusal_key(user_id: str) -> str:
    return f"{STATUS_NOT_WRITTEN}:{user_id}"


_OTHER_OWNER = "This contact's address was changed in Mailchimp to "


def other_owner_note(email: str) -> str:
    """What a contact moved in Mailchimp onto another customer's address says."""
    return (
        f"{_OTHER_OWNER}{email}, which another Saleor customer's account has: its subscription "
        "status and profile were not written on that account (its owner did not consent). "
        "Check the contact in Mailchimp."
    )


def is_other_owner_note(problem: str | None) -> bool:
    """Whether a contact's problem is `other_owner_note`'s: true only of the address it names,
    so a later move drops it (the write-back notes it again if the new address is another's)."""
    return problem is not None and problem.startswith(_OTHER_OWNER)


async def record_other_owner(
    services: Services,
    installation_id: int,
    email: str,
    states: list[ContactState],
    other_id: str,
) -> None:
    """The customer panel says why the other owner (Saleor user `other_id`) of the new address
    got nothing."""
    logger.warning(
        "A contact moved in Mailchimp onto Saleor user %s's address: not written there", other_id
    )
    lists = {s.list_id for s in states}
    async with services.db.transaction() as session:
        for state in await ContactRepository(session).for_email(installation_id, email):
            if state.list_id in lists:
                state.last_problem = other_owner_note(email)


async def refused_before(services: Services, installation_id: int, user_id: str) -> bool:
    async with services.db.session() as session:
        found = await session.execute(
            select(Job.id).where(
                Job.installation_id == installation_id,
                Job.dedupe_key == _refusal_key(user_id),
            )
        )
        return found.first() is not None


async def record_refusal(
    services: Services, installation_id: int, email: str, user_id: str, user_email: str, reason: str
) -> None:
    message = (
        f"The newsletter status of {email} was not written to its Saleor account "
        f"({user_email}): Saleor refused the app ({reason}). This account's metadata can be "
        "written only with a permission the app does not have (a staff account needs "
        "MANAGE_STAFF), so the app will not try again. The subscription itself is in Mailchimp "
        "as usual."
    )
    logger.warning("Status of a contact not written to Saleor user %s: %s", user_id, reason)
    async with services.db.transaction() as session:
        await JobRepository(session).record_note(
            installation_id,
            STATUS_NOT_WRITTEN,
            {"email": email, "saleor_user_id": user_id, "reason": reason},
            message,
            dedupe_key=_refusal_key(user_id),
        )
