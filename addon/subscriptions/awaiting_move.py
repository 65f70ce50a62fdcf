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
  its own (`owed_lane`): the contact's lane is not held behind it. An address erased since it
  was asked drops it (the erasure itself drops it when pending; one erased before is the
  shopper's to use again, `mailchimp_hooks`).
* While one is owed, each later change of the shopper's (`awaits_move`) waits with it, in
  order, whatever the record shows already: a withdrawal would find no member either, and the
  record showing the first leaving must not make it look done; a sign-up made at once would
  make a second member at the address left. A sign-up is not shown before Mailchimp has it:
  the contact's note says it waits (`awaiting_note`). Whether a change waits as a withdrawal
  or as a sign-up is kept with it (`ContactChange.owed_withdrawal`): the account page's save
  that stays subscribed, a consent unticked, has the shopper's fresh consent too.
* They are made due when the `upemail` of the address is handled (`move_landed`), and then
  made where the member moved (`follow.followed` routes them), each less what the shopper
  chose again in the store since (`_later_choice`): a consent given back stays given, a
  sign-up after a leaving ends it but for the consents it withdrew (sent withdrawn, the
  groups as the sign-up leaves them), and a newer whole choice of consents is sent whole.
  The newer choice stands; it is asked again where the change lands, right before it is sent
  (`still_owed`): a sign-up asked just after the move's word goes to the new address at once.
* With no word of a move by `MOVE_WAIT` after the first of them found no member, they are
  sent to the address all the same: a withdrawal ends saying Mailchimp never told where the
  contact went (`member_write`), a sign-up is made there (the contact still saying the
  withdrawal before it reached no one, `apply`).

Mailchimp's member `contact_id` (which the member endpoints accept in place of the address's
hash, per the API's OpenAPI description) was not used to find the member at once: no published
word says it survives an address change.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

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
# How often a change made due early (a reconnection runs owed work at once) looks for the move.
MOVE_LOOK_AGAIN = timedelta(minutes=5)
# Statuses of a contact whose member may have moved: Mailchimp changes the address of a
# subscribed member only ('You can only update email addresses for members with a status of
# "subscribed."', quoted in ibericode/mailchimp-user-sync#96); pending, as the app last knew
# it, may have been confirmed since.
_HELD = ("subscribed", "pending")


def _since(change: ContactChange) -> datetime:
    """From when the owed change waits: when it found no member (Mailchimp's retries of the
    `upemail` run from the move, before that), or, owed before that was kept, when asked."""
    return change.awaiting_since or change.requested_at


def signs_up(change: ContactChange) -> bool:
    """Whether the owed change waits as the shopper's sign-up (made at the address left when
    no move is told), not as a withdrawal (`ContactChange.owed_withdrawal`; one owed by a
    release before that was kept is a withdrawal: only those were owed then)."""
    return change.fresh_consent and change.owed_withdrawal is False


def awaiting_note(change: ContactChange) -> str:
    """What the contact says while its change waits: a withdrawal is shown already, a sign-up
    only once Mailchimp has it (the record says what Mailchimp holds or is owed)."""
    until = _since(change) + MOVE_WAIT
    gone = (
        "Mailchimp holds no contact at this address any more: its address was likely changed "
        "in Mailchimp, which has not told the app yet."
    )
    if signs_up(change):
        return (
            f"{gone} The shopper signed up at {change.requested_at:%H:%M} UTC: the sign-up is "
            "sent where the contact moved once Mailchimp tells, or to this address at "
            f"{until:%H:%M} UTC at the latest, and shown here once Mailchimp has it."
        )
    return (
        f"{gone} The shopper's withdrawal (shown here already) is sent where the contact moved "
        f"once Mailchimp tells, or to this address at {until:%H:%M} UTC at the latest."
    )


def owed_lane(list_id: str, email: str) -> str:
    """The lane of the withdrawals waiting for the move of `email`'s member in `list_id`."""
    return f"awaiting_move:{list_id}:{subscriber_hash(email)}"


async def awaits_move(
    services: Services, installation_id: int, change: ContactChange, state: ContactState | None
) -> bool:
    """Whether the change, finding no member at its address, waits for Mailchimp's word of a
    move: a withdrawal of a customer's contact the app holds a member for, or any change of the
    shopper's asked while one is owed already, a sign-up too (made at once, it would make a
    second member at the address left, and end the withdrawal, `_later_choice`), not sent
    after its wait already. Staff's, and an unproven hand's, are not the shopper's. Asked only
    once no member is found (`write_member`): the owed lane is not read for every change."""
    if change.move_waited or change.saleor_user_id is None or state is None:
        return False  # (`follow.followed` finds a moved one by the user)
    if state.status in _HELD and withdraws(change, set(state.enabled_permissions)):
        return True
    if change.source is Source.ADMIN or not change.address_proven:
        return False
    async with services.db.session() as session:
        return await _owed_since(session, installation_id, change) is not None


async def _owed_since(
    session: AsyncSession, installation_id: int, change: ContactChange
) -> datetime | None:
    """From when the first change owed for the move of the change's member waits, if any."""
    payloads = await session.scalars(
        select(Job.payload).where(
            Job.installation_id == installation_id,
            Job.lane == owed_lane(change.list_id, change.email),
            Job.kind == APPLY_JOB,
            Job.status.in_((JobStatus.PENDING, JobStatus.RUNNING)),
        )
    )
    return min((_since(ContactChange.model_validate(p)) for p in payloads), default=None)


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
    """Owe the change until the member's move is known (see the module). One asked while
    another is owed waits no longer than that one: Mailchimp's word of the move comes within
    its retries from the move, which the first change found already made."""
    first = await _owed_since(session, installation_id, change)
    since = utcnow() if first is None else min(first, utcnow())
    # (asked of the record before it shows this change: then it withdraws nothing)
    withdrawal = withdraws(change, set(state.enabled_permissions))
    waiting = change.model_copy(
        update={"awaiting_move": True, "awaiting_since": since, "owed_withdrawal": withdrawal}
    )
    show_withdrawal(state, waiting)
    state.last_problem = awaiting_note(waiting)
    await JobRepository(session).enqueue(
        installation_id,
        APPLY_JOB,
        waiting.model_dump(mode="json"),
        lane=owed_lane(change.list_id, change.email),
        run_after=_since(waiting) + MOVE_WAIT,
    )
    await enqueue_status_write(session, installation_id, change.email)


async def move_landed(
    session: AsyncSession, installation_id: int, list_id: str, old_email: str, state: ContactState
) -> None:
    """Mailchimp's `upemail` of the member at `old_email` is applied (`state` now at its new
    address): the withdrawals owed there are made due now, and the record, just read from the
    member, still shows them (Mailchimp has them not yet)."""
    waiting = (
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
    for job_id, payload in await session.execute(waiting):
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
        lanes = [contact_lane(change.email), owed_lane(change.list_id, change.email)]
        if moved is not None:
            lanes.append(contact_lane(moved.email))
        waited = await _later_choice(session, installation_id, change, lanes)
        # Erased since it was asked (`addon.privacy`): nothing of the address is kept, nor
        # made again here. One erased before is the shopper's to use again (`mailchimp_hooks`).
        erased = await erased_among(session, installation_id, [change.email])
    erased_at = erased.get(subscriber_hash(change.email))
    if erased_at is not None and erased_at >= change.requested_at:
        return
    if waited is None:
        logger.info("A leaving waiting for a move in Mailchimp was superseded by a sign-up")
        return
    left = _since(change) + MOVE_WAIT - utcnow()
    if moved is None and left > timedelta(0):
        # Looked at again now and then, not only at the deadline: a move landing while this
        # ran (its `move_landed` makes only waiting jobs due) is then followed soon.
        again = min(left, MOVE_LOOK_AGAIN).total_seconds()
        raise RetryLater("Waits for Mailchimp's word of the contact's move", again)
    waited = waited.model_copy(update={"awaiting_move": False, "move_waited": True})
    async with services.db.transaction() as session:
        await JobRepository(session).enqueue(
            installation_id,
            APPLY_JOB,
            waited.model_dump(mode="json"),
            lane=contact_lane(change.email),
        )


async def still_owed(
    session: AsyncSession, installation_id: int, change: ContactChange
) -> ContactChange | None:
    """The withdrawal sent on from its wait (`move_waited`), asked again right before it is
    sent, in the lane where it landed (`_later_choice`): a choice of the shopper's made there
    since `resume_owed` asked (a sign-up just after the move's word, sent straight to the new
    address) is newer, and stands."""
    # (its address, and the one it was followed from: `follow.followed`)
    addresses = {change.email, change.held_for or change.email}
    lanes = [contact_lane(a) for a in addresses]
    lanes += [owed_lane(change.list_id, a) for a in addresses]
    return await _later_choice(session, installation_id, change, lanes)


async def _later_choice(
    session: AsyncSession, installation_id: int, change: ContactChange, lanes: list[str]
) -> ContactChange | None:
    """The owed change less what the shopper chose again in the store since: its consents
    (`permission_ids`) their newest whole choice (then sent whole: `permissions_exact`), or
    those given back added. A leaving followed by a sign-up is over, but for the consents it
    withdrew that no later choice gives back (None when there are none: it withdrew none, or a
    later whole choice says them). The newer choices stand: each is sent itself, after this
    (one owed too, `awaits_move`, in the owed lane, in order). Staff's changes give no
    consent, and a change made in Mailchimp is dated only by its receipt, maybe 75 minutes
    late: neither counts."""
    kept = set(change.permission_ids)
    exact = change.permissions_exact
    leaving = change.action is Action.UNSUBSCRIBE
    chosen_whole = False  # a later whole choice of consents (sent itself)
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
        if choice.action is Action.SUBSCRIBE and choice.fresh_consent:
            leaving = False  # signed up again
        if choice.permissions_exact:
            kept, exact, chosen_whole = set(choice.permission_ids), True, True  # newer
        elif choice.action is Action.SUBSCRIBE:
            kept |= set(choice.permission_ids)
    chosen = {"permission_ids": sorted(kept), "permissions_exact": exact}
    if leaving or change.action is not Action.UNSUBSCRIBE:
        return change.model_copy(update=chosen)
    if not change.permissions_exact or chosen_whole:
        return None  # all it still asks, the later choices (each sent itself, in order) say
    # Signed up again, but not giving back each consent the leaving withdrew: those stay
    # withdrawn, as a save of the account page's staying does (`storefront._withdraw`; without
    # fresh consent, only withdrawals are sent: `member_write`). The leaving's choice of groups
    # is not the sign-up's: they stay as it leaves them, as with no wait (a leaving sets none).
    rest = {"action": Action.SUBSCRIBE, "fresh_consent": False}
    return change.model_copy(update={**chosen, **rest, "interest_ids": None, "offered_ids": None})


def _theirs_since(later: ContactChange, change: ContactChange) -> bool:
    """A change the shopper asked of the same contact after `change`."""
    return (
        later.list_id == change.list_id
        and later.requested_at > change.requested_at
        and later.address_proven
        and later.source is not Source.ADMIN
    )
