"""A withdrawal (a leaving, a consent withdrawn) that found no member where the app holds the
contact's: the contact may have changed their address on Mailchimp's own profile page, and
Mailchimp's `upemail` not be in yet (it retries a delivery "at increasing intervals over the
course of 75 minutes", its guide "Synchronize Audience Data with Webhooks"). Sent nowhere, the
withdrawal would be lost at the new address: the person there still subscribed, or consenting.

* The store side shows it at once: the app's record of the contact (the account page, the
  customer panel) and Saleor's metadata (`writeback`) say it, and the contact notes the wait.
* Mailchimp's side waits, owed: the change is kept as a job of the change's own kind
  (`APPLY_JOB`, marked `awaiting_move`), created before any later switch of account, so it
  stays under the account-switch guard of owed withdrawals (`owed_withdrawals`): counted when
  another account is connected, then ended not done, never sent to that one. Its lane is of
  its own (`owed_lane`): the contact's lane is not held behind it. An address erased since
  drops it.
* It is made due when the `upemail` of the address is handled (`move_landed`), and then made
  where the member moved (`follow.followed` routes it), less what the shopper chose again in
  the store since (`_later_choice`): a consent given back stays given, and a sign-up after a
  leaving ends it. The newer choice stands.
* With no word of a move by `MOVE_WAIT` after it was asked, it is sent to the address all the
  same, and ends saying Mailchimp never told where the contact went (`member_write`).

Mailchimp's member `contact_id` (which the member endpoints accept in place of the address's
hash, per the API's OpenAPI description) was not used to find the member at once: no published
word says it survives an address change.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.types import utcnow
from addon.jobs.models import Job, JobStatus
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob, RetryLater
from addon.jobs.wakeup import work_due
from addon.mailchimp import subscriber_hash
from addon.privacy.erased import erased_among
from addon.services import Services
from addon.subscriptions.models import ContactState
from addon.subscriptions.owed_withdrawals import withdraws
from addon.subscriptions.repository import ContactRepository
from addon.subscriptions.schemas import Action, ContactChange, Source
from addon.subscriptions.service import APPLY_JOB
from addon.subscriptions.writeback import contact_lane, enqueue_status_write

logger = logging.getLogger(__name__)

# Mailchimp's 75 minutes of retries of the `upemail`, and some slack.
MOVE_WAIT = timedelta(minutes=80)
# Statuses of a contact whose member may have moved: Mailchimp changes the address of a
# subscribed member only ('You can only update email addresses for members with a status of
# "subscribed."', quoted in ibericode/mailchimp-user-sync#96); pending, as the app last knew
# it, may have been confirmed since.
_HELD = ("subscribed", "pending")


def awaiting_note(change: ContactChange) -> str:
    """What the contact says while its withdrawal waits."""
    until = change.requested_at + MOVE_WAIT
    return (
        "Mailchimp holds no contact at this address any more: its address was likely changed "
        "in Mailchimp, which has not told the app yet. The shopper's withdrawal (shown here "
        "already) is sent where the contact moved once Mailchimp tells, or to this address at "
        f"{until:%H:%M} UTC at the latest."
    )


def owed_lane(list_id: str, email: str) -> str:
    """The lane of the withdrawals waiting for the move of `email`'s member in `list_id`."""
    return f"awaiting_move:{list_id}:{subscriber_hash(email)}"


def awaits_move(change: ContactChange, state: ContactState | None) -> bool:
    """Whether the change, finding no member at its address, waits for Mailchimp's word of a
    move: a withdrawal of a customer's contact the app holds a member for, not sent after its
    wait already."""
    held = set(state.enabled_permissions) if state is not None else set()
    return (
        not change.move_waited
        and change.saleor_user_id is not None  # (`follow.followed` finds a moved one by it)
        and state is not None
        and state.status in _HELD
        and withdraws(change, held)
    )


def show_withdrawal(state: ContactState, change: ContactChange) -> None:
    """The withdrawal on the app's record of the contact, before Mailchimp has it."""
    if change.action is Action.UNSUBSCRIBE and state.status in ("subscribed", "pending"):
        state.status = "unsubscribed"
        state.withdrawn_at = change.requested_at  # when asked (`conflicts.left_since`)
    if change.permissions_exact:
        granted = set(change.permission_ids)
        state.marketing_permissions = [
            {**p, "enabled": bool(p.get("enabled")) and str(p["id"]) in granted}
            for p in state.marketing_permissions or []
        ]


async def await_move(
    session: AsyncSession, installation_id: int, change: ContactChange, state: ContactState
) -> None:
    """Owe the withdrawal until the member's move is known (see the module)."""
    show_withdrawal(state, change)
    state.last_problem = awaiting_note(change)
    owed = change.model_copy(update={"awaiting_move": True})
    await JobRepository(session).enqueue(
        installation_id,
        APPLY_JOB,
        owed.model_dump(mode="json"),
        lane=owed_lane(change.list_id, change.email),
        run_after=change.requested_at + MOVE_WAIT,
    )
    await enqueue_status_write(session, installation_id, change.email)


async def move_landed(
    session: AsyncSession, installation_id: int, list_id: str, old_email: str, state: ContactState
) -> None:
    """Mailchimp's `upemail` of the member at `old_email` is applied (`state` now at its new
    address): the withdrawals owed there are made due now, and the record, just read from the
    member, still shows them (Mailchimp has them not yet)."""
    owed = (
        select(Job.id, Job.payload)
        .where(
            Job.installation_id == installation_id,
            Job.lane == owed_lane(list_id, old_email),
            Job.kind == APPLY_JOB,
            Job.status == JobStatus.PENDING,
        )
        .order_by(Job.id)
    )
    ids = []
    for job_id, payload in await session.execute(owed):
        show_withdrawal(state, ContactChange.model_validate(payload))
        ids.append(job_id)
    if ids:
        await session.execute(
            update(Job)
            .where(Job.id.in_(ids), Job.status == JobStatus.PENDING)
            .values(run_after=utcnow())
        )
        await work_due(session)


async def resume_owed(services: Services, job: ClaimedJob, change: ContactChange) -> None:
    """The owed withdrawal is due (its guard passed in `apply`): sent in the contact's lane
    (routed where the member moved), unless superseded; still waiting if made due early (a
    reconnection runs owed work at once) with no move known."""
    installation_id = job.installation_id
    async with services.db.session() as session:
        contacts = ContactRepository(session)
        state = await contacts.get(installation_id, change.list_id, change.email)
        user_id = change.saleor_user_id
        moved = (
            await contacts.of_user(installation_id, change.list_id, user_id)
            if state is None and user_id
            else None
        )
        lanes = [contact_lane(change.email)] + ([contact_lane(moved.email)] if moved else [])
        chosen = await _later_choice(session, installation_id, change, lanes)
        # Erased since (`addon.privacy`): nothing of the address is kept, nor made again here.
        erased = await erased_among(session, installation_id, [change.email])
    if erased:
        return
    if chosen is None:
        logger.info("A leaving waiting for a move in Mailchimp was superseded by a sign-up")
        return
    left = change.requested_at + MOVE_WAIT - utcnow()
    if moved is None and left > timedelta(0):
        raise RetryLater("Waits for Mailchimp's word of the contact's move", left.total_seconds())
    waited = change.model_copy(
        update={"awaiting_move": False, "move_waited": True, "permission_ids": chosen}
    )
    async with services.db.transaction() as session:
        await JobRepository(session).enqueue(
            installation_id,
            APPLY_JOB,
            waited.model_dump(mode="json"),
            lane=contact_lane(change.email),
        )


async def _later_choice(
    session: AsyncSession, installation_id: int, change: ContactChange, lanes: list[str]
) -> list[str] | None:
    """The withdrawal's consents less what the shopper chose again in the store since (the
    `permission_ids` to send: their newest whole choice of consents, or those given back
    added), or None when they signed up again after leaving. That newer choice stands (it is
    sent itself). Staff's changes give no consent, and a change made in Mailchimp is dated only by
    its receipt, maybe 75 minutes late: neither counts."""
    kept = set(change.permission_ids)
    payloads = await session.scalars(
        select(Job.payload).where(
            Job.installation_id == installation_id,
            Job.lane.in_(lanes),
            Job.kind == APPLY_JOB,
        )
    )
    later = sorted(
        (c for c in map(ContactChange.model_validate, payloads) if _theirs_since(c, change)),
        key=lambda c: c.requested_at,
    )
    for choice in later:
        signed_up = choice.action is Action.SUBSCRIBE and choice.fresh_consent
        if signed_up and change.action is Action.UNSUBSCRIBE:
            return None
        if choice.permissions_exact:
            kept = set(choice.permission_ids)  # their whole choice, newer
        elif choice.action is Action.SUBSCRIBE:
            kept |= set(choice.permission_ids)
    return sorted(kept)


def _theirs_since(later: ContactChange, change: ContactChange) -> bool:
    """A change the shopper asked of the same contact after `change`."""
    return (
        later.list_id == change.list_id
        and later.requested_at > change.requested_at
        and later.address_proven
        and later.source is not Source.ADMIN
    )
