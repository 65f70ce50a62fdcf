"""What the app does again about Mailchimp's refusals of an address "for now" (it "has signed
up to a lot of lists very recently": Mailchimp's guard against signup abuse), as a customer
would expect of a refusal that says "for now":

* a contact held at its old address (Mailchimp refused the customer's new one) is moved again;
* a subscription (checkout, registration, account page, panel) is asked again.

Mailchimp does not say how long its guard lasts: each is tried again after
`FOR_NOW_RETRY_HOURS`, up to `RETRIES` times; then only the customer's next change (of address,
or of their subscription) tries again. The wait is a job of its own, outside the contact's lane:
a job waiting in the lane would hold the contact's other changes (an unsubscribe) back for
hours. When it is due it queues the move or the change in the lane, unless what it is for has
ended meanwhile (the hold was released; the address is a contact now, or a newer change was
asked).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.jobs.registry import HandlerRegistry
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob
from addon.mailchimp import subscriber_hash
from addon.services import Services
from addon.subscriptions.email_move import EmailMove, enqueue_email_move
from addon.subscriptions.models import MEMBER_STATUSES, ContactState
from addon.subscriptions.repository import ContactRepository
from addon.subscriptions.schemas import Action, ContactChange
from addon.subscriptions.service import APPLY_JOB
from addon.subscriptions.writeback import contact_lane

logger = logging.getLogger(__name__)

HELD_RETRY_JOB = "subscriptions.held_move_retry"
SIGNUP_RETRY_JOB = "subscriptions.signup_retry"
RETRIES = 3


def retry_note(move: EmailMove, hours: float) -> str:
    """What Activity adds to a refusal "for now": when the move is tried again, if it is."""
    if move.attempt >= RETRIES:
        return (
            f" The app tried the move again {RETRIES} times; the customer's next change of "
            "address tries again."
        )
    return (
        f" The app tries the move again in {hours:g} hours (and at the customer's next change "
        "of address)."
    )


async def enqueue_held_retry(
    session: AsyncSession, installation_id: int, move: EmailMove, list_ids: list[str], hours: float
) -> int | None:
    """Queue the next try of a move refused "for now" in `list_ids`, unless it had its tries."""
    if not list_ids or move.attempt >= RETRIES:
        return None
    # The move itself is the retry's payload: these audiences, its `attempt` this retry's number.
    retry = move.model_copy(update={"list_ids": sorted(list_ids), "attempt": move.attempt + 1})
    old, new = subscriber_hash(move.old_email), subscriber_hash(move.new_email)
    return await _later(session, installation_id, HELD_RETRY_JOB, retry, f"{old}:{new}", hours)


async def _later(
    session: AsyncSession,
    installation_id: int,
    kind: str,
    retry: BaseModel,
    key: str,
    hours: float,
) -> int | None:
    """The retry's wait: no lane (see the module docstring), one per what it is for."""
    jobs = JobRepository(session)
    return await jobs.enqueue(
        installation_id,
        kind,
        retry.model_dump(mode="json"),
        coalesce_key=f"{kind}:{key}",
        run_after=jobs.clock.now() + timedelta(hours=hours),
    )


async def handle_held_retry(job: ClaimedJob, retry: EmailMove, services: Services) -> None:
    async with services.db.transaction() as session:
        held = await session.scalars(
            select(ContactState.list_id).where(
                ContactState.installation_id == job.installation_id,
                ContactState.email == retry.old_email,
                ContactState.held_for == retry.new_email,
                ContactState.list_id.in_(retry.list_ids or []),
            )
        )
        list_ids = sorted(set(held))
        if not list_ids:
            return  # released meanwhile: moved by a later change, or the address joined
        logger.info("Held contact: the move refused for now is tried again (%s)", retry.attempt)
        move = retry.model_copy(update={"list_ids": list_ids})
        await enqueue_email_move(session, job.installation_id, move)


class SignupRetry(BaseModel):
    """Ask this change (a subscription, its `attempt` counting this retry) again."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    change: ContactChange


def signup_note(change: ContactChange, hours: float) -> str:
    """What the contact says of a subscription refused "for now": when it is asked again."""
    if change.attempt >= RETRIES:
        return f"The app asked again {RETRIES} times; the shopper's next change tries again."
    return f"The app asks again in {hours:g} hours."


async def enqueue_signup_retry(
    session: AsyncSession, installation_id: int, change: ContactChange, hours: float
) -> int | None:
    """Queue the next try of a subscription refused "for now", unless it had its tries."""
    if change.action is not Action.SUBSCRIBE or change.attempt >= RETRIES:
        return None
    retry = SignupRetry(change=change.model_copy(update={"attempt": change.attempt + 1}))
    key = f"{change.list_id}:{subscriber_hash(change.email)}"
    return await _later(session, installation_id, SIGNUP_RETRY_JOB, retry, key, hours)


async def handle_signup_retry(job: ClaimedJob, retry: SignupRetry, services: Services) -> None:
    change = retry.change
    async with services.db.transaction() as session:
        state = await ContactRepository(session).get(
            job.installation_id, change.list_id, change.email
        )
        if state is None or state.status in MEMBER_STATUSES:
            return  # a contact now (the newsletter form, say), or forgotten (an erasure)
        if state.store_changed_at is not None and state.store_changed_at > change.requested_at:
            return  # a newer change was asked: its outcome stands
        if state.withdrawn_at is not None and state.withdrawn_at > change.requested_at:
            return  # the shopper said no since (an unsubscribe with no member to apply to)
        logger.info("A subscription refused for now is asked again (%s)", change.attempt)
        await JobRepository(session).enqueue(
            job.installation_id,
            APPLY_JOB,
            change.model_dump(mode="json"),
            lane=contact_lane(change.email),
        )


def register(registry: HandlerRegistry[Services]) -> None:
    registry.register(HELD_RETRY_JOB, handle_held_retry, payload=EmailMove)
    registry.register(SIGNUP_RETRY_JOB, handle_signup_retry, payload=SignupRetry)
