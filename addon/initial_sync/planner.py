"""Deciding, for a page read from Saleor, what goes into a Mailchimp batch.

Owns the rules of what is sent: live changes win (an entity whose ledger record waits for a live
push is skipped; so is one Mailchimp holds as live sync would send it, or, where only a push can
tell that, a customer or an order pushed live after its `updatedAt`; one Mailchimp has in
another version is handed to live sync, which updates it), other channels' orders are left out
(and, while several channels are tracked, customers who have not shopped in this one; a page's
buyers have their records' pushes queued: `addon.ecommerce.customer_stores`), and nodes outside
the slice being read are left to theirs (`slices`). The products a page's orders
name that Mailchimp never held are sent first (`products_first`). Bodies, usable order lines
and ledger fingerprints come from the same builders as live sync's
(`addon.ecommerce.fingerprints`), so live sync skips what the initial sync confirmed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from addon.db.types import utcnow
from addon.ecommerce import payloads
from addon.ecommerce.catalog import CatalogPusher
from addon.ecommerce.context import Context
from addon.ecommerce.erased import placed_before_erasure, unchanged_since_erasure
from addon.ecommerce.fingerprints import fingerprint, hidden_variants, order_body, with_hidden
from addon.ecommerce.ledger_statements import HeldRecord
from addon.ecommerce.models import EntityKind, Fingerprint, SyncStatus
from addon.ecommerce.offer_dates import next_look
from addon.ecommerce.order_confirmation import as_told, keeping_quiet
from addon.ecommerce.promo_usage import CodeUse, orders_used_codes
from addon.ecommerce.sale_payloads import order_id
from addon.ecommerce.saleor_schemas import SaleorOrder, SaleorProduct, SaleorUser
from addon.ecommerce.variant_ledger import VariantLedger
from addon.initial_sync.channel_customers import ChannelCustomers
from addon.initial_sync.products_first import ProductsFirst
from addon.initial_sync.slices import Slice, created_of
from addon.mailchimp import batches
from addon.mailchimp.models import BatchOperation
from addon.privacy.erased import NONE_ERASED, Erased, erased_among
from addon.services import Services


@dataclass(frozen=True)
class Planned:
    """One operation of a batch being built, and what its success means for the ledger."""

    operation: BatchOperation
    saleor_id: str
    mailchimp_id: str
    fingerprint: Fingerprint

    def meta(self) -> dict[str, Any]:
        """What the batch row keeps of it until its result is applied (JSON)."""
        return {
            "saleor_id": self.saleor_id,
            "mailchimp_id": self.mailchimp_id,
            "hash": self.fingerprint.content_hash,
            "children": self.fingerprint.children,
        }


@dataclass(frozen=True)
class Plan:
    """A page's operations, the ids handed to live sync instead, how many were skipped, how
    many belong to another slice (not counted at all: that slice reads them), and how many
    customers are not this channel's store's (`customer_stores`: taken off its total too)."""

    operations: list[Planned]
    live: list[str]
    skipped: int
    foreign: int = 0
    elsewhere: int = 0


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _orphan_variants(node: dict[str, Any]) -> set[str]:
    """Mailchimp ids of an order's deleted variants (lines with no variant, see
    `addon.ecommerce.orphans`)."""
    return {
        payloads.mailchimp_id(line["productVariantId"])
        for line in node.get("lines") or []
        if not line.get("variant") and line.get("productVariantId")
    }


def _products(node: dict[str, Any]) -> set[str]:
    """Saleor ids of the products of an order's lines (those whose variant still exists)."""
    return {
        line["variant"]["product"]["id"] for line in node.get("lines") or [] if line.get("variant")
    }


def _holds(known: HeldRecord, item: Planned | None) -> bool:
    """Mailchimp holds exactly the product this sync would send: what live sync's push of it
    compares (`CatalogPusher.push_product`), variants it holds hidden kept. Not the product's
    `updatedAt`: Saleor keeps it through a stock edit, a price and a publication (rows of their
    own), so a change whose webhook never reached the app would stay out of Mailchimp."""
    if item is None or known.status is not SyncStatus.SYNCED:
        return False
    return known.fingerprint == with_hidden(item.fingerprint, hidden_variants(known.children))


def _addresses(node: dict[str, Any]) -> list[str]:
    """The addresses an order node (`erased.order_addresses`, before validation) or a customer
    node names."""
    user = node.get("user") or {}
    return [a for a in (node.get("email"), user.get("email"), node.get("userEmail")) if a]


class Planner:
    def __init__(self, services: Services, context: Context, catalog: CatalogPusher) -> None:
        self.services = services
        self.ctx = context
        # Sends the products of a page's orders Mailchimp never held (`products_first.py`).
        self.products_first = ProductsFirst(catalog)
        # The pages of a step's slices are planned one at a time (their reads from Saleor
        # still overlap): a session each at once would open a database connection per slice
        # (on SQLite a thread with its own page cache, kept in the pool), so the worker's
        # memory would grow with the slices and the size of the store.
        self._lookups = asyncio.Lock()
        # Several channels tracked: whose customers this store gets (`channel_customers.py`).
        self.customers = ChannelCustomers(services, context, self._lookups)

    async def plan(self, kind: EntityKind, nodes: list[dict[str, Any]], piece: Slice) -> Plan:
        installation_id, channel = self.ctx.installation_id, self.ctx.channel
        skipped = foreign = 0
        if piece.bounded:
            held = []
            for node in nodes:
                created = created_of(kind, node)
                if created is None or piece.holds(created):
                    held.append(node)
                elif piece.end is not None and created >= piece.end:
                    foreign += 1  # the next slice's (a guard: the filters partition)
                else:
                    skipped += 1  # before `orders_since`: a day filter's first day
            nodes = held
        elsewhere = 0
        if kind is EntityKind.CUSTOMER:
            nodes, elsewhere = await self.customers.of_store(nodes)
        async with self._lookups, self.services.db.session() as session:
            ledger = VariantLedger(session)
            seen = await ledger.held_by_saleor_ids(
                installation_id, channel, kind, [str(node["id"]) for node in nodes]
            )
            available: set[str] = set()
            orphans: dict[str, str] = {}
            never_held: set[str] = set()
            # The addresses erased (`ecommerce/erased.py`): of an order's customer, or a
            # customer's own; products name none.
            erased = NONE_ERASED
            if kind is not EntityKind.PRODUCT:
                erased = await erased_among(
                    session, installation_id, [a for node in nodes for a in _addresses(node)]
                )
            if kind is EntityKind.ORDER:
                # Mailchimp variant ids an order line may reference (its product was synced).
                products = {product for node in nodes for product in _products(node)}
                available = await ledger.available_variants(installation_id, channel, products)
                never_held = await ledger.never_held(installation_id, channel, products)
                # And the Mailchimp products of deleted variants (see addon.ecommerce.orphans).
                deleted = {v for node in nodes for v in _orphan_variants(node)}
                orphans = await ledger.orphan_products(installation_id, channel, deleted)
        unsent: set[str] = set()
        if never_held:
            of_channel = [n for n in nodes if (n.get("channel") or {}).get("slug") == channel]
            sent, unsent = await self.products_first.send(of_channel, never_held)
            available |= sent
        now = utcnow()
        operations: list[Planned] = []
        live: list[str] = []
        for node in nodes:
            saleor_id = str(node["id"])
            known = seen.get(saleor_id)
            if known is not None and known.status is SyncStatus.PENDING:
                skipped += 1  # a live push is queued: it sends the current state
                continue
            if kind is EntityKind.PRODUCT:
                product = SaleorProduct.model_validate(node)
                item = self._product(product, now)
                if known is not None and _holds(known, item):
                    skipped += 1  # Mailchimp holds what would be sent
                elif known is not None and known.mailchimp_id is not None:
                    live.append(saleor_id)  # Mailchimp has another version: live updates it
                elif next_look(product, channel, now) is not None:
                    # Goes on offer, or its preorder ends, at a time to come: live sync's push
                    # looks again then.
                    live.append(saleor_id)
                elif item is None:
                    skipped += 1
                else:
                    operations.append(item)
                continue
            if known is not None and known.mailchimp_id is not None:
                pushed = self._pushed(kind, node, known, available, orphans, erased)
                if pushed is not None:
                    if known.status is SyncStatus.SYNCED and known.fingerprint == pushed:
                        skipped += 1  # Mailchimp holds what live sync would send
                    else:
                        live.append(saleor_id)  # Mailchimp has another version: live updates
                    continue
            if known is not None:
                updated = _parse_time(node.get("updatedAt"))
                fresh = known.pushed_at is not None and (
                    updated is None or known.pushed_at >= updated
                )
                if known.status is SyncStatus.SYNCED and fresh:
                    skipped += 1  # pushed live since its last change
                    continue
                if known.mailchimp_id is not None:
                    live.append(saleor_id)  # Mailchimp has an older version: live updates
                    continue
            ours = (node.get("channel") or {}).get("slug") == self.ctx.channel
            if kind is EntityKind.ORDER and ours and not _orphan_variants(node) <= set(orphans):
                # A deleted variant Mailchimp never held: live sync creates its placeholder
                # product first (`CatalogPusher.ensure_orphans`), then the order.
                live.append(saleor_id)
                continue
            if kind is EntityKind.ORDER and ours and _products(node) & unsent:
                # A product Mailchimp never held that could not be sent first: live sync's push
                # retries it, then sends the order with its line; the sync waits for that push
                # before it clears `is_syncing` (`handoff.py`).
                live.append(saleor_id)
                continue
            item = self._build(kind, node, available, orphans, erased)
            if item is None:
                skipped += 1
            else:
                operations.append(item)
        if kind is EntityKind.ORDER:
            await self._count_codes(nodes, erased)
            await self.customers.buyers_belong(nodes)
        return Plan(operations, live, skipped, foreign, elsewhere)

    async def _count_codes(self, nodes: list[dict[str, Any]], erased: Erased) -> None:
        """The channel's orders placed with a voucher code count towards its usage, as live
        pushes count them (`addon.ecommerce.promo_usage`; once per order), whether Mailchimp
        takes them or not (one not confirmed or paid yet, say): not drafts, not those of an
        erased address."""
        used = [
            CodeUse(
                str(node["id"]),
                node.get("voucherCode"),
                (node.get("voucher") or {}).get("id"),
                expired=node.get("status") == "EXPIRED",
            )
            for node in nodes
            if node.get("voucherCode")
            and node.get("voucher")
            and node.get("status") != "DRAFT"
            and (node.get("channel") or {}).get("slug") == self.ctx.channel
            and not (erased and placed_before_erasure(SaleorOrder.model_validate(node), erased))
        ]
        if not used:
            return
        async with self.services.db.transaction() as session:
            await orders_used_codes(session, self.ctx.installation_id, self.ctx.channel, used)

    def _product(self, product: SaleorProduct, now: datetime) -> Planned | None:
        """The product's creation (POST), with the body live sync would push (None: not sold
        in the channel)."""
        body = payloads.product_input(
            product,
            self.ctx.channel,
            self.ctx.product_options,
            currency=self.ctx.store_currency,
            now=now,
        )
        if body is None:
            return None
        # One dump for the operation and the fingerprint.
        dumped = body.body()
        operation = batches.create_product(
            self.ctx.store_id, body, operation_id=product.id, dumped=dumped
        )
        return Planned(operation, product.id, body.id, fingerprint(body, dumped))

    def _pushed(
        self,
        kind: EntityKind,
        node: dict[str, Any],
        known: HeldRecord,
        available: set[str],
        orphans: dict[str, str],
        erased: Erased,
    ) -> Fingerprint | None:
        """The fingerprint live sync's push of a customer or an order Mailchimp holds would
        record (`Pusher.push_customer`, `Pusher.push_order`), to compare with the record's; None
        where only its push can tell (an erased address, a draft, another channel's, no line
        left to reference). Not its `updatedAt`: Saleor keeps an order's through a tracking
        number (`FulfillmentUpdateTracking` saves the fulfilment alone,
        saleor/graphql/order/mutations/fulfillment_update_tracking.py) and a customer's through
        a metadata write in some versions (`versions.metadata_bumps_updated` in the sandbox),
        so a change whose webhook never reached the app would stay out of Mailchimp."""
        if kind is EntityKind.CUSTOMER:
            user = SaleorUser.model_validate(node)
            if erased and unchanged_since_erasure(user, erased):
                return None
            return fingerprint(payloads.customer_input(user, self.ctx.opt_in.knowing(erased)))
        order = SaleorOrder.model_validate(node)
        if order.status == "DRAFT" or order.channel.slug != self.ctx.channel:
            return None
        if erased and placed_before_erasure(order, erased):
            return None
        body = order_body(
            order,
            available,
            self.ctx.opt_in.knowing(erased),
            order_id=order_id(order, known.mailchimp_id, self.ctx.uuid_orders_before),
            held=True,
            orphans=orphans,
            tracking=self.ctx.tracking,
        )
        if body is None or not body.lines:
            return None
        # The statuses it was not told stay untold (`as_told`: decided when it was created).
        body, quiet = as_told(
            order, body, known.children, known.mailchimp_id, paused=False, held=False
        )
        return keeping_quiet(fingerprint(body), quiet)

    def _build(
        self,
        kind: EntityKind,
        node: dict[str, Any],
        available: set[str],
        orphans: dict[str, str],
        erased: Erased = NONE_ERASED,
    ) -> Planned | None:
        """The customer's or order's operation, with the body live sync would push (None:
        nothing to send). Orders are created (POST); customers are PUT to their id
        (idempotent). Products: `_product`."""
        saleor_id, store_id = str(node["id"]), self.ctx.store_id
        if kind is EntityKind.CUSTOMER:
            user = SaleorUser.model_validate(node)
            if unchanged_since_erasure(user, erased):
                return None
            # Never opted in at an address the app erased (`payloads.OptInPolicy`).
            customer = payloads.customer_input(user, self.ctx.opt_in.knowing(erased))
            dumped = customer.body()
            operation = batches.upsert_customer(
                store_id, customer, operation_id=saleor_id, dumped=dumped
            )
            return Planned(operation, saleor_id, customer.id, fingerprint(customer, dumped))
        order = SaleorOrder.model_validate(node)
        if order.channel.slug != self.ctx.channel or placed_before_erasure(order, erased):
            return None
        order_input = order_body(
            order,
            available,
            self.ctx.opt_in.knowing(erased),
            # Not held by Mailchimp, as far as the ledger knows (those go to live sync).
            order_id=order_id(order, None, self.ctx.uuid_orders_before),
            orphans=orphans,
            tracking=self.ctx.tracking,
        )
        if order_input is None:
            return None
        dumped = order_input.body()
        operation = batches.create_order(
            store_id, order_input, operation_id=saleor_id, dumped=dumped
        )
        return Planned(operation, saleor_id, order_input.id, fingerprint(order_input, dumped))
