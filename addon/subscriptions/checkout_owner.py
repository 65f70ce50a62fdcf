"""Who gave a checkout's consent, signed in: for the order an app or Saleor places from it.

An order's consent proves its address only when its own customer placed it signed in: its
PLACED event names them (`consent_payloads.OrderRef.owner`). An order an app makes from a
checkout (`orderCreateFromCheckout`) names nobody there, whoever shopped; nor, at the current
Saleor, one it completes once paid (the task's request has no user). The checkout told before:
Saleor gives a checkout to an account only at its completion, and only when it has no user
(saleor/checkout/complete_checkout.py `assign_checkout_user`, 3.20.119 and 723cd4e), so a user
on a checkout before then is its shopper, signed in (created with their token, or attached with
`checkoutCustomerAttach`: their own, or staff's or an app's with IMPERSONATE_USER, who may act
for any customer anyway).

The storefront records the consent with `updateMetadata` on the checkout (docs/storefront-api.md),
which sends CHECKOUT_METADATA_UPDATED, or in `checkoutCreate`'s input (CHECKOUT_CREATED; after
3.20): webhooks/subscriptions_checkout_owner.graphql. A delivery is only a trigger: Saleor signs
the body alone, so another delivery's body posted here could name anyone. For one whose body
holds a consent, or a checkout remembered already, the checkout is read from Saleor
(`consent.handle_checkout_owner`), and what it shows remembered (`SignedInCheckout`): its
signed-in user when the consent is theirs, given under their own address, else nobody. The
latest read wins, whatever order the deliveries come in. The order placed from the checkout
(`Order.checkoutId`) is then the user's own when its user is that one. A consent read only once
the checkout was completed (its order placed first), or while the app was deactivated, is not
remembered: that order's consent counts as a guest's, as before. A read still under way when the
order's job runs (begun before the order was placed, not written yet) is waited for
(`read_under_way`). A checkout is forgotten 180 days after its last read (`KEPT_FOR`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from addon.db.repository import insert_for
from addon.db.types import utcnow
from addon.installations.webhook_kinds import webhook_job_kind
from addon.jobs.models import Job, JobStatus
from addon.subscriptions.consent_payloads import CheckoutRef
from addon.subscriptions.models import SignedInCheckout

WEBHOOK_SLUG = "subscriptions-checkout-owner"
# How long a checkout is remembered after its last read: twice Saleor's default lifetime of a
# user's checkout (saleor/settings.py USER_CHECKOUTS_TIMEDELTA, "90 days" after its last change,
# which a line or an address changed moves without this webhook; a store may set it longer).
KEPT_FOR = timedelta(days=180)
# How soon an order's job looks again at its checkout's read under way (`read_under_way`).
READ_WAIT_SECONDS = 1.0


class CheckoutEvent(BaseModel):
    """CHECKOUT_CREATED / CHECKOUT_METADATA_UPDATED: which checkout, and whether its body says
    it holds a consent (a trigger only: `consent.handle_checkout_owner` reads it from Saleor)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    checkout: CheckoutRef | None = None


async def remember(
    session: AsyncSession,
    installation_id: int,
    checkout_id: str,
    user_id: str | None,
    read_at: datetime,
) -> None:
    """The checkout's consent given by `user_id` signed in, or by nobody known (None), as
    Saleor showed it at `read_at`; a read older than the one remembered changes nothing (two
    jobs of one checkout may read it in one order and write in the other)."""
    insert = insert_for(session.get_bind().dialect.name, SignedInCheckout).values(
        installation_id=installation_id,
        checkout_id=checkout_id,
        saleor_user_id=user_id,
        seen_at=read_at,
    )
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=["installation_id", "checkout_id"],
            set_={"saleor_user_id": user_id, "seen_at": read_at},
            where=SignedInCheckout.seen_at <= read_at,
        )
    )
    # Checkouts Saleor has deleted unplaced by now.
    await session.execute(
        delete(SignedInCheckout).where(
            SignedInCheckout.installation_id == installation_id,
            SignedInCheckout.seen_at < utcnow() - KEPT_FOR,
        )
    )


async def _remembered(
    session: AsyncSession, installation_id: int, checkout_id: str
) -> SignedInCheckout | None:
    return await session.scalar(
        select(SignedInCheckout).where(
            SignedInCheckout.installation_id == installation_id,
            SignedInCheckout.checkout_id == checkout_id,
        )
    )


async def remembered(session: AsyncSession, installation_id: int, checkout_id: str) -> bool:
    """Whether the checkout was read already (its consent anyone's or nobody's)."""
    return await _remembered(session, installation_id, checkout_id) is not None


async def checkout_user(
    session: AsyncSession, installation_id: int, checkout_id: str | None
) -> str | None:
    """The user who gave the consent of checkout `checkout_id` signed in, if one did."""
    row = await _remembered(session, installation_id, checkout_id) if checkout_id else None
    return row.saleor_user_id if row is not None else None


async def read_under_way(
    session: AsyncSession, installation_id: int, checkout_id: str, order_job_id: int
) -> bool:
    """Whether a delivery of the checkout is being handled by a run that began before its
    order's delivery was stored (`order_job_id`): its read may have seen the checkout before
    the order was placed, what it saw not written yet. One that began later (taken with the
    order's, say) reads nothing: Saleor deletes a checkout it completes; nor does one still
    pending, nor a run whose lease lapsed (its worker gone: run again, it reads nothing). A
    run's start is read as when it was claimed or its lease last renewed (`Job.updated_at`):
    a renewal between the order's delivery and the read's end hides the run (a renewal comes
    every third of a lease, the read takes a Saleor request), and so does a checkout Saleor
    keeps (`orderCreateFromCheckout(removeCheckout: false)`) read with its order's job: both
    count as a guest's, as before."""
    order_job = aliased(Job)
    stored = select(order_job.created_at).where(order_job.id == order_job_id).scalar_subquery()
    running = await session.scalar(
        select(Job.id)
        .where(
            Job.installation_id == installation_id,
            Job.kind == webhook_job_kind(WEBHOOK_SLUG),
            Job.status == JobStatus.RUNNING,
            Job.locked_until > utcnow(),
            Job.updated_at < stored,
            Job.payload[("body", "checkout", "id")].as_string() == checkout_id,
        )
        .limit(1)
    )
    return running is not None
