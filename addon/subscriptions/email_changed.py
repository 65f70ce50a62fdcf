"""A Saleor customer's new e-mail address, as Saleor tells it: the addresses they had, each
queued to move to the new one (the move itself is `email_change.py`).

Saleor sends CUSTOMER_UPDATED for any change of a customer (a staff `customerUpdate` included)
and, when the customer confirms a new address themselves, ACCOUNT_EMAIL_CHANGED too
(saleor/graphql/account/mutations/account/confirm_email_change.py). Neither carries the old
address (ACCOUNT_EMAIL_CHANGED's `newEmail` is even left null), so the app keeps the address it
last saw for each customer (`customer_addresses.py`) and moves what was under the previous one.

A staff member's address cannot be read back: Saleor shows a staff member without orders only
to MANAGE_STAFF, which the app does not hold. Their contacts stay, and Activity says so
(`email_change_notes.NOT_READ_NOTE`).
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from addon.jobs.completion import complete_in
from addon.jobs.models import Job
from addon.jobs.schemas import ClaimedJob, WebhookJob
from addon.mailchimp import subscriber_hash
from addon.privacy.erased import is_erased
from addon.saleor.schemas import UserEventBody
from addon.services import Services
from addon.subscriptions.customer_addresses import CustomerAddress, record_address
from addon.subscriptions.email_change_notes import (
    EMAIL_CHANGED_EVENT,
    current_email,
    note_not_read,
    note_unknown_previous,
)
from addon.subscriptions.email_move import EmailMove, enqueue_email_move
from addon.subscriptions.models import ContactState
from addon.subscriptions.schemas import Source

WEBHOOK_SLUG = "subscriptions-email-changed"


EmailChangedEvent = WebhookJob[UserEventBody]


async def _recorded(
    session: AsyncSession, installation_id: int, user_id: str
) -> CustomerAddress | None:
    return (
        await session.execute(
            select(CustomerAddress).where(
                CustomerAddress.installation_id == installation_id,
                CustomerAddress.saleor_user_id == user_id,
            )
        )
    ).scalar_one_or_none()


async def moved_from(
    session: AsyncSession, installation_id: int, user_id: str, new: str
) -> dict[str, list[str] | None]:
    """The addresses to move to `new` (with the audiences to move them in; None: every one),
    and the customer's address recorded as `new`.

    The address the app last saw for the customer in Saleor, when it changed. Before the app
    has seen the customer (no record yet), the contacts linked to them under another address,
    except those Mailchimp gave that address (its own e-mail change, followed by two-way sync:
    the customer keeps their Saleor address on purpose)."""
    seen = await _recorded(session, installation_id, user_id)
    if seen is None and not await record_address(session, installation_id, user_id, new):
        # The customer's other delivery (CUSTOMER_UPDATED and ACCOUNT_EMAIL_CHANGED come
        # together) recorded them meanwhile, from another worker: its record is the one seen.
        seen = await _recorded(session, installation_id, user_id)
    if seen is not None:
        previous, seen.email = seen.email, new
        if previous == new:
            return {}  # no retry of a refused move here: its status write-back comes back
        moves: dict[str, list[str] | None] = {previous: None}
        held = await _released(session, installation_id, user_id, new)
        return moves | {address: lists for address, lists in held.items() if address != previous}
    contacts = await session.execute(
        select(ContactState.email, ContactState.last_change_source).where(
            ContactState.installation_id == installation_id,
            ContactState.saleor_user_id == user_id,
        )
    )
    return {
        email.lower(): None
        for email, source in contacts.all()
        if email.lower() != new and source != Source.MAILCHIMP.value
    }


async def _released(
    session: AsyncSession, installation_id: int, user_id: str, new: str
) -> dict[str, list[str]]:
    """The addresses where the customer's contacts were held (Mailchimp refused an address the
    customer had since), with the audiences where they are: they move to the new one there
    only (elsewhere the customer's contact moves from the refused address, and another
    customer's contact at the old address is theirs); one held at `new` is no longer held."""
    held = await session.scalars(
        select(ContactState).where(
            ContactState.installation_id == installation_id,
            ContactState.saleor_user_id == user_id,
            ContactState.held_for.is_not(None),
        )
    )
    addresses: dict[str, list[str]] = {}
    for state in held:
        if state.email == new:
            state.held_for = None
        else:
            addresses.setdefault(state.email, []).append(state.list_id)
    return {address: sorted(lists) for address, lists in addresses.items()}


async def on_customer_changed(
    job: ClaimedJob, event: EmailChangedEvent, services: Services
) -> None:
    user = event.body.user
    if user is None or not user.email:
        async with services.db.transaction() as session:
            await complete_in(session)
        return
    async with services.db.session() as session:
        seen = await session.scalar(
            select(CustomerAddress.email).where(
                CustomerAddress.installation_id == job.installation_id,
                CustomerAddress.saleor_user_id == user.id,
            )
        )
    # Moves only to the address Saleor holds now, not the body's: an old body (or one posted to
    # this webhook from another's delivery: the signature covers the body alone) would move the
    # contacts back to an address the customer left. Asked only when the body names another
    # address than the one last seen: most customer updates change none.
    stays = seen is not None and seen == user.email.lower()
    read = None if stays else await current_email(services, job.installation_id, user.id)
    async with services.db.transaction() as session:
        await complete_in(session)
        if read is not None and read.hidden:
            await note_not_read(session, job.installation_id, user.id, seen, user.email.lower())
        if read is None and stays and event.event == EMAIL_CHANGED_EVENT:
            await note_unknown_previous(session, job.installation_id, user.id, user.email.lower())
        if read is None or read.email is None:
            return
        new = read.email
        if seen is None and await is_erased(session, job.installation_id, subscriber_hash(new)):
            # A customer erased from the panel (still in Saleor): the app's own deletion of
            # its metadata (`erasure.saleor_metadata`) sends this. Their address stays
            # forgotten, here and in this delivery's record, until they change it.
            await session.execute(
                update(Job)
                .where(Job.id == job.id)
                .values(payload={"event": event.event, "body": {"user": {"id": user.id}}})
            )
            return
        moves = await moved_from(session, job.installation_id, user.id, new)
        for old, lists in sorted(moves.items()):
            move = EmailMove(old_email=old, new_email=new, saleor_user_id=user.id, list_ids=lists)
            await enqueue_email_move(session, job.installation_id, move)
        if not moves and seen is None and event.event == EMAIL_CHANGED_EVENT:
            await note_unknown_previous(session, job.installation_id, user.id, new)
