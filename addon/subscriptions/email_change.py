"""A Saleor customer's new e-mail address: their audience contacts move to it (the job).

The move is queued by the webhook that finds the addresses the customer had (`email_changed.py`)
and by the e-commerce push when Mailchimp refuses the customer's new address
(`addon.ecommerce.email_change`), naming the address Mailchimp held.

The move itself, audience by audience, is `member_move.py`; a new address whose contact is
another customer's, who left it, is never merged into (`email_exchange.py`). Where Mailchimp
refuses the new address, the contact stays at the old one, held for the new one
(`ContactState.held_for`): the panel and the account page show it for the customer's address,
their changes reach it, and the customer's next address change moves it.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.audiences.repository import AudienceRepository
from addon.connection.service import NotConnected, mailchimp_for
from addon.db.types import utcnow
from addon.jobs.registry import HandlerRegistry
from addon.jobs.schemas import ClaimedJob
from addon.mailchimp import Member
from addon.services import Services
from addon.subscriptions import for_now
from addon.subscriptions.email_change_notes import (
    MERGED_NOTE,
    NOT_READ_NOTE,
    REFUSED_NOTE,
    record_note,
)
from addon.subscriptions.email_changed import WEBHOOK_SLUG, EmailChangedEvent, on_customer_changed
from addon.subscriptions.email_exchange import exchange_rows, occupied, release_waiting, wait_for
from addon.subscriptions.email_move import EMAIL_CHANGE_JOB, EmailMove
from addon.subscriptions.for_now import enqueue_held_retry, retry_note
from addon.subscriptions.member_exchange import exchange_member
from addon.subscriptions.member_move import Moved, move_member
from addon.subscriptions.models import MEMBER_STATUSES, ContactState
from addon.subscriptions.profile_sync import release_held_back
from addon.subscriptions.writeback import enqueue_status_write

logger = logging.getLogger(__name__)


# The record of an address that is no contact of the audience (what tags the app set from the
# customer's data included: there are none there).
NONE: dict[str, object] = {
    "status": "none",
    "interests": [],
    "tags": [],
    "data_tags": [],
    "marketing_permissions": [],
}


def _state_of(member: Member, texts: dict[str, str]) -> dict[str, object]:
    return {
        "status": member.status,
        "interests": sorted(k for k, v in member.interests.items() if v),
        "tags": sorted(t.name for t in member.tags),
        "marketing_permissions": [
            {
                "id": p.marketing_permission_id,
                "text": p.text or texts.get(p.marketing_permission_id, ""),
                "enabled": p.enabled,
            }
            for p in member.marketing_permissions
        ],
    }


async def handle_move(job: ClaimedJob, move: EmailMove, services: Services) -> None:
    installation_id = job.installation_id
    async with services.db.session() as session:
        audiences = [
            a
            for a in await AudienceRepository(session).audiences(installation_id)
            if a.removed_at is None and (move.list_ids is None or a.list_id in move.list_ids)
        ]
        elsewhere = await _contact_elsewhere(session, installation_id, move)
    taken = await occupied(services, installation_id, move)  # another customer's (their move)
    # Where nothing of the customer's moves, the records stay as they are too.
    skipped = elsewhere | {a.list_id for a in audiences if a.list_id in taken}
    results: dict[str, Moved] = {}
    try:
        async with mailchimp_for(services, installation_id) as client:
            for audience in audiences:
                list_id, name = audience.list_id, audience.name
                if list_id in elsewhere:
                    continue
                if list_id in taken.exchange:
                    moved = await exchange_member(
                        client, list_id, name, move.old_email, move.new_email
                    )
                elif list_id in taken.waits:
                    moved = await wait_for(client, list_id, name, move, taken.waits[list_id])
                else:
                    moved = await move_member(client, list_id, name, move.old_email, move.new_email)
                if moved is not None:
                    results[list_id] = moved
                    skipped.discard(list_id)
    except NotConnected:
        results = {}  # Mailchimp is not connected: the app's own records still follow
    hours = services.settings.for_now_retry_hours
    for refused in results.values():
        if refused.for_now and refused.note:
            refused.note += retry_note(move, hours)  # the contact and Activity say when
    texts = {
        a.list_id: {str(p["id"]): str(p["text"]) for p in a.marketing_permissions}
        for a in audiences
    }
    now = utcnow()
    async with services.db.transaction() as session:
        # Locked (PostgreSQL): a move of the two addresses the other way, in the other one's
        # lane, may be writing them now (an exchange). Read once it commits, the rows say
        # whose each contact is, and one already another customer's is left alone below.
        rows = await session.scalars(
            select(ContactState)
            .where(
                ContactState.installation_id == installation_id,
                ContactState.email.in_([move.old_email, move.new_email]),
            )
            .with_for_update()
        )
        by_list: dict[str, dict[str, ContactState]] = {}
        for found in rows:
            if move.list_ids is None or found.list_id in move.list_ids:
                by_list.setdefault(found.list_id, {})[found.email] = found
        touched = {k for k, v in results.items() if v.member or v.held}
        for list_id in (set(by_list) | touched) - skipped:
            pair = by_list.get(list_id, {})
            old_row, new_row = pair.get(move.old_email), pair.get(move.new_email)
            moved = results.get(list_id)
            lists_texts = texts.get(list_id, {})
            owner = old_row.saleor_user_id if old_row is not None else None
            if move.saleor_user_id and owner not in (None, move.saleor_user_id):
                continue  # another customer's now (their move, or an exchange, meanwhile)
            if moved is not None and moved.refused:
                _hold(session, installation_id, list_id, move, old_row, moved, texts)
                continue
            if moved is not None and moved.exchanged is not None:
                mine, theirs = await exchange_rows(
                    session, installation_id, list_id, move, old_row, new_row
                )
                await _synced(session, theirs, moved.exchanged, lists_texts, now)
                await _synced(session, mine, moved.member, lists_texts, now)
                continue
            row = await _follow(session, installation_id, list_id, move, old_row, new_row)
            if moved is not None and moved.merged:
                # The new address's own values stayed: what the app last sent is no longer
                # what the contact holds, so the customer's next update sends theirs.
                row.profile_digest = None
            if moved is not None and (moved.member is not None or moved.absent):
                await _synced(session, row, moved.member, lists_texts, now)
        later = [list_id for list_id, moved in results.items() if moved.for_now]
        await enqueue_held_retry(session, installation_id, move, later, hours)
        for moved in results.values():
            if moved.note:
                kind = REFUSED_NOTE if moved.refused and not moved.waits else MERGED_NOTE
                await record_note(session, installation_id, move, moved.note, kind)
        # Not while a contact of another customer's waits to leave the new address: the
        # write-back would take it for the customer's (who has the address in Saleor). The
        # move queued again once it left writes it.
        if not taken.waits:
            await enqueue_status_write(
                session, installation_id, move.new_email, lookup_email=move.old_email
            )
        if any(moved.exchanged is not None for moved in results.values()):
            await enqueue_status_write(session, installation_id, move.old_email)
        left = [list_id for list_id, moved in results.items() if not moved.refused]
        await release_waiting(session, installation_id, move, left)


async def _synced(
    session: AsyncSession,
    row: ContactState,
    member: Member | None,
    texts: dict[str, str],
    now: datetime,
) -> None:
    """The record says what Mailchimp holds now (`member`; None: no contact)."""
    for key, value in (_state_of(member, texts) if member else NONE).items():
        setattr(row, key, value)
    row.synced_at = now
    row.last_problem = None
    await release_held_back(session, row)  # held while Mailchimp's side waited


async def _follow(
    session: AsyncSession,
    installation_id: int,
    list_id: str,
    move: EmailMove,
    old_row: ContactState | None,
    new_row: ContactState | None,
) -> ContactState:
    """The audience's record of the contact, now at the new address and the customer's: the
    old address's record renamed, or merged into one at the new address (as Mailchimp merges
    the members), or a new one."""
    row = new_row or old_row
    if row is None:
        row = ContactState(installation_id=installation_id, list_id=list_id, email=move.new_email)
        session.add(row)
    if old_row is not None and new_row is not None:
        row.saleor_user_id = new_row.saleor_user_id or old_row.saleor_user_id
        row.profile_held_back = new_row.profile_held_back or old_row.profile_held_back
        await session.delete(old_row)
        await session.flush()
    row.email = move.new_email
    if move.saleor_user_id:
        row.saleor_user_id = move.saleor_user_id
    row.held_for = None
    return row


async def _contact_elsewhere(
    session: AsyncSession, installation_id: int, move: EmailMove
) -> set[str]:
    """The audiences not to move in: where the customer's contact is at a third address and
    the app knows no contact at the old one, a member Mailchimp still keeps there (unsubscribed,
    say, after an earlier move) is not theirs to move (it would win the merge at the new
    address); where the old address's contact is another customer's, it is theirs. (A contact
    already at the new address does not count: the same move asked twice, by the webhook and
    the e-commerce push, runs again there and brings the app's record in line.)"""
    if not move.saleor_user_id:
        return set()
    rows = await session.execute(
        select(
            ContactState.list_id,
            ContactState.email,
            ContactState.saleor_user_id,
            ContactState.status,
        ).where(
            ContactState.installation_id == installation_id,
            or_(
                ContactState.saleor_user_id == move.saleor_user_id,
                ContactState.email == move.old_email,
            ),
        )
    )
    theirs: set[str] = set()
    at_old: set[str] = set()
    someone_elses: set[str] = set()
    for list_id, email, user_id, status in rows.all():
        if email == move.old_email:
            at_old.add(list_id)
            if user_id is not None and user_id != move.saleor_user_id:
                someone_elses.add(list_id)  # the old address is another customer's now
        elif (
            email != move.new_email and user_id == move.saleor_user_id and status in MEMBER_STATUSES
        ):
            theirs.add(list_id)  # (an archived contact is no one's now)
    return (theirs - at_old) | someone_elses


def _hold(
    session: AsyncSession,
    installation_id: int,
    list_id: str,
    move: EmailMove,
    row: ContactState | None,
    moved: Moved,
    texts: dict[str, dict[str, str]],
) -> None:
    """The contact stays at the old address, held for the new one, and says why."""
    if row is None:
        row = ContactState(installation_id=installation_id, list_id=list_id, email=move.old_email)
        session.add(row)
        if moved.held is not None:
            for key, value in _state_of(moved.held, texts.get(list_id, {})).items():
                setattr(row, key, value)
    if move.saleor_user_id:
        row.saleor_user_id = move.saleor_user_id
    row.held_for = move.new_email
    row.last_problem = moved.note


def register(registry: HandlerRegistry[Services]) -> None:
    from addon.installations.webhook_kinds import webhook_job_kind

    registry.register(
        webhook_job_kind(WEBHOOK_SLUG), on_customer_changed, payload=EmailChangedEvent
    )
    registry.register(EMAIL_CHANGE_JOB, handle_move, payload=EmailMove)
    for_now.register(registry)


__all__ = ["EMAIL_CHANGE_JOB", "MERGED_NOTE", "NOT_READ_NOTE", "REFUSED_NOTE", "register"]
