"""Who gave a checkout's consent, signed in: for the order an app or Saleor places from it.

An order's consent proves its address only when its own customer placed it signed in: its
PLACED event names them (`consent_payloads.OrderRef.owner`). An order an app makes from a
checkout (`orderCreateFromCheckout`) or one Saleor completes once paid names nobody there,
whoever shopped. The checkout told before: Saleor gives a checkout to an account only at its
completion, and only when it has no user (saleor/checkout/complete_checkout.py
`assign_checkout_user`, 3.20.119 and 723cd4e), so a user on a checkout before then is its
shopper, signed in (created with their token, or attached with `checkoutCustomerAttach`, which
asks for it).

The storefront records the consent with `updateMetadata` on the checkout (docs/storefront-api.md),
which sends CHECKOUT_METADATA_UPDATED, or in `checkoutCreate`'s input (CHECKOUT_CREATED; after
3.20): webhooks/subscriptions_checkout_owner.graphql. Each
delivery whose checkout holds a consent, given under its signed-in user's own address, is
remembered (`SignedInCheckout`); one that shows the checkout otherwise (no user, another address,
the consent taken back) marks it as nobody's. Deliveries may arrive in any order: the latest event
(`issuedAt`) wins. The order placed from the checkout (`Order.checkoutId`) is then the user's
own when its user is that one. A checkout Saleor deleted unplaced is forgotten after Saleor's
own lifetime of a user's checkout.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.repository import insert_for
from addon.db.types import utcnow
from addon.jobs.schemas import ClaimedJob, WebhookJob
from addon.services import Services
from addon.subscriptions.consent_payloads import CheckoutRef
from addon.subscriptions.models import SignedInCheckout

WEBHOOK_SLUG = "subscriptions-checkout-owner"
# How long Saleor keeps a signed-in user's checkout (saleor/settings.py USER_CHECKOUTS_TIMEDELTA,
# "90 days" by default; a guest's: 30): one remembered longer was deleted unplaced.
KEPT_FOR = timedelta(days=90)


class CheckoutEvent(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    issued_at: datetime | None = Field(default=None, alias="issuedAt")
    checkout: CheckoutRef | None = None


async def handle_checkout_owner(
    job: ClaimedJob, delivery: WebhookJob[CheckoutEvent], services: Services
) -> None:
    checkout, issued_at = delivery.body.checkout, delivery.body.issued_at
    if checkout is None:
        return
    owner = checkout.owner(checkout.email) if checkout.consent.subscribe else None
    async with services.db.transaction() as session:
        await remember(
            session, job.installation_id, checkout.id, owner.id if owner else None,
            issued_at or utcnow(),
        )  # fmt: skip


async def remember(
    session: AsyncSession,
    installation_id: int,
    checkout_id: str,
    user_id: str | None,
    seen_at: datetime,
) -> None:
    """The checkout's consent given by `user_id` signed in, or by nobody known (None), as an
    event issued at `seen_at` showed it; an event older than the one remembered changes
    nothing. Nobody known is written only over a checkout remembered (most checkouts' metadata
    never holds a signed-in user's consent), and kept: an older event arriving after it
    finds it newer."""
    newer = SignedInCheckout.seen_at <= seen_at
    if user_id is None:
        await session.execute(
            update(SignedInCheckout)
            .where(
                SignedInCheckout.installation_id == installation_id,
                SignedInCheckout.checkout_id == checkout_id,
                newer,
            )
            .values(saleor_user_id=None, seen_at=seen_at)
        )
        return
    insert = insert_for(session.get_bind().dialect.name, SignedInCheckout).values(
        installation_id=installation_id,
        checkout_id=checkout_id,
        saleor_user_id=user_id,
        seen_at=seen_at,
    )
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=["installation_id", "checkout_id"],
            set_={"saleor_user_id": user_id, "seen_at": seen_at},
            where=newer,
        )
    )
    # Checkouts Saleor has deleted unplaced by now (at most one such delete per new consent).
    await session.execute(
        delete(SignedInCheckout).where(
            SignedInCheckout.installation_id == installation_id,
            SignedInCheckout.seen_at < seen_at - KEPT_FOR,
        )
    )


async def checkout_user(
    session: AsyncSession, installation_id: int, checkout_id: str | None
) -> str | None:
    """The user who gave the consent of checkout `checkout_id` signed in, if one did."""
    if not checkout_id:
        return None
    return await session.scalar(
        select(SignedInCheckout.saleor_user_id).where(
            SignedInCheckout.installation_id == installation_id,
            SignedInCheckout.checkout_id == checkout_id,
        )
    )
