"""What a burst sends for each record it re-read from Saleor: the batch operations live sync's
push would have sent one by one (`catalog.py`, `pusher.py`), from the same builders and with
the same fingerprints, so live sync afterwards skips what a batch confirmed.

A record is *planned* (its operations go into the batch), *unchanged* (Mailchimp holds this
content already: only the ledger is settled) or handed to a push of its own (*alone*): gone from
Saleor or from the channel, or a change a batch cannot express (a product's variant no longer
sold is hidden and the carts rechecked, which only the push does). A product taken off offer is
planned, and its batch rechecks the channel's carts once (`cart_recheck`). Orders are planned
in `burst_orders.py` with these pieces.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.types import utcnow
from addon.ecommerce import payloads
from addon.ecommerce.cart_recheck import recheck_carts
from addon.ecommerce.channel_presence import another_channel, listing_id
from addon.ecommerce.context import Context
from addon.ecommerce.erased import unchanged_since_erasure
from addon.ecommerce.fingerprints import fingerprint, hidden_variants, with_hidden
from addon.ecommerce.ledger_statements import HeldRecord
from addon.ecommerce.models import EntityKind, Fingerprint, SyncRecord, SyncStatus
from addon.ecommerce.offer_dates import next_look
from addon.ecommerce.publication import on_offer
from addon.ecommerce.saleor_schemas import SaleorProduct, SaleorUser
from addon.mailchimp import CustomerInput, OrderInput, ProductInput, batches
from addon.mailchimp.models import BatchOperation
from addon.privacy.erased import NONE_ERASED, Erased

# Kinds a burst sends as batches. Carts keep one push each (debounced, so rarely a burst; a
# cart's lines change often, which replaces it). An order whose push would first create what it
# depends on, replace its lines or delete its cart goes alone (`burst_orders.py`).
BATCHED = (EntityKind.PRODUCT, EntityKind.CUSTOMER, EntityKind.ORDER)


@dataclass
class Planned:
    """One record's operations, and what their success means for its ledger record."""

    saleor_id: str
    mailchimp_id: str
    fingerprint: Fingerprint
    label: str | None
    operations: list[BatchOperation] = field(default_factory=list)
    # What was built to plan it (its operations are built from it, not built again).
    body: ProductInput | CustomerInput | OrderInput | None = None
    # Whether "already exists" in answer to its creation means Mailchimp holds it (its push
    # then sends all of it again). Not for an order: its push creates it, and on "already
    # exists" patches it, as a single push does (its lines with it, when they are unknown).
    exists_is_held: bool = True
    # Its operations send its fields only (an order's PATCH): whatever they answer, the
    # children Mailchimp holds are still those the ledger records.
    fields_only: bool = False
    # Its first operation creates it (a POST; a customer's PUT, an upsert): once confirmed,
    # Mailchimp holds it even if the ledger meanwhile recorded it gone (`burst_apply.py`).
    first_creates: bool = False
    # An order's voucher code and voucher id: its use is counted once the order is confirmed.
    voucher: tuple[str, str, bool] | None = None  # code, voucher id, expired
    # A new paid order created `pending`: once confirmed, a push of its own makes it `paid`.
    then_paid: bool = False
    # A product Mailchimp holds taken off offer: the channel's carts are rechecked
    # (`cart_recheck`), as its push would.
    recheck_carts: bool = False

    def meta(self) -> dict[str, Any]:
        """What the batch row keeps of it until its results are applied (JSON)."""
        return {
            "mailchimp_id": self.mailchimp_id,
            "hash": self.fingerprint.content_hash,
            "children": self.fingerprint.children,
            "operations": [op.operation_id for op in self.operations],
            "creates": bool(self.operations)
            and self.operations[0].method == "POST"
            and self.exists_is_held,
            "fields_only": self.fields_only,
            "first_creates": self.first_creates,
            "voucher": list(self.voucher) if self.voucher else None,
            "then_paid": self.then_paid,
        }


@dataclass
class BurstPlan:
    planned: list[Planned] = field(default_factory=list)
    unchanged: list[Planned] = field(default_factory=list)
    alone: list[str] = field(default_factory=list)
    # What the pushes would also have written besides their records (an order's cart converted,
    # its products' stock pushes queued), run in the transaction that records the batch.
    effects: list[Callable[[AsyncSession], Awaitable[None]]] = field(default_factory=list)

    # `metas()`, once computed.
    _metas: dict[str, dict[str, Any]] | None = field(default=None, repr=False)

    @property
    def operations(self) -> list[BatchOperation]:
        return [op for item in self.planned for op in item.operations]

    def metas(self) -> dict[str, dict[str, Any]]:
        """Each planned record's `meta()` by Saleor id, computed once (the batch's row records
        them when it is sent and again once it is submitted); `planned` is final by then."""
        if self._metas is None:
            self._metas = {item.saleor_id: item.meta() for item in self.planned}
        return self._metas


def operation_id(saleor_id: str, index: int) -> str:
    return f"{saleor_id}#{index}"


def plan(
    ctx: Context,
    kind: EntityKind,
    saleor_ids: list[str],
    nodes: dict[str, dict[str, Any]],
    known: Mapping[str, SyncRecord | HeldRecord],
    erased: Erased = NONE_ERASED,
    cart_delay: float = 0.0,
) -> BurstPlan:
    """Plan each record from its node as Saleor serves it now (absent: gone or not sold in
    the channel) and what its ledger record says Mailchimp holds; `erased`: the customers'
    erased addresses (`erased.py`: their push holds such a customer back); `cart_delay`: the
    carts' debounce, should the batch take a product off offer (one recheck a batch)."""
    result = BurstPlan()
    for saleor_id in saleor_ids:
        node = nodes.get(saleor_id)
        record = known.get(saleor_id)
        item = None
        if node is not None:
            if kind is EntityKind.PRODUCT:
                item = _product(ctx, node, record)
            else:
                item = _customer(ctx, node, erased)
        if item is None:
            result.alone.append(saleor_id)
        elif sent(record, item.fingerprint):
            result.unchanged.append(item)
        else:
            if kind is EntityKind.PRODUCT and record is not None and record.mailchimp_id:
                item.operations = _product_update(ctx, record, item)
            else:
                item.operations = [_create(ctx, kind, item, saleor_id)]
                item.first_creates = True
            if item.operations:
                result.planned.append(item)
            else:
                result.unchanged.append(item)
    if any(item.recheck_carts for item in result.planned):
        installation_id, channel = ctx.installation_id, ctx.channel

        async def recheck(session: AsyncSession) -> None:
            await recheck_carts(session, installation_id, channel, cart_delay)

        result.effects.append(recheck)
    return result


def sent(record: SyncRecord | HeldRecord | None, pushing: Fingerprint) -> bool:
    """Mailchimp holds exactly this content already (`catalog.Known.sent`)."""
    if record is None or record.status is SyncStatus.REMOVED:
        return False
    return record.content_hash is not None and record.fingerprint == pushing


def _product(
    ctx: Context, node: dict[str, Any], record: SyncRecord | HeldRecord | None
) -> Planned | None:
    product = SaleorProduct.model_validate(node)
    now = utcnow()
    if another_channel(ctx, listing_id(product.channel_listings, ctx.channel)):
        return None  # its slug is another channel's now: its push finds the channel gone
    if next_look(product, ctx.channel, now) is not None:
        return None  # goes on offer, or ends a preorder, at a time to come: its push looks again
    body = payloads.product_input(
        product, ctx.channel, ctx.product_options, currency=ctx.store_currency, now=now
    )
    if body is None:
        return None  # no longer sold in the channel: its push hides it
    held = (record.children or {}) if record is not None and record.mailchimp_id else {}
    # Recorded as its push records it: with the variants Mailchimp holds hidden already.
    pushing = with_hidden(fingerprint(body), hidden_variants(held))
    if set(held) - set(pushing.children):
        return None  # a variant to hide, and carts to recheck: its push does both
    planned = Planned(str(node["id"]), body.id, pushing, product.name, body=body)
    planned.recheck_carts = bool(held) and not on_offer(product.channel_listings, ctx.channel, now)
    return planned


def _customer(ctx: Context, node: dict[str, Any], erased: Erased) -> Planned | None:
    user = SaleorUser.model_validate(node)
    if unchanged_since_erasure(user, erased):
        return None
    body = payloads.customer_input(user, ctx.opt_in.knowing(erased))
    return Planned(str(node["id"]), body.id, fingerprint(body), user.email, body=body)


def _create(ctx: Context, kind: EntityKind, item: Planned, saleor_id: str) -> BatchOperation:
    """Products are created (POST, "already exists" hands them to their push); customers are
    PUT to their id (an upsert)."""
    op_id = operation_id(saleor_id, 0)
    if isinstance(item.body, ProductInput):
        return batches.create_product(ctx.store_id, item.body, operation_id=op_id)
    assert isinstance(item.body, CustomerInput)
    return batches.upsert_customer(ctx.store_id, item.body, operation_id=op_id)


def _product_update(
    ctx: Context, record: SyncRecord | HeldRecord, item: Planned
) -> list[BatchOperation]:
    """A product Mailchimp holds: its fields patched when they changed, and each changed
    variant PUT (what `CatalogPusher.push_product` sends)."""
    body = item.body
    assert isinstance(body, ProductInput)
    operations: list[BatchOperation] = []
    if record.content_hash != item.fingerprint.content_hash:
        patch = payloads.product_patch(body)
        op_id = operation_id(item.saleor_id, len(operations))
        operations.append(batches.update_product(ctx.store_id, body.id, patch, operation_id=op_id))
    held = record.children or {}
    for variant in body.variants:
        if held.get(variant.id) != item.fingerprint.children[variant.id]:
            op_id = operation_id(item.saleor_id, len(operations))
            operations.append(
                batches.upsert_product_variant(
                    ctx.store_id, body.id, payloads.variant_put(variant), operation_id=op_id
                )
            )
    return operations
