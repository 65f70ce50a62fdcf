"""Orders in a burst: which of them a Mailchimp batch can carry, and what it sends for them.

An order's own push (`pusher.Pusher.push_order`) first makes sure of what the order depends on
(the store, its lines' products, placeholders of deleted variants), edits the lines of an order
whose lines changed (its PATCH names them, then each line gone is deleted, which needs the
PATCH's answer: `sale_sender.py`), re-creates one whose shopper changed, and converts the
checkout it came from (its abandoned cart deleted). A batch promises no order between its
operations, nor between batches, so an order goes into one only when its operation is
self-sufficient:

* every line's product is in Mailchimp with that line's variant (its ledger record holds the
  variant's id with a known hash, and is neither quarantined nor removed; a pending push of it
  only updates what Mailchimp holds), and every deleted variant's product is there too
  (`orphans.py`): nothing to create first;
* the channel's name and currency are the store's (else its push updates the store first);
* a new order is created (POST, as the initial sync sends it; a new paid one `pending`, then
  made `paid` by a push of its own, as live sync sends it: `order_confirmation.py`); one
  Mailchimp holds with the same lines gets the PATCH its push would send, only when its
  fields changed;
* the checkout it came from has no cart in Mailchimp: its ledger record is converted when the
  batch is recorded, as the push converts it (a cart Mailchimp holds must be deleted: the
  push does it).

Anything else goes `alone`: gone, a draft (Saleor's `orders` lists none), another channel's,
changed lines or shopper, a product or placeholder to create first, a cart to delete, no line
Mailchimp can take. Bodies and fingerprints come from live sync's builders
(`fingerprints.order_body`, `sale_payloads.order_patch`), so the ledger records what a push
records. What the push does besides sending is done when the batch is recorded
(`BurstPlan.effects`): its products' stock pushes queued (`Pusher._refresh_stock`). Its voucher
code is counted once (`promo_usage`) when its push would count it: when the batch is recorded
for an order with nothing to send, else when Mailchimp confirmed its operation
(`burst_apply.code_use`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.types import utcnow
from addon.ecommerce import payloads, sale_payloads
from addon.ecommerce.burst_plan import BurstPlan, Planned, operation_id, sent
from addon.ecommerce.channel_presence import another_channel
from addon.ecommerce.context import Context
from addon.ecommerce.customer_stores import buyers_belong
from addon.ecommerce.erased import order_addresses, placed_before_erasure
from addon.ecommerce.fingerprints import fingerprint, order_body
from addon.ecommerce.models import EntityKind, SyncRecord, SyncStatus
from addon.ecommerce.order_confirmation import as_told, confirms, keeping_quiet, waited
from addon.ecommerce.orphans import orphan_lines
from addon.ecommerce.promo_usage import code_use, orders_used_codes
from addon.ecommerce.push_queue import enqueue_pushes, enqueue_stock_pushes
from addon.ecommerce.pusher import order_label
from addon.ecommerce.record_states import (
    CART_CONVERTED,
    CART_CONVERTED_NOTE,
    converted_cart,
    settled,
)
from addon.ecommerce.repository import LedgerRepository
from addon.ecommerce.saleor_schemas import ChannelRef, SaleorOrder
from addon.ecommerce.variant_ledger import VariantLedger
from addon.mailchimp import batches
from addon.mailchimp.models import BatchOperation
from addon.privacy.erased import NONE_ERASED, Erased, erased_among


class _Ledger:
    """What the ledger says of the orders' dependencies: their products, the products of their
    deleted variants, and the carts of their checkouts; and which of their addresses were
    erased (four queries for the whole page)."""

    def __init__(
        self,
        products: Mapping[str, SyncRecord],
        orphans: Mapping[str, str],
        carts: Mapping[str, SyncRecord],
        erased: Erased = NONE_ERASED,
    ) -> None:
        self.products, self.orphans, self.carts = products, orphans, carts
        self.erased = erased

    @classmethod
    async def load(cls, session: AsyncSession, ctx: Context, orders: list[SaleorOrder]) -> _Ledger:
        ledger = VariantLedger(session)
        scope = (ctx.installation_id, ctx.channel)
        product_ids = {ln.variant.product.id for o in orders for ln in o.lines if ln.variant}
        deleted = {variant for o in orders for variant in orphan_lines(o.lines)}
        checkouts = {o.checkout_id for o in orders if o.checkout_id}
        return cls(
            await ledger.by_saleor_ids(*scope, EntityKind.PRODUCT, product_ids),
            await ledger.orphan_products(*scope, deleted),
            await ledger.by_saleor_ids(*scope, EntityKind.CART, checkouts),
            await erased_among(
                session, ctx.installation_id, [a for o in orders for a in order_addresses(o)]
            ),
        )

    def available(self, order: SaleorOrder) -> set[str] | None:
        """The Mailchimp variant ids the order's lines may reference, as its push's
        `ensure_products` finds them; None when a product must be pushed first."""
        wanted: dict[str, set[str]] = {}
        for line in order.lines:
            if line.variant is not None:
                variant = payloads.mailchimp_id(line.variant.id)
                wanted.setdefault(line.variant.product.id, set()).add(variant)
        available: set[str] = set()
        for product_id, variants in wanted.items():
            record = self.products.get(product_id)
            if record is None or record.mailchimp_id is None:
                return None
            if record.status is SyncStatus.QUARANTINED:
                return None
            # Removed (no longer sold, or deleted): hidden in Mailchimp, its variants kept with
            # their content unknown, and still referenced by orders (`available_variants`).
            removed = record.status is SyncStatus.REMOVED
            held = set(record.children or {}) if removed else _held_variants(record)
            if not variants <= held:
                return None  # a variant Mailchimp may lack: the product's push sends it
            available |= held
        return available

    def orphans_of(self, order: SaleorOrder) -> dict[str, str] | None:
        """The Mailchimp products of its deleted variants (`ensure_orphans`); None when a
        placeholder must be created first."""
        deleted = orphan_lines(order.lines)
        if not set(deleted) <= set(self.orphans):
            return None
        return {variant: self.orphans[variant] for variant in deleted}

    def cart_held(self, order: SaleorOrder) -> bool:
        cart = self.carts.get(order.checkout_id) if order.checkout_id else None
        return cart is not None and cart.mailchimp_id is not None


def _held_variants(record: SyncRecord) -> set[str]:
    """The variants Mailchimp confirmed holding: those with a known hash. One recorded as
    unknown ("", `Fingerprint.unknown`) may never have reached it: a batch that sent it
    failed, or answered "already exists" for the product; the product's own push, pending
    until it sends it, is what the order's push would wait for (`ensure_products`)."""
    return {variant for variant, digest in (record.children or {}).items() if digest}


async def plan_orders(
    session: AsyncSession,
    ctx: Context,
    saleor_ids: list[str],
    nodes: dict[str, dict[str, Any]],
    known: dict[str, SyncRecord],
    *,
    paused: bool,
) -> BurstPlan:
    """Plan each order from its node as Saleor serves it now (absent: deleted, or a draft)
    and what the ledger says Mailchimp holds of it and of what it depends on (`paused`: the
    store's automations are, `order_confirmation.automations_paused`)."""
    orders = {saleor_id: SaleorOrder.model_validate(node) for saleor_id, node in nodes.items()}
    ledger = await _Ledger.load(session, ctx, list(orders.values()))
    result = BurstPlan()
    sending: list[SaleorOrder] = []
    for saleor_id in saleor_ids:
        order, record = orders.get(saleor_id), known.get(saleor_id)
        item = _order(ctx, order, record, ledger, paused) if order is not None else None
        if item is None or order is None:
            result.alone.append(saleor_id)
            continue
        unchanged = sent(record, item.fingerprint)
        if unchanged:
            result.unchanged.append(item)  # Mailchimp holds it: only the ledger catches up
        else:
            item.operations = _operations(ctx, item, record)
            (result.planned if item.operations else result.unchanged).append(item)
        if not (unchanged and record is not None and record.status is SyncStatus.SYNCED):
            sending.append(order)  # what its push does unless the ledger says it holds it
    if sending:
        # A voucher's use is counted when the order is recorded synced: here when nothing
        # is sent for it (as its push counts it), else once Mailchimp confirmed it.
        planned = {item.saleor_id for item in result.planned}
        counted = [order for order in sending if order.id not in planned]
        result.effects.append(_effects(ctx, sending, counted, ledger))
    return result


def _order(
    ctx: Context, order: SaleorOrder, record: SyncRecord | None, ledger: _Ledger, paused: bool
) -> Planned | None:
    """The order as its push would build it, or None when only its push can send it."""
    if order.status == "DRAFT" or order.channel.slug != ctx.channel:
        return None  # its push records it removed
    if another_channel(ctx, order.channel.id):
        return None  # its slug is another channel's now: its push finds the channel gone
    if _store_changed(ctx, order.channel) or ledger.cart_held(order):
        return None
    if placed_before_erasure(order, ledger.erased):
        return None  # its push holds it back (`erased.py`)
    available, orphans = ledger.available(order), ledger.orphans_of(order)
    if available is None or orphans is None:
        return None
    held_as = record.mailchimp_id if record is not None else None
    held = held_as is not None
    body = order_body(
        order,
        available,
        ctx.opt_in.knowing(ledger.erased),  # never opted in at an erased address
        order_id=sale_payloads.order_id(order, held_as, ctx.uuid_orders_before),
        held=held,
        orphans=orphans,
        tracking=ctx.tracking,
    )
    if body is None or not body.lines:
        return None  # removed, or lines kept as Mailchimp holds them: its push decides
    # A new paid order is created `pending` (Mailchimp's Order Confirmation), then made `paid`
    # by a push of its own once the batch confirmed it (`order_confirmation.py`): a batch
    # cannot order the two, so the ledger records what was sent and the push finds it unpaid.
    note = record.last_error if record is not None else None  # `HELD_BACK`, say
    known = record.children if record is not None else {}
    held_back = waited(note, known)
    body, quiet = as_told(order, body, known, held_as, paused=paused, held=held_back)
    then_paid = confirms(held_as, body, ctx.resending, order.placed, held_back)
    if then_paid:
        body = body.model_copy(update={"financial_status": "pending"})
    pushing = keeping_quiet(fingerprint(body), quiet)
    if held and record is not None and record.children != pushing.children:
        # Its lines changed: its push patches them and deletes those gone (`sale_sender.py`);
        # or whom it belongs to (its push re-creates it if it moved, `order_moved`).
        return None
    label = order_label(order)
    voucher = (
        (order.voucher_code, order.voucher.id, order.status == "EXPIRED")
        if order.voucher_code and order.voucher
        else None
    )
    return Planned(
        order.id,
        body.id,
        pushing,
        label,
        body=body,
        exists_is_held=False,
        voucher=voucher,
        then_paid=then_paid,
    )


def _store_changed(ctx: Context, channel: ChannelRef) -> bool:
    """The channel's name or currency changed: its push updates the store first
    (`CatalogPusher.ensure_store`)."""
    return bool(
        (channel.name and channel.name != ctx.store_name)
        or (channel.currency_code and channel.currency_code != ctx.store_currency)
    )


def _operations(ctx: Context, item: Planned, record: SyncRecord | None) -> list[BatchOperation]:
    """A new order created; one Mailchimp holds (same lines) patched when its fields changed
    (`Pusher._send`)."""
    body = item.body
    assert isinstance(body, sale_payloads.TrackedOrderInput)
    op_id = operation_id(item.saleor_id, 0)
    if record is None or record.mailchimp_id is None:
        item.first_creates = True
        return [batches.create_order(ctx.store_id, body, operation_id=op_id)]
    if record.content_hash == item.fingerprint.content_hash:
        return []
    item.fields_only = True  # its lines are those Mailchimp holds
    patch = sale_payloads.order_patch(body)
    return [batches.update_order(ctx.store_id, body.id, patch, operation_id=op_id)]


def _effects(
    ctx: Context, orders: list[SaleorOrder], counted: list[SaleorOrder], ledger: _Ledger
) -> Callable[[AsyncSession], Awaitable[None]]:
    """What the orders' pushes write besides their records, for the batch's transaction
    (the voucher uses of `counted`, those with nothing to send)."""

    async def effects(session: AsyncSession) -> None:
        scope = (ctx.installation_id, ctx.channel)
        # Placing, paying or fulfilling an order moves its products' stock with no product
        # webhook: their pushes are queued (`Pusher._refresh_stock`).
        products = [
            line.variant.product.id
            for order in orders
            for line in order.lines
            if line.variant is not None
        ]
        await enqueue_stock_pushes(session, ctx.installation_id, ctx.channel, products)
        # The checkout became this order: its cart (none in Mailchimp, or the order would have
        # gone alone) is converted (`Pusher._convert_cart`).
        checkouts = [o.checkout_id for o in orders if o.checkout_id and _unconverted(ledger, o)]
        # Locked: a cart its push records meanwhile is seen (below), not written over.
        carts = await LedgerRepository(session).get_or_create_many(
            *scope, EntityKind.CART, checkouts, locked=True
        )
        now = utcnow()
        for cart in carts.values():
            # Said converted, so a checkout Saleor keeps (`removeCheckout: false`) is no cart.
            holds = cart.mailchimp_id
            settled(cart, SyncStatus.REMOVED, holds, converted_cart(), None if holds else now)
            cart.last_error = CART_CONVERTED_NOTE
        # A cart its push sent meanwhile: that push again (its checkout, completed, is gone).
        held = [
            (ctx.channel, EntityKind.CART, c.saleor_id) for c in carts.values() if c.mailchimp_id
        ]
        await enqueue_pushes(session, ctx.installation_id, held)
        uses = [code_use(order.id, order) for order in counted]
        await orders_used_codes(session, *scope, uses)
        # Their registered buyers' records go to this channel's store (`customer_stores.py`).
        buyers = [order.user.id if order.user else None for order in orders]
        await buyers_belong(session, ctx.installation_id, ctx.channel, buyers)

    return effects


def _unconverted(ledger: _Ledger, order: SaleorOrder) -> bool:
    """Its checkout's cart is not recorded converted yet (`Pusher._convert_cart` records it):
    one removed as paid is not (a checkout Saleor keeps reads unpaid once its transactions
    moved to the order, and the cart sweep would take it for a payment released)."""
    cart = ledger.carts.get(order.checkout_id or "")
    return cart is None or CART_CONVERTED not in (cart.children or {})
