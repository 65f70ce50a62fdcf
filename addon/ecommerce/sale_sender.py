"""Sending an order or a cart to Mailchimp (`SaleSender`): created, updated, or replaced when
its lines changed (neither PATCH can address lines); on the customer that holds its address, or
on its re-created customer when Mailchimp refused an e-mail change (`email_change.py`,
`email_holder.py`); never lost to a stale campaign id.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from addon.ecommerce import sale_payloads
from addon.ecommerce.batch_results import campaign_refused
from addon.ecommerce.catalog import CatalogPusher, Known, already_exists
from addon.ecommerce.email_change import announce_move, recreate_from_ref, refused_email_change
from addon.ecommerce.email_holder import email_taken, holder_of
from addon.ecommerce.models import Fingerprint
from addon.mailchimp import BadRequest, CartInput, NotFound

# What may carry a campaign id: orders and carts.
Attributed = TypeVar("Attributed", sale_payloads.TrackedOrderInput, CartInput)


def _campaign_rejected(exc: BadRequest) -> bool:
    return campaign_refused(f"{exc.title} {exc.detail}", exc.field_errors)


class SaleSender(CatalogPusher):
    """What `Pusher` sends orders and carts with."""

    async def _send(
        self,
        known: Known,
        pushing: Fingerprint,
        body: Attributed,
        create: Callable[[str, Attributed], Awaitable[object]],
        delete: Callable[[str, str], Awaitable[None]],
        update: Callable[[], Awaitable[object]],
        *,
        cart: bool = False,
    ) -> None:
        """Create, update or replace an order or a cart in Mailchimp.

        Neither PATCH can address lines: when the lines changed, the resource is replaced (two
        calls however many lines changed; for a cart this also restarts the abandonment clock,
        as it should). A cart Mailchimp holds already (its lines unknown) is replaced too, an
        order is updated; a cart is patched whenever it is pushed (which also re-creates one
        Mailchimp lost), an order only when its fields changed.
        """
        if known.mailchimp_id is not None and _replaced(known.children, pushing.children):
            await self._delete(delete, body.id)
            await self._create(create, body)
        elif known.mailchimp_id is None:
            try:
                await self._create(create, body)
            except BadRequest as exc:
                if not already_exists(exc):
                    raise
                if cart:
                    await self._delete(delete, body.id)
                    await self._create(create, body)
                else:
                    await update()
        elif cart or known.fingerprint.content_hash != pushing.content_hash:
            try:
                await update()
            except NotFound:
                await self._create(create, body)

    async def _create(
        self, create: Callable[[str, Attributed], Awaitable[object]], body: Attributed
    ) -> None:
        """Create an order or cart; its customer's changed e-mail re-creates the customer
        first (`email_change.py`), so the order or cart lands on the customer's new address."""
        try:
            await self._create_once(create, body)
        except BadRequest as exc:
            if email_taken(exc) and body.customer.email_address:
                # Another customer holds the address (`email_holder.py`): named instead.
                holder = await holder_of(
                    self.client, self.ctx.store_id, body.customer.email_address
                )
                if holder is not None:
                    body = _named(body, holder.id, holder.email_address)
                await self._create_once(create, body)
                return
            if not refused_email_change(exc):
                raise
            placed = await recreate_from_ref(self.client, self.ctx.store_id, body.customer)
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
    if customer_id == body.customer.id:
        return body
    update = {"id": customer_id} | ({"email_address": email} if email else {})
    return body.model_copy(update={"customer": body.customer.model_copy(update=update)})


def _replaced(known: Mapping[str, str], pushing: Mapping[str, str]) -> bool:
    """Whether a part PATCH cannot change did: the lines, or a cart's customer. A part the
    record does not hold (a cart's customer, recorded only since it replaces the cart) is not
    compared: the carts pushed before are not all replaced at their next push."""
    return set(known) - set(pushing) != set() or any(
        known.get(part, digest) != digest for part, digest in pushing.items()
    )
