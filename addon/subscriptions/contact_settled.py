"""The contact once its store-side change ran (`apply.handle_apply`): the change no longer
pending, and a contact held at an old address for this one moved to it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from addon.subscriptions.email_move import EmailMove, enqueue_email_move
from addon.subscriptions.models import ContactState
from addon.subscriptions.repository import ContactRepository
from addon.subscriptions.schemas import ContactChange


async def settled(
    session: AsyncSession, installation_id: int, change: ContactChange, *, member: bool = False
) -> ContactState:
    """The contact once its change ran: with no member back (nothing to write, the address
    forgotten or refused, the change lost to Mailchimp's, no connection), the change is over
    all the same, so it no longer counts as the store's pending change, which under "store
    wins" would drop every later change made in Mailchimp (`mailchimp_hooks.handle_event`).
    With a member back, `synced_at` says so. Not a change asked since: locked, so one asked
    meanwhile (in a request, outside the contact's lane) is seen, never overwritten."""
    contacts = ContactRepository(session)
    state = await contacts.get(
        installation_id, change.list_id, change.email, for_update=True
    ) or await contacts.get_or_create(installation_id, change.list_id, change.email)
    asked = state.store_changed_at
    if not member and asked is not None and asked <= change.requested_at:
        state.store_changed_at = None
    return state


async def release_hold(session: AsyncSession, installation_id: int, change: ContactChange) -> None:
    """The address is a contact now (a refusal "for now" passed, say): a contact held at an old
    address for it moves to it, the two merged (`email_change`), the stronger consent kept."""
    held = await ContactRepository(session).held(installation_id, change.list_id, change.email)
    if held is not None and held.email != change.email:
        await enqueue_email_move(
            session,
            installation_id,
            EmailMove(
                old_email=held.email,
                new_email=change.email,
                saleor_user_id=held.saleor_user_id,
                list_ids=[change.list_id],
            ),
        )
