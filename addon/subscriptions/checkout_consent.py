"""Consent recorded on a checkout whose order was not placed (yet): an abandoned cart's.

The e-commerce capability sends such a checkout as a cart, and Mailchimp applies a cart's
opt-in only to a contact its e-commerce API adds (the spec's `E_commerce_Customer_2`
`opt_in_status`). A consent the storefront records on a checkout whose shopper is a contact
already (added for an earlier cart, or by anyone else) is this capability's: the cart push
queues it here, once per checkout and address, and `consent.handle_checkout_consent` applies it
under the rules of a consent given at checkout (`consent._subscribe`: only offered audiences, not
given again to a contact who left, the contact record kept). An order placed from the checkout
brings the same consent again (ORDER_CREATED), as before.
"""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from addon.jobs.repository import JobRepository
from addon.mailchimp import subscriber_hash
from addon.subscriptions.writeback import contact_lane

CHECKOUT_CONSENT_JOB = "subscriptions.checkout_consent"


class CheckoutConsent(BaseModel):
    """A checkout's consent, as Saleor held it when the cart push read the checkout."""

    checkout_id: str
    email: str
    # The checkout's metadata consent keys (`metadata.Consent.from_metadata`).
    consent: dict[str, str] = Field(default_factory=dict)
    # Always None from the cart push: whether a signed-in shopper's account confirmed its
    # address is not read there, so the consent proves no address (a guest's checkout, as
    # `ContactChange.address_proven` has it); the order brings the account's own later.
    saleor_user_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None


async def queue_checkout_consent(
    session: AsyncSession, installation_id: int, consent: CheckoutConsent
) -> None:
    """Queue the consent in its contact's lane, once per checkout and address: a checkout's
    every later update carries the same keys, and must not give it again."""
    await JobRepository(session).enqueue(
        installation_id,
        CHECKOUT_CONSENT_JOB,
        consent.model_dump(mode="json"),
        dedupe_key=consent_key(consent.checkout_id, consent.email),
        lane=contact_lane(consent.email),
    )


def consent_key(checkout_id: str, email: str) -> str:
    """The job's dedupe key, hashed: a Saleor checkout id is 60 characters and the column 128
    (`Job.dedupe_key`; the installation is part of the unique key already)."""
    digest = hashlib.sha256(f"{checkout_id}:{subscriber_hash(email)}".encode()).hexdigest()
    return f"{CHECKOUT_CONSENT_JOB}:{digest}"
