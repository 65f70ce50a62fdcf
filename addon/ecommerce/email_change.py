"""A customer's new e-mail address reaching Mailchimp's e-commerce API: delete, then create.

Mailchimp refuses to change an e-commerce customer's address once the customer exists (400
"An email address may not be changed once a customer is created.", mailchimp/mc-magento#17,
open since 2016), by PUT or PATCH of the customer and through the `customer` of an order or a
cart alike. The app keeps the customer's id (the Saleor user's), so the customer is deleted and
created again under the new address: by the customer's own push (`put_customer`), or first by
an order or cart push that meets the refusal (`recreate_from_ref`), which is then sent again.

The re-created customer never carries `opt_in_status: true`: the audience member follows the
change by itself (`addon.subscriptions.email_change` moves it, with its status), and an opt-in
sent with the new address would subscribe it even if its owner had unsubscribed.
"""

from __future__ import annotations

import contextlib
import logging

from addon.mailchimp import (
    Address,
    AddressRefused,
    BadRequest,
    Customer,
    CustomerInput,
    CustomerRef,
    MailchimpClient,
    NotFound,
)
from addon.mailchimp.ecommerce_models import ReadAddress
from addon.mailchimp.errors import MailchimpError
from addon.services import Services
from addon.subscriptions.email_move import EmailMove, enqueue_email_move

logger = logging.getLogger(__name__)

REFUSAL = "may not be changed once a customer is created"


def refused_email_change(exc: MailchimpError) -> bool:
    """Mailchimp's answer to a customer sent with another address than the one it holds."""
    return isinstance(exc, BadRequest) and REFUSAL in f"{exc.title} {exc.detail}".lower()


def _already_exists(exc: BadRequest) -> bool:
    return "already exists" in f"{exc.detail} {exc.title}".lower()


async def recreate(client: MailchimpClient, store_id: str, customer: CustomerInput) -> str | None:
    """Delete the store's customer and create it again with `customer`'s address; return the
    address Mailchimp held (None if it held no such customer)."""
    logger.info("E-commerce customer %s re-created in store %s (new e-mail)", customer.id, store_id)
    try:
        before: Customer | None = await client.get_customer(store_id, customer.id)
    except NotFound:
        before = None
    held = before.email_address if before is not None else None
    with contextlib.suppress(NotFound):
        await client.delete_customer(store_id, customer.id)
    body = customer.model_copy(update={"opt_in_status": False})
    try:
        await client.create_customer(store_id, body)
    except AddressRefused:
        # Mailchimp refuses the new address (as fake, or "for now"): the customer is put back
        # under the one it had, its orders' customer still there; the push fails with
        # Mailchimp's reason (and is quarantined as a data error would be).
        if before is not None and before.email_address:
            with contextlib.suppress(MailchimpError):
                await client.create_customer(store_id, _as_input(before))
        raise
    except BadRequest as exc:
        if not _already_exists(exc):
            raise
        # Another push re-created it meanwhile, with the same new address: an update now.
        await client.upsert_customer(store_id, body)
    return held or None


def _as_input(held: Customer) -> CustomerInput:
    """The customer as Mailchimp held it, to create again (never opted in by the app)."""
    return CustomerInput(
        id=held.id,
        email_address=held.email_address,
        opt_in_status=False,
        first_name=held.first_name or None,
        last_name=held.last_name or None,
        company=held.company or None,
        address=_address(held.address),
    )


def _address(held: ReadAddress | None) -> Address | None:
    """Mailchimp answers empty fields ("") for what it lacks: sent back as absent."""
    fields = {k: v or None for k, v in (held.model_dump() if held else {}).items()}
    return Address(**fields) if any(fields.values()) else None


async def put_customer(
    client: MailchimpClient, store_id: str, customer: CustomerInput
) -> str | None:
    """Create or update the customer; a changed address re-creates it, and the address it
    had is returned (None when nothing was re-created)."""
    try:
        await client.upsert_customer(store_id, customer)
    except BadRequest as exc:
        if not refused_email_change(exc):
            raise
        return await recreate(client, store_id, customer) or None
    return None


async def recreate_from_ref(client: MailchimpClient, store_id: str, ref: CustomerRef) -> str | None:
    """An order's or cart's customer was refused for its new address: re-create the customer
    from what the order or cart carries (the customer's own push completes it). Returns the
    address Mailchimp held ("" if unknown); None if the reference has no address to re-create
    the customer with (then nothing was done)."""
    if not ref.email_address:
        return None
    customer = CustomerInput(
        id=ref.id,
        email_address=ref.email_address,
        opt_in_status=False,
        first_name=ref.first_name,
        last_name=ref.last_name,
        company=ref.company,
        address=ref.address,
    )
    return await recreate(client, store_id, customer) or ""


async def announce_move(
    services: Services,
    installation_id: int,
    old_email: str | None,
    new_email: str | None,
    saleor_user_id: str | None = None,
) -> None:
    """The customer's audience contacts follow the new address: the newsletter capability's job
    (`addon.subscriptions.email_change`) moves them."""
    if not old_email or not new_email or old_email.lower() == new_email.lower():
        return
    async with services.db.transaction() as session:
        await enqueue_email_move(
            session,
            installation_id,
            EmailMove(old_email=old_email, new_email=new_email, saleor_user_id=saleor_user_id),
        )
