"""Sending an order or a cart to Mailchimp (`SaleSender`): created, or updated; a cart replaced
when its lines or its customer changed, an order's lines edited in place, an order re-created
only under the shopper it belongs to now; on the customer that holds its address, or on its
re-created customer when Mailchimp refused an e-mail change (`email_change.py`,
`email_holder.py`); never lost to a stale campaign id.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from addon.ecommerce import payloads, sale_payloads
from addon.ecommerce.batch_results import campaign_refused
from addon.ecommerce.cart_audience import not_in_audience
from addon.ecommerce.catalog import CatalogPusher, Known, already_exists
from addon.ecommerce.email_change import (
    announce_move,
    recreate_from_ref,
    refused_email_change,
    wait_for_member_move,
)
from addon.ecommerce.email_holder import email_taken, holder_of
from addon.ecommerce.failures import without_address
from addon.ecommerce.fingerprints import order_moved
from addon.ecommerce.models import EntityKind, Fingerprint
from addon.ecommerce.subjects import ORDER_LABEL_SEPARATOR
from addon.jobs.repository import JobRepository
from addon.mailchimp import BadRequest, CartInput, NotFound

# What may carry a campaign id: orders and carts.
Attributed = TypeVar("Attributed", sale_payloads.TrackedOrderInput, CartInput)
# The Activity entry of an order re-created under its corrected address: a job done on arrival,
# its text in `last_error`, as the Activity page shows a row's (`email_change_notes.py`).
ORDER_MOVED_NOTE = "ecommerce.order_moved"


def _campaign_rejected(exc: BadRequest) -> bool:
    return campaign_refused(f"{exc.title} {exc.detail}", exc.field_errors)


class SaleSender(CatalogPusher):
    """What `Pusher` sends orders and carts with."""

    # The customer holding the shopper's data, when their customer record names another than
    # their own (`put_customer` put it on the one holding their address): set by `shopper`.
    _holder: str | None = None

    async def shopper(self, user_id: str | None) -> None:
        """The registered shopper of the order or cart to send (None: a guest): where their
        data lives, as their customer record says."""
        self._holder = None
        if user_id is None:
            return
        held = (await self.known(EntityKind.CUSTOMER, user_id)).mailchimp_id
        if held is not None and held != payloads.mailchimp_id(user_id):
            self._holder = held

    async def _on_holder(self, body: Attributed) -> Attributed:
        """The order or cart of a shopper whose data lives on the customer holding their
        address goes straight to it: their own customer, at their old address, would be
        refused their new one, and deleted to be re-created and put back, on every push. A
        guest's customer is named by its address, so it holds no other: named at once; another
        is looked up by the address (it may have left it). Only at a creation: the buyer an
        order or cart was recorded with is left alone (`fingerprints.order_moved`)."""
        held, email = self._holder, body.customer.email_address
        if held is None or held == body.customer.id or not email:
            return body
        if held == payloads.guest_customer_id(email):
            return _named(body, held)
        holder = await holder_of(self.client, self.ctx.store_id, email)
        return _named(body, holder.id, holder.email_address) if holder is not None else body

    async def _send_cart(
        self,
        known: Known,
        pushing: Fingerprint,
        body: CartInput,
        patch: Callable[[], Awaitable[object]],
        create: Callable[[str, CartInput], Awaitable[object]],
    ) -> None:
        """Create (with `create`), update or replace a cart.

        A cart whose lines or customer changed is replaced (two calls however many lines
        changed; this also restarts the abandonment clock, as it should), as is one Mailchimp
        holds already (its lines unknown); a cart is patched whenever it is pushed (which also
        re-creates one Mailchimp lost). A PATCH refused as its shopper "not found in audience"
        (the contact archived or forgotten since) replaces the cart: `create` meets the refusal
        as at a creation (`cart_audience.post_joining`).
        """
        delete = self.client.delete_cart
        if known.mailchimp_id is not None and _replaced(known.children, pushing.children):
            await self._delete(delete, body.id)
            await self._create(create, body)
        elif known.mailchimp_id is None:
            try:
                await self._create(create, body)
            except BadRequest as exc:
                if not already_exists(exc):
                    raise
                await self._delete(delete, body.id)
                await self._create(create, body)
        else:
            try:
                await patch()
            except NotFound:
                await self._create(create, body)
            except BadRequest as exc:
                if not not_in_audience(exc):
                    raise
                without_address(exc, body.customer.email_address)
                await self._delete(delete, body.id)
                await self._create(create, body)

    async def _send_order(
        self,
        known: Known,
        pushing: Fingerprint,
        body: sale_payloads.TrackedOrderInput,
        create: Callable[[str, sale_payloads.TrackedOrderInput], Awaitable[object]],
    ) -> bool:
        """Create or update an order; True when it was re-created under another shopper.

        Mailchimp takes an order created again as a new one, and sends its notifications again
        (its Invoice, ...). So an order it holds is never deleted for new lines: Saleor lets
        staff edit the lines of an unconfirmed order, and prices change with its address
        (`ORDER_EDITABLE_STATUS`, saleor/order/__init__.py; `orderLinesCreate`,
        `orderLineUpdate`, `orderLineDelete` send ORDER_UPDATED): its PATCH carries its lines
        (`_relined`). Only a new shopper re-creates it (`fingerprints.order_moved`): a PATCH
        cannot move an order to another customer (`E_commerce_Order_2.customer` has neither
        id nor address), and the shopper at the corrected address got none of its e-mails; it
        gets the one of its current status (created as it is, never `pending` first:
        `order_confirmation.confirms`). An order is patched only when its fields changed.
        """
        if known.mailchimp_id is not None and order_moved(known.children, pushing.children):
            await self._delete(self.client.delete_order, body.id)
            await self._create(create, body)
            return True
        if known.mailchimp_id is None:
            try:
                await self._create(create, body)
            except BadRequest as exc:
                if not already_exists(exc):
                    raise
                await self._relined(body)  # its lines unknown: made what Saleor has
            return False
        if known.children.get("lines") != pushing.children.get("lines"):
            send = self._relined
        elif known.fingerprint.content_hash != pushing.content_hash:
            send = self._patched
        else:
            return False  # only whom it belongs to was recorded anew (`order_moved`)
        try:
            await send(body)
        except NotFound:
            await self._create(create, body)
        return False

    async def _patched(self, body: sale_payloads.TrackedOrderInput) -> None:
        """The order's fields, without its lines."""
        patch = sale_payloads.order_patch(body)
        await self.client.update_order(self.ctx.store_id, body.id, patch)

    async def _relined(self, body: sale_payloads.TrackedOrderInput) -> None:
        """The order's fields and totals with every line of it, each named by id (Mailchimp
        updates the lines it holds and adds the others), then each line it no longer has
        deleted (`DELETE …/orders/{id}/lines/{line_id}`), as Mailchimp for WooCommerce does
        (`updateStoreOrder`, which reads the lines Mailchimp holds from the PATCH's answer:
        no GET). The lines just sent stay, so the last line is never deleted (Mailchimp
        refuses that: the sandbox's `order_lines.py`)."""
        patch = sale_payloads.order_patch(body, lines=True)
        held = await self.client.update_order(self.ctx.store_id, body.id, patch)
        kept = {line.id for line in body.lines}
        if not kept:
            return
        for line in held.lines:
            if line.id not in kept:
                with contextlib.suppress(NotFound):  # gone already: as good
                    await self.client.delete_order_line(self.ctx.store_id, body.id, line.id)

    async def _create(
        self, create: Callable[[str, Attributed], Awaitable[object]], body: Attributed
    ) -> None:
        """Create an order or cart; its customer's changed e-mail re-creates the customer
        first (`email_change.py`), so the order or cart lands on the customer's new address."""
        body = await self._on_holder(body)
        try:
            await self._create_once(create, body)
        except BadRequest as exc:
            email = body.customer.email_address
            # A guest's customer never changes address (named by it): refused as one, it holds
            # the address in another case.
            same = email is not None and body.customer.id == payloads.guest_customer_id(email)
            if (email_taken(exc) or (same and refused_email_change(exc))) and email:
                # Another customer holds the address (`email_holder.py`): named instead.
                holder = await holder_of(self.client, self.ctx.store_id, email)
                if holder is not None:
                    body = _named(body, holder.id, holder.email_address)
                await self._create_once(create, body)
                return
            if not refused_email_change(exc):
                raise
            first = None
            if body.customer.email_address:
                first = partial(
                    wait_for_member_move,
                    self.services,
                    self.ctx.installation_id,
                    new_email=body.customer.email_address,
                )
            placed = await recreate_from_ref(self.client, self.ctx.store_id, body.customer, first)
            if placed is None:
                raise
            await self._create_once(create, _named(body, placed.customer_id))
            await announce_move(
                self.services, self.ctx.installation_id, placed.held, body.customer.email_address
            )

    async def _create_once(
        self, create: Callable[[str, Attributed], Awaitable[object]], body: Attributed
    ) -> None:
        """Create an order or cart; a stale or foreign campaign id must never cost it."""
        try:
            await create(self.ctx.store_id, body)
        except BadRequest as exc:
            if body.campaign_id is None or not _campaign_rejected(exc):
                raise
            await create(self.ctx.store_id, body.model_copy(update={"campaign_id": None}))

    async def _delete(
        self, delete: Callable[[str, str], Awaitable[None]], mailchimp_id: str
    ) -> None:
        """Delete an order or cart; one already gone is as good."""
        with contextlib.suppress(NotFound):
            await delete(self.ctx.store_id, mailchimp_id)


def _named(body: Attributed, customer_id: str, email: str | None = None) -> Attributed:
    """The order or cart naming another customer: the one holding its address, as Mailchimp
    writes it (`email_holder.py`), or its re-created customer."""
    if customer_id == body.customer.id and email in (None, body.customer.email_address):
        return body
    update = {"id": customer_id} | ({"email_address": email} if email else {})
    return body.model_copy(update={"customer": body.customer.model_copy(update=update)})


def _replaced(known: Mapping[str, str], pushing: Mapping[str, str]) -> bool:
    """Whether a part of a cart its PATCH does not change did: its lines, or its customer. A
    part the record does not hold (a cart's customer, recorded only since it replaces the cart)
    is not compared: the carts pushed before are not all replaced at their next push."""
    return set(known) - set(pushing) != set() or any(
        known.get(part, digest) != digest for part, digest in pushing.items()
    )


async def note_order_moved(
    session: AsyncSession,
    installation_id: int,
    channel: str,
    saleor_id: str,
    number: str,
    held_label: str | None,
    email: str,
    *,
    quiet: str | None,
) -> None:
    """Activity says the order moved to its corrected address (`held_label`: its ledger
    label before, naming the address it was at), and what Mailchimp sends for it (`quiet`:
    the statuses Mailchimp is not told, `order_confirmation.QUIET`)."""
    before = (held_label or "").partition(ORDER_LABEL_SEPARATOR)[2]
    was = f" from {before}" if before and before.lower() != email.lower() else ""
    sends = moved_sends(quiet)
    note = (
        f"Order #{number} moved{was} to {email} in Mailchimp: its buyer changed in Saleor (its "
        "e-mail address was corrected), which Mailchimp cannot change on an order, so it was "
        f"deleted and created again under that address's customer. {sends}"
    )
    order = {"id": saleor_id, "number": number, "userEmail": email}
    await JobRepository(session).record_note(
        installation_id,
        ORDER_MOVED_NOTE,
        {"channel": channel, "body": {"order": order}},
        note,
    )


def moved_sends(quiet: str | None) -> str:
    """What Mailchimp sends the corrected address, by the statuses it is still not told."""
    financial, _, fulfillment = (quiet or "").partition("/")
    untold = [name for name, part in (("payment", financial), ("shipping", fulfillment)) if part]
    if not untold:
        return (
            "Mailchimp sends that address the e-mail of the order's current status (its "
            "Invoice when paid, its Shipping Confirmation when shipped)."
        )
    if len(untold) == 2:
        return (
            "Placed long before it reached Mailchimp, it still goes without the payment and "
            "shipping statuses it had then: Mailchimp sends that address no e-mail of them."
        )
    other, told = (
        ("shipping", "its Shipping Confirmation when shipped")
        if financial
        else ("payment", "its Invoice when paid")
    )
    return (
        f"Placed long before it reached Mailchimp, it still goes without the {untold[0]} status "
        "it had then: Mailchimp sends that address no e-mail of it, only that of its current "
        f"{other} status ({told})."
    )
