"""Consent recorded on a checkout whose order was not placed (yet): an abandoned cart's.

The e-commerce capability sends such a checkout as a cart, and Mailchimp applies a cart's
opt-in only to a contact its e-commerce API adds (the spec's `E_commerce_Customer_2`
`opt_in_status`). A consent the storefront records on a checkout whose shopper is a contact
already (added for an earlier cart, or by anyone else) is this capability's: the cart push
queues the checkout and the address it was sent for here, once per checkout and address, and
`consent.handle_checkout_consent` reads the checkout from Saleor when it runs and applies it as
an order's (the whole consent, the signed-in owner's address proven once confirmed) under the
rules of a consent given at checkout (`consent._subscribe`: only offered audiences, not given
again to a contact who left, the contact record kept). An order placed from the checkout brings
the same consent again (ORDER_CREATED), as before.
"""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from addon.jobs.repository import JobRepository
from addon.mailchimp import subscriber_hash
from addon.subscriptions.writeback import contact_lane

CHECKOUT_CONSENT_JOB = "subscriptions.checkout_consent"


class CheckoutConsent(BaseModel):
    """The job: which checkout, and the address its cart was sent for; the rest is read from
    Saleor when it runs (`consent.handle_checkout_consent`)."""

    # A job the previous version queued carries a snapshot besides (`consent`,
    # `saleor_user_id`, `first_name`, `last_name`): left out, the checkout read as for any.
    model_config = ConfigDict(extra="ignore")

    checkout_id: str
    email: str


async def queue_checkout_consent(
    session: AsyncSession, installation_id: int, consent: CheckoutConsent
) -> None:
    """Queue the consent in its contact's lane, once per checkout and address: a checkout's
    every later update carries the same keys, and must not give it again (unless its job found
    nothing to apply: `release_checkout_consent`)."""
    await JobRepository(session).enqueue(
        installation_id,
        CHECKOUT_CONSENT_JOB,
        consent.model_dump(mode="json"),
        dedupe_key=consent_key(consent.checkout_id, consent.email),
        lane=contact_lane(consent.email),
    )


async def release_checkout_consent(session: AsyncSession, job_id: int) -> None:
    """The consent job `job_id` applied nothing (the checkout's consent off, or its e-mail
    another, when it ran): its key let go, so that a later push of the checkout with the
    consent (the box ticked again, the address typed back) queues it again. Running it again
    is safe: a checkout's consent never brings back a contact who left
    (`consent._withdrawn_since`)."""
    await JobRepository(session).release_dedupe_key(job_id)


def consent_key(checkout_id: str, email: str) -> str:
    """The job's dedupe key, hashed: a Saleor checkout id is 60 characters and the column 128
    (`Job.dedupe_key`; the installation is part of the unique key already)."""
    digest = hashlib.sha256(f"{checkout_id}:{subscriber_hash(email)}".encode()).hexdigest()
    return f"{CHECKOUT_CONSENT_JOB}:{digest}"
