"""An e-mail change whose new address is another customer's contact (`email_change.py`).

Saleor gives an address to one user at a time ("Email is used by other user.",
saleor/graphql/account/mutations/account/confirm_email_change.py), so a contact the app links
to another customer at the customer's new address is one that customer left, whose own move
has not run yet: moves handled after several changes (a backlog, a catch-up that replays each
customer as they are now), or out of order. Merged into, it would make two people's contacts
one. The move therefore never merges into it, nor links it to the customer:

* that customer has the move's old address now (the two exchanged addresses, maybe through a
  third: A→C, B→A, C→B): the two contacts exchange addresses (`member_exchange.py`), and the
  other customer's move finds its contact there already. One of the two moves exchanges them,
  the one from the address first in order; the other's waits as below (two moves of different
  addresses may run at once, and two exchanges would undo each other);
* they are elsewhere (or the app cannot read where: a staff member): the customer's contact
  waits at the old address, held for the new one (`ContactState.held_for`, as a refused move's
  is; Activity says why), until the other customer's move takes their contact away
  (`release_waiting` then queues this move again), or the customer's next change moves it.

A contact of a customer Saleor deleted since is no one's: merged into as any.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.mailchimp import MailchimpClient, NotFound
from addon.services import Services
from addon.subscriptions.email_change_notes import current_email
from addon.subscriptions.email_move import EmailMove, enqueue_email_move
from addon.subscriptions.member_move import Moved
from addon.subscriptions.models import MEMBER_STATUSES, ContactState


@dataclass
class Occupied:
    """The audiences whose contact at the move's new address is another customer's."""

    exchange: set[str] = field(default_factory=set)  # they have the old address now
    waits: dict[str, str] = field(default_factory=dict)  # list → that customer: elsewhere

    def __contains__(self, list_id: str) -> bool:
        return list_id in self.exchange or list_id in self.waits


async def occupied(services: Services, installation_id: int, move: EmailMove) -> Occupied:
    """Which audiences' contact at the new address another customer left (Saleor is asked
    where each such customer is now: only where there is one)."""
    found = Occupied()
    if not move.saleor_user_id:
        return found
    async with services.db.session() as session:
        rows = (
            await session.execute(
                select(ContactState.list_id, ContactState.saleor_user_id).where(
                    ContactState.installation_id == installation_id,
                    ContactState.email == move.new_email,
                    ContactState.saleor_user_id.is_not(None),
                    ContactState.saleor_user_id != move.saleor_user_id,
                    ContactState.status.in_(MEMBER_STATUSES),  # (an archived one is no one's)
                )
            )
        ).all()
    where: dict[str, str | None] = {}
    for list_id, other in rows:
        if other is None or (move.list_ids is not None and list_id not in move.list_ids):
            continue
        if other not in where:
            read = await current_email(services, installation_id, other)
            if read.email is None and not read.hidden:
                where[other] = None  # deleted: their contact is no one's
            else:
                where[other] = read.email or ""
        now = where[other]
        if now == move.old_email and move.old_email < move.new_email:
            found.exchange.add(list_id)
        elif now is not None:
            # (Of two customers who exchanged addresses, the move from the address first in
            # order exchanges the two, the other's waits: both at once would undo it.)
            found.waits[list_id] = other
    return found


async def wait_for(
    client: MailchimpClient, list_id: str, name: str, move: EmailMove, other: str
) -> Moved | None:
    """The customer's contact stays at the old address, held for the new one; None if there
    is none to hold (nothing to move)."""
    try:
        member = await client.get_member(list_id, move.old_email)
    except NotFound:
        return None
    if member.status == "archived":
        return None
    note = (
        f"Not moved yet in “{name}”: {move.new_email} is still the contact of another customer "
        f"(Saleor user {other}), who has another address now. Merged, the two people's "
        f"contacts would become one, so the contact keeps {move.old_email} there until that "
        "customer's contact moves to their new address (or the two exchange addresses), then "
        "follows."
    )
    return Moved(note=note, refused=True, held=member, waits=True)


async def exchange_rows(
    session: AsyncSession,
    installation_id: int,
    list_id: str,
    move: EmailMove,
    old_row: ContactState | None,
    new_row: ContactState | None,
) -> tuple[ContactState, ContactState]:
    """The app's records of the two contacts exchange addresses, each still its customer's:
    the customer's (now at the new address) and the other's (now at the old one)."""

    def row_or_new(row: ContactState | None) -> ContactState:
        if row is None:
            row = ContactState(installation_id=installation_id, list_id=list_id, email="")
            session.add(row)
        return row

    if new_row is not None:
        new_row.email = ""  # for a moment: the audience's addresses are unique
        await session.flush()
    mine = row_or_new(old_row)
    mine.email = move.new_email
    await session.flush()
    theirs = row_or_new(new_row)
    theirs.email = move.old_email
    if move.saleor_user_id:
        mine.saleor_user_id = move.saleor_user_id
    mine.held_for = theirs.held_for = None
    return mine, theirs


async def release_waiting(
    session: AsyncSession, installation_id: int, move: EmailMove, lists: list[str]
) -> None:
    """The old address's contact left it in `lists`: the other customers' contacts waiting
    for it there (`wait_for`) move now."""
    if not lists:
        return
    waiting = await session.scalars(
        select(ContactState).where(
            ContactState.installation_id == installation_id,
            ContactState.held_for == move.old_email,
            ContactState.list_id.in_(lists),
            ContactState.saleor_user_id.is_not(None),
        )
    )
    moves: dict[tuple[str, str], list[str]] = {}
    for row in waiting:
        if row.saleor_user_id and row.saleor_user_id != move.saleor_user_id:
            moves.setdefault((row.email, row.saleor_user_id), []).append(row.list_id)
    for (email, user_id), list_ids in sorted(moves.items()):
        follow = EmailMove(
            old_email=email,
            new_email=move.old_email,
            saleor_user_id=user_id,
            list_ids=sorted(list_ids),
        )
        await enqueue_email_move(session, installation_id, follow)
