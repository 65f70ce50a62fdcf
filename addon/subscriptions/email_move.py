"""The job that moves a customer's audience contacts to their new e-mail address: its kind and
payload, apart from its handler (`email_change.py`) so the e-commerce capability can queue it
when Mailchimp's e-commerce API reveals the old address (the customer it re-creates)."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.types import utcnow
from addon.jobs.models import Job, JobStatus
from addon.jobs.repository import JobRepository
from addon.mailchimp import subscriber_hash
from addon.subscriptions.customer_addresses import CustomerAddress, record_past_address
from addon.subscriptions.writeback import contact_lane

EMAIL_CHANGE_JOB = "subscriptions.email_change"


class EmailMove(BaseModel):
    """Move every audience contact of `old_email` to `new_email` (both lower-cased)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    old_email: str
    new_email: str
    saleor_user_id: str | None = None
    # Only these audiences (a contact held at `old_email` there); None: every audience.
    list_ids: list[str] | None = None
    # Tries of a move Mailchimp refused "for now" so far (`for_now.py`).
    attempt: int = 0


async def enqueue_email_move(
    session: AsyncSession, installation_id: int, move: EmailMove
) -> int | None:
    """Queue the move in the old address's lane (its contact's changes stay in order); the
    same move asked twice (the webhook and the e-commerce push) runs once. Every move of a
    customer's contacts comes through here (the webhook, the e-commerce push, a held contact's
    release or retry): the old address is kept as one the customer moved away from, which an
    erasure of the customer reaches (Mailchimp may keep a member there)."""
    old, new = move.old_email.lower(), move.new_email.lower()
    if old == new:
        return None
    key = _key(old, new)
    if move.list_ids is not None:
        key += ":" + ",".join(sorted(move.list_ids))
    # An order's or cart's push knows no Saleor user: the customer who has the new address
    # does (the same move asked by the webhook must keep it, as coalescing keeps the newest).
    user_id = move.saleor_user_id or await session.scalar(
        select(CustomerAddress.saleor_user_id)
        .where(CustomerAddress.installation_id == installation_id, CustomerAddress.email == new)
        .limit(1)
    )
    if user_id:
        await record_past_address(session, installation_id, user_id, old)
    payload = move.model_copy(
        update={"old_email": old, "new_email": new, "saleor_user_id": user_id}
    )
    return await JobRepository(session).enqueue(
        installation_id,
        EMAIL_CHANGE_JOB,
        payload.model_dump(mode="json"),
        coalesce_key=key,
        lane=contact_lane(old),
    )


def _key(old: str, new: str) -> str:
    return f"{EMAIL_CHANGE_JOB}:{subscriber_hash(old)}:{subscriber_hash(new)}"


# A move due later than this (tried again "for now" in hours, `for_now.py`) is not waited for.
DUE_SOON = timedelta(minutes=1)
# A move that ended longer ago than this is another change's (the address went back and forth).
ENDED_RECENTLY = timedelta(hours=1)


class MoveState(StrEnum):
    UNDER_WAY = "under_way"  # queued and due soon, or running
    SETTLED = "settled"  # ended lately, or put off for hours
    NOT_ASKED = "not_asked"


async def move_state(
    session: AsyncSession, installation_id: int, old_email: str, new_email: str
) -> MoveState:
    """Where the move of `old_email`'s contacts to `new_email` stands."""
    key = _key(old_email.lower(), new_email.lower())
    now = utcnow()
    found = await session.execute(
        select(Job.status, Job.run_after, Job.finished_at)
        .where(
            Job.installation_id == installation_id,
            Job.kind == EMAIL_CHANGE_JOB,
            Job.coalesce_key.startswith(key, autoescape=True),
        )
        .order_by(Job.id.desc())
        .limit(5)
    )
    state = MoveState.NOT_ASKED
    for status, run_after, finished_at in found:
        if status is JobStatus.RUNNING or (
            status is JobStatus.PENDING and run_after <= now + DUE_SOON
        ):
            return MoveState.UNDER_WAY
        if status is JobStatus.PENDING or (
            finished_at is not None and finished_at >= now - ENDED_RECENTLY
        ):
            state = MoveState.SETTLED
    return state
