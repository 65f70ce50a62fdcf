"""Pushing customers, orders and abandoned carts (`Pusher`), each after what it depends on.

Dependencies are pushed inline before what needs them: the channel's store before anything, the
products of an order's or cart's lines before the order or cart (lanes cannot express "this
product before that order" across entities; pushing the missing dependency first can). The push
reads the entity from Saleor by id, so a redelivered or out-of-order webhook can only ever push
the current state; content whose fingerprint matches the last push is skipped. An order's new
lines go in its PATCH, a cart's replace it (`sale_sender.py`); carts are pushed by `cart_pusher.py`.
"""

from __future__ import annotations

import logging
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from addon.ecommerce import payloads, sale_payloads
from addon.ecommerce.cart_pusher import CartPusher, opted_out_if_forgotten
from addon.ecommerce.catalog import Known, admin_label
from addon.ecommerce.channel_presence import another_channel, ensure_listed
from addon.ecommerce.customer_stores import buyers_belong
from addon.ecommerce.email_change import announce_move, put_customer, wait_for_member_move
from addon.ecommerce.erased import order_addresses, placed_before_erasure, unchanged_since_erasure
from addon.ecommerce.fingerprints import fingerprint, order_body
from addon.ecommerce.models import QUIET, EntityKind, Fingerprint, SyncStatus
from addon.ecommerce.order_confirmation import (
    HELD_BACK,
    WAITING,
    as_told,
    automations_paused,
    confirm_then_pay,
    confirms,
    keeping_quiet,
    waited,
)
from addon.ecommerce.promo_usage import code_use, order_used_code
from addon.ecommerce.push_queue import enqueue_push, enqueue_stock_pushes
from addon.ecommerce.push_request import PushRequest
from addon.ecommerce.record_states import CART_CONVERTED, CART_CONVERTED_NOTE, converted_cart
from addon.ecommerce.repository import LedgerRepository
from addon.ecommerce.sale_sender import note_order_moved
from addon.ecommerce.saleor_schemas import SaleorOrder, SaleorUser
from addon.ecommerce.subjects import ORDER_LABEL_SEPARATOR
from addon.ecommerce.unlisted import ensure_unlisted
from addon.mailchimp import NotFound
from addon.saleor.versions import order_document

logger = logging.getLogger(__name__)


def order_label(order: SaleorOrder) -> str:
    """The number and the buyer, e.g. "#1042 — ann@example.com" (Activity names both)."""
    email = order.user_email or (order.user.email if order.user else None)
    return f"#{order.number}{ORDER_LABEL_SEPARATOR}{email}" if email else f"#{order.number}"


class Pusher(CartPusher):
    """Pushes one record (and, first, what it depends on) for one installation."""

    # customers

    async def push_customer(self, user_id: str) -> None:
        data = await self.saleor("ecommerce_customer", {"id": user_id})
        known = await self.known(EntityKind.CUSTOMER, user_id)
        if not data.get("user"):
            # Mailchimp keeps the customer: its orders still reference it.
            await self.removed(EntityKind.CUSTOMER, user_id, known.mailchimp_id, pushed=False)
            return
        user = SaleorUser.model_validate(data["user"])
        erased = await self._erased([user.email])
        if unchanged_since_erasure(user, erased):
            await self.held_back(EntityKind.CUSTOMER, user_id, known)  # `erased.py`
            return
        await self.remember_label(EntityKind.CUSTOMER, user_id, known, user.email)
        # Never opted in at an address the app erased (`payloads.OptInPolicy`).
        body = payloads.customer_input(user, self.ctx.opt_in.knowing(erased))
        digest = fingerprint(body)
        if known.holds(digest):
            return
        # Unchanged since the last confirmed push (a field Mailchimp does not take changed, or
        # the initial sync sent it): nothing is sent, the record is only synced again.
        held_by = known.mailchimp_id or body.id
        if not known.sent(digest):
            # PUT is an upsert keyed by the user's id; Mailchimp refuses a changed e-mail, so
            # that customer is deleted and created again (`email_change.py`), and an address
            # another customer holds puts the data on that one (`email_holder.py`). The user's
            # own id first, or the customer the last push put the data on, found again by the
            # address: another's id, changed to this user's new address, would move that
            # customer away from its own orders.
            first = partial(
                wait_for_member_move,
                self.services,
                self.ctx.installation_id,
                new_email=body.email_address,
                saleor_user_id=user_id,
            )
            put = partial(
                put_customer,
                self.client,
                self.ctx.store_id,
                held_by=known.mailchimp_id,
                first=first,
            )
            # An address Mailchimp forgot goes without its opt-in (`opted_out_if_forgotten`).
            sent, placed = await opted_out_if_forgotten(put, body)
            if sent is not body:
                body, digest = sent, fingerprint(sent)
            held_by = placed.customer_id
            await announce_move(
                self.services, self.ctx.installation_id, placed.held, body.email_address, user_id
            )
        await self.synced(EntityKind.CUSTOMER, user_id, held_by, digest)

    # orders

    async def push_order(self, order_id: str) -> None:
        document = order_document("ecommerce_order", self.ctx.saleor_version)
        data = await self.saleor(document, {"id": order_id})
        known = await self.known(EntityKind.ORDER, order_id)
        raw = data.get("order")
        order = SaleorOrder.model_validate(raw) if raw else None
        erased = await self._erased(order_addresses(order)) if order is not None else {}
        if order is not None and placed_before_erasure(order, erased):
            # Its customer was erased since (`erased.py`): Mailchimp keeps it as last sent, or
            # never gets it; its label (erased too) is left alone. Its products' stock moved
            # all the same (a fulfilment, a cancellation): they are pushed (no address), queued
            # with the outcome (a crash between the two would lose them).
            products = [ln.variant.product.id for ln in order.lines if ln.variant]
            await self.held_back(
                EntityKind.ORDER,
                order_id,
                known,
                f"#{order.number}",
                also=lambda session: self._queue_stock(session, products),
            )
            return
        if order is not None and (
            order.channel.slug != self.ctx.channel or another_channel(self.ctx, order.channel.id)
        ):
            # Moved by the deletion of its channel (`channelDelete` moves orders), or the
            # channel's slug changed: that one waits (`channel_presence.py`).
            await ensure_listed(self.services, self.ctx)
        if order is None or order.status == "DRAFT" or order.channel.slug != self.ctx.channel:
            if order is not None:
                await self.remember_label(EntityKind.ORDER, order_id, known, order_label(order))
            if order is None and known.mailchimp_id is not None:
                await self._delete(self.client.delete_order, known.mailchimp_id)
            await self.removed(EntityKind.ORDER, order_id)
            return
        label = order_label(order)
        # Written with the outcome, not before the send (a write transaction less on the way
        # to Mailchimp): with `synced` on success, on its own when the push fails, so a record
        # that ends in quarantine is recognisable too.
        stock: list[str] = []
        try:
            body = await self._order_body(order, known, self.ctx.opt_in.knowing(erased))
            if body is None:
                await self.remember_label(EntityKind.ORDER, order_id, known, label)
                if sale_payloads.tentative(order):
                    await self.removed(
                        EntityKind.ORDER, order_id, note=HELD_BACK, fingerprint=WAITING
                    )
                else:
                    await self.removed(EntityKind.ORDER, order_id)
                await self._placed_unsent(order_id, order)
                return
            paused = False
            if known.mailchimp_id is None:  # only an order new to Mailchimp may go quiet
                async with self.services.db.session() as session:
                    paused = await automations_paused(self.services, session, self.ctx)
            held_back = waited(known.note, known.children)
            body, quiet = as_told(
                order, body, known.children, known.mailchimp_id, paused=paused, held=held_back
            )
            pushing = keeping_quiet(fingerprint(body), quiet)
            if not body.lines:
                # No line can be referenced any more (deleted variants without
                # `productVariantId`): Mailchimp keeps the lines it holds (hidden products still
                # resolve), its status and totals still follow Saleor's (a PATCH; the lines'
                # hash stays what it holds).
                # (the statuses it is still not told are this push's: `as_told`).
                pushing = keeping_quiet(
                    Fingerprint(
                        pushing.content_hash,
                        {k: v for k, v in known.children.items() if k != QUIET},
                    ),
                    quiet,
                )
            if known.holds(pushing):
                await self.remember_label(EntityKind.ORDER, order_id, known, label)
                await self._convert_cart(order)
                return
            stock = [ln.variant.product.id for ln in order.lines if ln.variant]
            await self.shopper(order.user.id if order.user else None)
            create = (
                partial(confirm_then_pay, self.client)
                if confirms(known.mailchimp_id, body, self.ctx.resending, order.placed, held_back)
                else self.client.create_order
            )
            try:
                # An address Mailchimp forgot goes without its opt-in (`opted_out_if_forgotten`;
                # the customer is no part of an order's fingerprint).
                body, moved = await opted_out_if_forgotten(
                    partial(self._send_order, known, pushing, create=create), body
                )
            except NotFound:
                if body.lines:
                    raise
                # Mailchimp lost it and none of its lines can be referenced: it cannot be
                # created again (Mailchimp answers an order without lines 404,
                # mailchimp/mailchimp-client-lib-codegen#127).
                await self.remember_label(EntityKind.ORDER, order_id, known, label)
                await self.removed(EntityKind.ORDER, order_id)
                return
        except Exception:
            await self.remember_label(EntityKind.ORDER, order_id, known, label)
            await self._refresh_stock(stock)
            await self._convert_cart_anyway(order)
            raise
        moved_from = (known.label or "") if moved else None
        await self._order_synced(order_id, order, body.id, pushing, label, stock, moved_from)
        await self._convert_cart(order)

    async def _order_body(
        self, order: SaleorOrder, known: Known, opt_in: payloads.OptInPolicy
    ) -> sale_payloads.TrackedOrderInput | None:
        """The order's body, once its store and the products of its lines are in Mailchimp
        (`opt_in`: the channel's policy, knowing which of its addresses the app erased)."""
        await self.ensure_store(order.channel)
        refs = [(ln.variant.product.id, ln.variant.id) for ln in order.lines if ln.variant]
        available = await self.ensure_products(refs, orders=True)
        available |= await ensure_unlisted(self, order.lines, available)
        orphans = await self.ensure_orphans(order.lines)
        return order_body(
            order,
            available,
            opt_in,
            order_id=sale_payloads.order_id(order, known.mailchimp_id, self.ctx.uuid_orders_before),
            held=known.mailchimp_id is not None,
            orphans=orphans,
            tracking=self.ctx.tracking,
        )

    async def _order_synced(
        self,
        order_id: str,
        order: SaleorOrder,
        held: str,
        pushing: Fingerprint,
        label: str,
        stock: list[str],
        moved_from: str | None = None,
    ) -> None:
        """`synced` with its label, its code's use counted (`promo_usage.py`) and its products'
        stock refresh queued, in one transaction: a crash between them would lose the use (the
        retry finds the order synced). `moved_from`: the label it had before it was re-created
        under its corrected address, which Activity then tells (`note_order_moved`)."""
        async with self.services.db.transaction() as session:
            record = await LedgerRepository(session).settle(
                self.ctx.installation_id,
                self.ctx.channel,
                EntityKind.ORDER,
                order_id,
                SyncStatus.SYNCED,
                mailchimp_id=held,
                fingerprint=pushing,
            )
            record.label = admin_label(label) or record.label
            # Products before promo rules, as a burst of orders records them
            # (`ledger_statements.locking`).
            await self._queue_stock(session, stock)
            await order_used_code(
                session,
                self.ctx.installation_id,
                self.ctx.channel,
                code_use(order_id, order),
            )
            await self._buyer_belongs(session, order)
            email = order.user.email if order.user else order.user_email
            if moved_from is not None and email:
                await note_order_moved(
                    session,
                    self.ctx.installation_id,
                    self.ctx.channel,
                    order_id,
                    order.number,
                    moved_from,
                    email,
                    quiet=pushing.children.get(QUIET),
                )

    async def _placed_unsent(self, order_id: str, order: SaleorOrder) -> None:
        """An order Mailchimp does not take (not confirmed or paid yet, no e-mail, no usable
        line) was placed all the same: its products' stock moved, its code was used, and its
        checkout's abandoned cart must go."""
        async with self.services.db.transaction() as session:
            stock = [ln.variant.product.id for ln in order.lines if ln.variant]
            await self._queue_stock(session, stock)
            await order_used_code(
                session, self.ctx.installation_id, self.ctx.channel, code_use(order_id, order)
            )
            await self._buyer_belongs(session, order)
        await self._convert_cart(order)

    async def _buyer_belongs(self, session: AsyncSession, order: SaleorOrder) -> None:
        """A registered buyer's record goes to this channel's store (`customer_stores.py`)."""
        buyer = order.user.id if order.user else None
        await buyers_belong(session, self.ctx.installation_id, self.ctx.channel, [buyer])

    async def _refresh_stock(self, product_ids: list[str]) -> None:
        if product_ids:
            async with self.services.db.transaction() as session:
                await self._queue_stock(session, product_ids)

    async def _queue_stock(self, session: AsyncSession, product_ids: list[str]) -> None:
        """Queue the pushes of an order's products, in every tracked channel (warehouses are
        shared between channels: `enqueue_stock_pushes`): placing, cancelling or fulfilling an
        order moves their stock (allocated, released, shipped) and Saleor sends no product
        webhook for it, only PRODUCT_VARIANT_OUT_OF_STOCK / BACK_IN_STOCK at zero
        (saleor/warehouse/management.py `allocate_stocks`, `deallocate_stock`). Queued, not
        pushed inline: the order must not wait or fail for them, and a product's push sends
        only the variants whose inventory changed."""
        # Together: their records locked in id order (`ledger_statements.locking`).
        await enqueue_stock_pushes(session, self.ctx.installation_id, self.ctx.channel, product_ids)

    async def _convert_cart_anyway(self, order: SaleorOrder) -> None:
        """The checkout became this order whatever Mailchimp made of the order: its cart goes
        all the same (left, Mailchimp would e-mail the buyer about their abandoned cart until
        the daily sweep). Its failure is logged: the order's own is what the push reports."""
        try:
            await self._convert_cart(order)
        except Exception as exc:  # the order's failure is the one raised
            logger.warning("The cart of a placed order was not removed: %s", exc)

    async def _convert_cart(self, order: SaleorOrder) -> None:
        """The checkout became this order: its abandoned cart must go."""
        if not order.checkout_id:
            return
        known = await self.known(EntityKind.CART, order.checkout_id)
        if known.mailchimp_id is not None:
            await self._delete(self.client.delete_cart, known.mailchimp_id)
        # Marked converted unless it is already: one removed as paid too (its checkout kept by
        # `orderCreateFromCheckout(removeCheckout: false)` reads unpaid once its transactions
        # moved to the order, and the cart sweep would take it for a payment released).
        if known.mailchimp_id is not None or CART_CONVERTED not in known.children:
            await self.removed(
                EntityKind.CART,
                order.checkout_id,
                note=CART_CONVERTED_NOTE,
                fingerprint=converted_cart(),
            )
            # A push of the cart running meanwhile (in its own lane) may send it after this:
            # the cart's push, queued behind it, finds the checkout gone and deletes it.
            async with self.services.db.transaction() as session:
                await enqueue_push(
                    session,
                    self.ctx.installation_id,
                    self.ctx.channel,
                    EntityKind.CART,
                    order.checkout_id,
                )

    async def push(self, request: PushRequest) -> None:
        if request.kind is EntityKind.STORE:
            await self.push_store()
            return
        await self.ensure_store()
        if request.kind is EntityKind.PRODUCT:
            await self.push_product(request.saleor_id)
        elif request.kind is EntityKind.CUSTOMER:
            await self.push_customer(request.saleor_id)
        elif request.kind is EntityKind.ORDER:
            await self.push_order(request.saleor_id)
        else:
            await self.push_cart(request.saleor_id)
