"""A member's address changes made in Mailchimp (`upemail`), as the app received them, for the
audience-webhook handler (`mailchimp_hooks.handle_event`).

Mailchimp does not deliver in order, and retries a failed delivery "at increasing intervals over
the course of 75 minutes" (its guide "Synchronize Audience Data with Webhooks"): of a member that
moved A→B then B→C, B→C may come first. A→B then finds no member at B; the app follows the
changes of B it received (the event jobs, kept for days after they ran: `jobs.upkeep.RETENTION`)
to where the member is. A `cleaned` or `unsubscribe` of an address whose member has moved on was
fired before the move (a cleaned contact cannot be edited: Mailchimp's help on cleaned
contacts), and says nothing of the member where it is now.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.types import utcnow
from addon.jobs.models import Job, JobStatus
from addon.jobs.schemas import RetryLater
from addon.jobs.wakeup import work_due
from addon.mailchimp import MailchimpClient, Member
from addon.mailchimp import NotFound as MailchimpNotFound
from addon.services import Services
from addon.subscriptions.awaiting_move import move_landed
from addon.subscriptions.models import ContactState
from addon.subscriptions.repository import ContactRepository
from addon.subscriptions.schemas import MailchimpEvent
from addon.subscriptions.writeback import contact_lane

# How many later changes are followed: a person changes their address a few times at most
# within Mailchimp's 75 minutes of retries.
MAX_HOPS = 5
# How soon an event waiting for a move to its address looks again (seconds).
MOVE_POLL = 1.0
# How long a profile change of an address the app knows nothing of waits for a move to it to
# arrive: Mailchimp sends the two deliveries of one change at once, in no stated order. A move
# received within this of an event is the one the event may wait for.
MOVE_GRACE = timedelta(seconds=60)
# The longest an event waits for moves at all: two that cross (A→B corrected to B→A) can each
# hold the other's event, and a move may wait for a connection for days.
MOVE_WAIT_LIMIT = timedelta(minutes=5)
# What a waiting event's job says (and how `moved_in` finds it).
MOVE_REASON = "Waiting for Mailchimp's change of address to this one to be applied."
# A leaving is applied at once, on its own word (`mailchimp_hooks.LEAVING`).
_NOT_WAITING = frozenset({"upemail", "unsubscribe", "cleaned"})


async def wait_for_move(
    session: AsyncSession,
    installation_id: int,
    event: MailchimpEvent,
    state: ContactState | None,
    kind: str,
) -> None:
    """Raise `RetryLater` while the event (of `kind`, the event job's) waits for an address
    change (`upemail`) to its address to be applied. Mailchimp sends the member's `profile`
    event at the new address with the move, which lands in another contact's lane and may run
    first: it would find no contact at the new address, and write the member's status (and,
    Mailchimp winning, its names) on whoever owns that address in Saleor, someone else (anyone
    can type anyone's address on Mailchimp's profile page). Once the move is applied, the
    contact's own customer gets them (`writeback`). So an event waits while a move to its
    address received about when it was (`MOVE_GRACE`) is not applied, and a profile change of
    an address the app knows nothing of waits `MOVE_GRACE` from its receipt for one to come;
    neither beyond `MOVE_WAIT_LIMIT`. A move whose delivery came later than that finds the
    profile change gone to the address's owner already."""
    waited = utcnow() - event.received_at
    if event.type in _NOT_WAITING or waited >= MOVE_WAIT_LIMIT:
        return
    due = await _move_under_way(session, installation_id, event, kind)
    if due is not None:
        # Looked at again once the move may have run (one retried later waits that long, up
        # to the limit), every `MOVE_POLL` while it runs.
        left = (MOVE_WAIT_LIMIT - waited).total_seconds()
        raise RetryLater(MOVE_REASON, min(max((due - utcnow()).total_seconds(), MOVE_POLL), left))
    if event.type == "profile" and known_nothing(state) and waited < MOVE_GRACE:
        raise RetryLater(MOVE_REASON, (MOVE_GRACE - waited).total_seconds())


async def moved_in(
    session: AsyncSession, event: MailchimpEvent, state: ContactState, kind: str
) -> None:
    """The `upemail` event (of `kind`) is applied, `state` now at its new address: what waited
    for it is due now. The withdrawals owed the member where it moved (`awaiting_move`), and
    the profile changes of the new address that waited for a move (`wait_for_move`)."""
    installation_id = state.installation_id
    await move_landed(session, installation_id, event.list_id, event.email, state)
    made_due = await session.execute(
        update(Job)
        .where(
            Job.installation_id == installation_id,
            Job.lane == contact_lane(state.email),
            Job.kind == kind,
            Job.status == JobStatus.PENDING,
            Job.last_error == MOVE_REASON,
        )
        .values(run_after=utcnow())
    )
    if made_due.rowcount:  # type: ignore[attr-defined]
        await work_due(session)


async def _move_under_way(
    session: AsyncSession, installation_id: int, event: MailchimpEvent, kind: str
) -> datetime | None:
    """When the next of the `upemail`s of the audience to `event.email` from another address,
    received within `MOVE_GRACE` of the event, not applied yet (waiting, or running under a
    live lease), is due to run; None: there is none."""
    rows = await session.execute(
        select(Job.payload, Job.run_after).where(
            Job.installation_id == installation_id,
            Job.kind == kind,
            or_(
                Job.status == JobStatus.PENDING,
                (Job.status == JobStatus.RUNNING) & (Job.locked_until > utcnow()),
            ),
            Job.payload["type"].as_string() == "upemail",
            Job.payload["new_email"].as_string() == event.email,
        )
    )
    due: list[datetime] = []
    for payload, run_after in rows:
        move = MailchimpEvent.model_validate(payload)
        if (
            move.list_id == event.list_id
            and move.email != event.email
            and abs(move.received_at - event.received_at) <= MOVE_GRACE
        ):
            due.append(run_after)
    return min(due, default=None)


async def moved_on_to(
    session: AsyncSession, installation_id: int, event: MailchimpEvent, kind: str
) -> str | None:
    """The address a received `upemail` moved the member at `event.email` to (the latest
    received), whatever became of its job (`kind`: the event job's)."""
    return await _moved_on_to(session, installation_id, event.list_id, event.email, kind)


async def _moved_on_to(
    session: AsyncSession, installation_id: int, list_id: str, email: str, kind: str
) -> str | None:
    payloads = await session.scalars(
        select(Job.payload)
        .where(
            Job.installation_id == installation_id,
            Job.lane == contact_lane(email),
            Job.kind == kind,
        )
        .order_by(Job.id.desc())
    )
    for payload in payloads:
        event = MailchimpEvent.model_validate(payload)
        moved = event.type == "upemail" and event.new_email not in (None, email)
        if moved and event.list_id == list_id and event.email == email:
            return event.new_email
    return None


async def member_moved_on(
    services: Services,
    client: MailchimpClient,
    installation_id: int,
    list_id: str,
    email: str,
    kind: str,
) -> tuple[str, Member] | None:
    """Where the member an address change moved to `email` is now, `email` no member: the
    later changes received from it, followed until one finds a member (None: none does)."""
    seen = {email}
    for _ in range(MAX_HOPS):
        async with services.db.session() as session:
            later = await _moved_on_to(session, installation_id, list_id, email, kind)
        if later is None or later in seen:
            return None
        seen.add(later)
        email = later
        try:
            return email, await client.get_member(list_id, email)
        except MailchimpNotFound:
            continue
    return None


async def still_member(client: MailchimpClient, list_id: str, email: str) -> bool:
    """Whether the audience has a member at `email` (an address change's old one)."""
    try:
        await client.get_member(list_id, email)
    except MailchimpNotFound:
        return False
    return True


def known_nothing(state: ContactState | None) -> bool:
    """Whether the app holds nothing of a contact at this address but the row a webhook's
    receipt made (`mailchimp_hooks.receive_event`): no status from Mailchimp, no customer."""
    return state is None or (state.status == "none" and state.saleor_user_id is None)


async def moved_state(session: AsyncSession, state: ContactState, email: str) -> ContactState:
    """The contact's row once moved to `email`, merged with a row already there: the customer
    and a held-back update kept. A row only this delivery's receipt made at the old address (a
    later change of a chain, applied after an earlier one brought the contact to `email`)
    gives way to the one there."""
    existing = await ContactRepository(session).get(state.installation_id, state.list_id, email)
    if existing is not None and existing is not state:
        if known_nothing(state):
            state, existing = existing, state
        else:
            state.saleor_user_id = state.saleor_user_id or existing.saleor_user_id
            state.profile_held_back = state.profile_held_back or existing.profile_held_back
        await session.delete(existing)
        await session.flush()
    state.email = email
    return state
