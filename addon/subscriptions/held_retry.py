"""A contact held at its old address because Mailchimp refused the new one "for now" (the
address "has signed up to a lot of lists very recently": its guard against signup abuse) is
moved again later, as a customer would expect of a refusal that says "for now".

Mailchimp does not say how long its guard lasts: the move is tried again after
`HELD_MOVE_RETRY_HOURS`, up to `RETRIES` times, then only the customer's next change of address
(or the address becoming a contact) moves it. The wait is a job of its own, outside the
contact's lane: a job waiting in the lane would hold the contact's other changes (an
unsubscribe) back for hours. When it is due it queues the move in the lane, in the audiences
where the contact is still held for that address (none: the hold ended meanwhile).
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
from addon.subscriptions.models import ContactState

logger = logging.getLogger(__name__)

HELD_RETRY_JOB = "subscriptions.held_move_retry"
RETRIES = 3


class HeldRetry(BaseModel):
    """Move the contact held at `old_email` for `new_email` again, in these audiences."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    old_email: str
    new_email: str
    saleor_user_id: str | None = None
    list_ids: list[str]
    attempt: int  # this retry's number, from 1


def retry_note(move: EmailMove, hours: float) -> str:
    """What Activity adds to a refusal "for now": when the move is tried again, if it is."""
    if move.attempt >= RETRIES:
        return (
            f" The app tried the move {RETRIES} times; the customer's next change of address "
            "tries again."
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
    retry = HeldRetry(
        old_email=move.old_email,
        new_email=move.new_email,
        saleor_user_id=move.saleor_user_id,
        list_ids=sorted(list_ids),
        attempt=move.attempt + 1,
    )
    jobs = JobRepository(session)
    old, new = subscriber_hash(move.old_email), subscriber_hash(move.new_email)
    return await jobs.enqueue(
        installation_id,
        HELD_RETRY_JOB,
        retry.model_dump(mode="json"),
        coalesce_key=f"{HELD_RETRY_JOB}:{old}:{new}",
        run_after=jobs.clock.now() + timedelta(hours=hours),
    )


async def handle_held_retry(job: ClaimedJob, retry: HeldRetry, services: Services) -> None:
    async with services.db.transaction() as session:
        held = await session.scalars(
            select(ContactState.list_id).where(
                ContactState.installation_id == job.installation_id,
                ContactState.email == retry.old_email,
                ContactState.held_for == retry.new_email,
                ContactState.list_id.in_(retry.list_ids),
            )
        )
        list_ids = sorted(set(held))
        if not list_ids:
            return  # released meanwhile: moved by a later change, or the address joined
        logger.info("Held contact: the move refused for now is tried again (%s)", retry.attempt)
        move = EmailMove(
            old_email=retry.old_email,
            new_email=retry.new_email,
            saleor_user_id=retry.saleor_user_id,
            list_ids=list_ids,
            attempt=retry.attempt,
        )
        await enqueue_email_move(session, job.installation_id, move)


def register(registry: HandlerRegistry[Services]) -> None:
    registry.register(HELD_RETRY_JOB, handle_held_retry, payload=HeldRetry)
