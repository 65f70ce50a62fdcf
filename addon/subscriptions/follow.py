"""A store-side change that follows its contact: asked of a customer's contact that moved
before the change ran (the `subscriptions.apply` job's first step), or whose member Mailchimp
moved before it ran, the move's `upemail` waiting behind it (`follow_upemail`)."""

from __future__ import annotations

from addon.jobs.repository import JobRepository
from addon.services import Services
from addon.subscriptions.repository import ContactRepository
from addon.subscriptions.schemas import ContactChange
from addon.subscriptions.service import APPLY_JOB
from addon.subscriptions.writeback import contact_lane


async def followed(services: Services, installation_id: int, change: ContactChange) -> bool:
    """A change asked of a customer's contact that moved before it ran: held at an old address
    and released by the customer's next address change, or moved by its member in Mailchimp
    (`upemail`, waiting in the lane when the change was asked). It follows the contact, in its
    new lane, rather than make a member of the address left behind."""
    async with services.db.transaction() as session:
        contacts = ContactRepository(session)
        state = await contacts.get(installation_id, change.list_id, change.email)
        # Still there (and, for a held one, still held for the customer's address): it stays.
        if state is not None and (change.held_for is None or state.held_for == change.held_for):
            return False
        user_id = change.saleor_user_id
        moved = (
            await contacts.of_user(installation_id, change.list_id, user_id) if user_id else None
        )
        if moved is None or moved.email == change.email:
            return False
        customer_address = change.held_for or change.email
        followed = change.model_copy(
            update={
                "email": moved.email,
                "held_for": None if moved.email == customer_address else customer_address,
            }
        )
        await JobRepository(session).enqueue(
            installation_id,
            APPLY_JOB,
            followed.model_dump(mode="json"),
            lane=contact_lane(moved.email),
        )
        return True


async def follow_upemail(services: Services, installation_id: int, change: ContactChange) -> None:
    """A change that found no member at its address, Mailchimp's `upemail` of the contact
    waiting behind it in the lane (received after the change was asked, or retried): asked
    again in the lane, after the move, it follows the contact to its new address (`followed`)
    rather than be lost (an unsubscribe, a staff change of groups) or make a member of the
    address left behind. Mailchimp retries a webhook delivery for up to 75 minutes."""
    async with services.db.transaction() as session:
        await JobRepository(session).enqueue(
            installation_id,
            APPLY_JOB,
            change.model_dump(mode="json"),
            lane=contact_lane(change.email),
        )
