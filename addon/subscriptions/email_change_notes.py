"""What Activity says of a customer's e-mail change (`email_change.py`), and reading the new
address back from Saleor, which for a staff member it cannot (`NOT_READ_NOTE`).

A note is a job done on arrival, its text in `last_error`, as the Activity page shows a row's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.errors import NotFound
from addon.installations.repository import InstallationRepository
from addon.jobs.models import Job
from addon.jobs.repository import JobRepository
from addon.mailchimp import subscriber_hash
from addon.saleor.customers import customer_email
from addon.saleor.deleted_users import user_deleted
from addon.services import Services
from addon.subscriptions.email_move import EMAIL_CHANGE_JOB, EmailMove
from addon.subscriptions.models import ContactState

logger = logging.getLogger(__name__)

# What a move kept when the new address was a contact already.
MERGED_NOTE = "subscriptions.email_change_merged"
REFUSED_NOTE = "subscriptions.email_change_refused"  # Mailchimp refused the new address
NOT_READ_NOTE = "subscriptions.email_change_not_read"  # a staff member's: Saleor hides it
# The customer's previous address was never recorded: nothing could move.
UNKNOWN_NOTE = "subscriptions.email_change_unknown"
# Saleor's event of a customer's own confirmed change (`confirmEmailChange`): a change for sure,
# where CUSTOMER_UPDATED may be any update.
EMAIL_CHANGED_EVENT = "ACCOUNT_EMAIL_CHANGED"


@dataclass(frozen=True)
class CurrentEmail:
    email: str | None  # the user's address in Saleor now (lower-cased), None: not readable
    hidden: bool = False  # Saleor has the user but shows them not to the app (a staff member)


async def current_email(services: Services, installation_id: int, user_id: str) -> CurrentEmail:
    """The user's address in Saleor now. `user(id:)` answers null for a deleted user and for a
    staff member without orders alike (MANAGE_STAFF only): the probe tells them apart
    (`deleted_users.py`). Saleor failing to answer fails the job (retried)."""
    async with services.db.session() as session:
        installation = await InstallationRepository(session).get(installation_id)
    if installation is None:
        return CurrentEmail(None)
    api_url, token = installation.saleor_api_url, installation.app_token
    try:
        email = await customer_email(services.saleor, api_url, token, user_id)
    except NotFound:
        return CurrentEmail(
            None, hidden=not await user_deleted(services.saleor, api_url, token, user_id)
        )
    return CurrentEmail(email.lower())


async def note_not_read(
    session: AsyncSession, installation_id: int, user_id: str, seen: str | None, named: str
) -> None:
    """Activity says a staff member's contacts stayed: the app cannot read their address (and
    never takes the delivery's). Only where it knows a contact of theirs, once per address."""
    known = seen or await session.scalar(
        select(ContactState.email)
        .where(ContactState.installation_id == installation_id)
        .where(ContactState.saleor_user_id == user_id)
        .limit(1)
    )
    if known is None or known == named:
        return
    note = (
        f"Saleor says user {user_id} may have a new address (its delivery names {named}) but "
        "shows the app that user no more: a staff member without orders, whom Saleor shows "
        "only to apps with MANAGE_STAFF, which this app does not ask for. Their contacts stay "
        f"at {known}; change the address in Mailchimp by hand if they should follow."
    )
    move = EmailMove(old_email=known, new_email=named, saleor_user_id=user_id)
    key = f"{NOT_READ_NOTE}:{user_id}:{subscriber_hash(named)}"
    await record_note(session, installation_id, move, note, NOT_READ_NOTE, dedupe_key=key)


async def note_unknown_previous(
    session: AsyncSession, installation_id: int, user_id: str, new: str
) -> None:
    """Activity says a confirmed change (ACCOUNT_EMAIL_CHANGED) moved nothing as the app never
    recorded the customer's previous address (`customer_addresses.py`: they registered before
    the app listened, and changed nothing since) and knew no contact of theirs elsewhere. Not
    when a move to the new address was queued: the customer's CUSTOMER_UPDATED, handled first,
    did it (the two deliveries of one change are handled in either order)."""
    pattern = f"{EMAIL_CHANGE_JOB}:%:{subscriber_hash(new)}%"
    queued = await session.scalar(
        select(Job.id)
        .where(Job.installation_id == installation_id, Job.kind == EMAIL_CHANGE_JOB)
        .where(Job.coalesce_key.like(pattern))
        .limit(1)
    )
    if queued is not None:
        return
    note = (
        f"Saleor says customer {user_id} changed their e-mail address to {new}, but the app "
        "had no earlier address of theirs on record (they registered before the app was "
        "installed or connected, and had not changed since) and knows no audience contact of "
        "theirs: a contact under their previous address stays there. Change its address in "
        "Mailchimp by hand if it should follow."
    )
    move = EmailMove(old_email="", new_email=new, saleor_user_id=user_id)
    key = f"{UNKNOWN_NOTE}:{user_id}:{subscriber_hash(new)}"
    await record_note(session, installation_id, move, note, UNKNOWN_NOTE, dedupe_key=key)


async def record_note(
    session: AsyncSession,
    installation_id: int,
    move: EmailMove,
    note: str,
    kind: str,
    dedupe_key: str | None = None,
) -> None:
    logger.info("E-mail change noted (%s)", kind)
    await JobRepository(session).record_note(
        installation_id,
        kind,
        {"email": move.new_email, "old_email": move.old_email},
        note,
        dedupe_key=dedupe_key,
    )
