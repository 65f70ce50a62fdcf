"""A customer's new e-mail address reaching Mailchimp's e-commerce API: delete, then create.

Mailchimp refuses to change an e-commerce customer's address once the customer exists (400
"An email address may not be changed once a customer is created.", mailchimp/mc-magento#17,
open since 2016), by PUT or PATCH of the customer and through the `customer` of an order or a
cart alike. The app keeps the customer's id (the Saleor user's), so the customer is deleted and
created again under the new address: by the customer's own push (`put_customer`), or first by
an order or cart push that meets the refusal (`recreate_from_ref`), which is then sent again.

The re-created customer never carries `opt_in_status: true`: the audience member follows the
change by itself (`addon.subscriptions.email_change` moves it, with its status), and an opt-in
sent with the new address would subscribe it even if its owner had unsubscribed. While that
move is under way, the re-creation waits for it (`wait_for_member_move`), and a push that meets
the refusal before the change's delivery to the newsletter is handled queues the move itself: a
customer created first adds its address to the store's audience (a transactional contact), and
the move, finding it there, merges into it and archives the member it leaves, with its campaign
history.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from addon.ecommerce.email_holder import email_taken, holder_of
from addon.ecommerce.push_ledger import already_exists
from addon.jobs.schemas import RetryLater
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
from addon.subscriptions.email_move import EmailMove, MoveState, enqueue_email_move, move_state

logger = logging.getLogger(__name__)

REFUSAL = "may not be changed once a customer is created"
# How soon a re-creation that waits for its member's move looks again.
MOVE_FIRST_SECONDS = 2.0

# Called with the address Mailchimp held before a customer is re-created under its new one.
BeforeRecreate = Callable[[str | None], Awaitable[None]]


def refused_email_change(exc: MailchimpError) -> bool:
    """Mailchimp's answer to a customer sent with another address than the one it holds."""
    return isinstance(exc, BadRequest) and REFUSAL in f"{exc.title} {exc.detail}".lower()


@dataclass(frozen=True)
class Placed:
    """Where a customer's push landed: the Mailchimp customer now holding its data (another
    customer's when that one holds the address, `email_holder.py`), and the address that
    customer had when it was re-created under a new one."""

    customer_id: str
    held: str | None = None


async def recreate(
    client: MailchimpClient,
    store_id: str,
    customer: CustomerInput,
    first: BeforeRecreate | None = None,
) -> Placed:
    """Delete the store's customer and create it again with `customer`'s address (`held`: the
    address Mailchimp held, None if it held no such customer); where another customer holds
    that address, its data goes there and the customer stays as it is (`email_holder.py`).
    `first` runs before anything changes (it may put the re-creation off)."""
    try:
        before: Customer | None = await client.get_customer(store_id, customer.id)
    except NotFound:
        before = None
    held = before.email_address if before is not None else None
    body = customer.model_copy(update={"opt_in_status": False})
    # Asked before deleting: Mailchimp would refuse the re-creation, and the customer be put
    # back under its old address (three calls for nothing, on every push that met the refusal).
    holder = await holder_of(client, store_id, customer.email_address)
    if holder is not None and holder.id != customer.id:
        await _onto(client, store_id, body, holder)
        return Placed(holder.id, held or None)
    if first is not None:
        await first(held)
    logger.info("E-commerce customer %s re-created in store %s (new e-mail)", customer.id, store_id)
    with contextlib.suppress(NotFound):
        await client.delete_customer(store_id, customer.id)
    try:
        await client.create_customer(store_id, body)
    except (AddressRefused, BadRequest) as exc:
        taken = email_taken(exc)
        if not taken and not isinstance(exc, AddressRefused) and already_exists(exc):
            # Another push re-created it meanwhile, with the same new address: an update now.
            await client.upsert_customer(store_id, body)
            return Placed(customer.id, held or None)
        # Mailchimp refuses the new address (as fake, or "for now"), or another customer holds
        # it: the customer is put back under the one it had, its orders' customer still there.
        if before is not None and before.email_address:
            with contextlib.suppress(MailchimpError):
                await client.create_customer(store_id, _as_input(before))
        if not taken:
            raise  # with Mailchimp's reason (quarantined as a data error would be)
        placed = await onto_holder(client, store_id, body)
        return Placed(placed.customer_id, held or None)
    return Placed(customer.id, held or None)


async def onto_holder(client: MailchimpClient, store_id: str, customer: CustomerInput) -> Placed:
    """Put the customer's data on the customer holding its address (`email_holder.py`); as
    it is if the address was freed meanwhile."""
    holder = await holder_of(client, store_id, customer.email_address)
    if holder is None:
        await client.upsert_customer(store_id, customer)
        return Placed(customer.id)
    return await _onto(client, store_id, customer, holder)


async def _onto(
    client: MailchimpClient, store_id: str, customer: CustomerInput, holder: Customer
) -> Placed:
    """The customer's data on `holder`, under its address as Mailchimp holds it (a change of
    case would be refused as a change)."""
    update = {"id": holder.id, "email_address": holder.email_address}
    await client.upsert_customer(store_id, customer.model_copy(update=update))
    return Placed(holder.id)


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
    client: MailchimpClient,
    store_id: str,
    customer: CustomerInput,
    held_by: str | None = None,
    first: BeforeRecreate | None = None,
) -> Placed:
    """Create or update the customer; a changed address re-creates it, an address another
    customer holds puts the data on that one. `held_by`: the customer the last push put the
    data on; another than the customer's own, it is looked for first, by the address (so
    never one that left it): while a customer holds the address, each push goes straight
    there rather than meeting Mailchimp's refusal of the own customer's address first."""
    if held_by is not None and held_by != customer.id:
        holder = await holder_of(client, store_id, customer.email_address)
        if holder is not None:  # never opted in there, as when it was first put there
            body = customer.model_copy(update={"opt_in_status": False})
            return await _onto(client, store_id, body, holder)
    try:
        await client.upsert_customer(store_id, customer)
    except BadRequest as exc:
        if email_taken(exc):
            return await onto_holder(client, store_id, customer)
        if not refused_email_change(exc):
            raise
        return await recreate(client, store_id, customer, first)
    return Placed(customer.id)


async def recreate_from_ref(
    client: MailchimpClient, store_id: str, ref: CustomerRef, first: BeforeRecreate | None = None
) -> Placed | None:
    """An order's or cart's customer was refused for its new address: re-create the customer
    from what the order or cart carries (the customer's own push completes it). None if the
    reference has no address to re-create the customer with (then nothing was done)."""
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
    return await recreate(client, store_id, customer, first)


async def wait_for_member_move(
    services: Services,
    installation_id: int,
    held: str | None,
    new_email: str,
    saleor_user_id: str | None = None,
) -> None:
    """Raise `RetryLater` (uncounted) while the audience contacts' move from the address
    Mailchimp held to the new one is under way (see the module docstring); a move never asked
    (the delivery that tells the newsletter of the change not handled yet) is queued first.
    Return once it ended, or was put off for hours: then the re-creation goes on."""
    if not held or held.lower() == new_email.lower():
        return
    async with services.db.transaction() as session:
        state = await move_state(session, installation_id, held, new_email)
        if state is MoveState.NOT_ASKED:
            move = EmailMove(old_email=held, new_email=new_email, saleor_user_id=saleor_user_id)
            await enqueue_email_move(session, installation_id, move)
    if state is not MoveState.SETTLED:
        raise RetryLater(
            f"Waiting for the contact to move from {held} to {new_email} before the customer "
            "is created again under it",
            MOVE_FIRST_SECONDS,
        )


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
