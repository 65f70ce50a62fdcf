"""Deciding, for a page read from Saleor, what goes into a Mailchimp batch.

Owns the rules of what is sent: live changes win (an entity whose ledger record waits for a live
push, or was pushed live after its `updatedAt`, is skipped; one Mailchimp has in an older
version is handed to live sync, which updates it), drafts and other channels' orders are left
out, an order keeps only the lines whose product Mailchimp has, and the first day of a day
filter is cut (Saleor before 3.22). Each operation is built with the same payload builders and
ledger fingerprints as live sync, so live sync skips what the initial sync confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.ecommerce import payloads
from addon.ecommerce.models import EntityKind, SyncRecord, SyncStatus
from addon.ecommerce.schemas import SaleorOrder, SaleorProduct, SaleorUser
from addon.ecommerce.sync import Context
from addon.initial_sync.orders_since import placed_before
from addon.mailchimp.models import BatchOperation
from addon.services import Services


@dataclass(frozen=True)
class Planned:
    """One operation of a batch being built, and what its success means for the ledger."""

    operation: BatchOperation
    saleor_id: str
    mailchimp_id: str
    content_hash: str
    children: dict[str, str]

    def meta(self) -> dict[str, Any]:
        return {
            "saleor_id": self.saleor_id,
            "mailchimp_id": self.mailchimp_id,
            "hash": self.content_hash,
            "children": self.children,
        }


@dataclass(frozen=True)
class Plan:
    """A page's operations, the ids handed to live sync instead, and how many were skipped."""

    operations: list[Planned]
    live: list[str]
    skipped: int


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


async def ledger_records(
    session: AsyncSession, installation_id: int, channel: str, kind: EntityKind, ids: list[str]
) -> dict[str, SyncRecord]:
    if not ids:
        return {}
    result = await session.execute(
        select(SyncRecord).where(
            SyncRecord.installation_id == installation_id,
            SyncRecord.channel_slug == channel,
            SyncRecord.kind == kind,
            SyncRecord.saleor_id.in_(ids),
        )
    )
    return {record.saleor_id: record for record in result.scalars()}


class Planner:
    def __init__(self, services: Services, context: Context, orders_since: datetime | None) -> None:
        self.services = services
        self.ctx = context
        self.orders_since = orders_since

    async def plan(self, kind: EntityKind, nodes: list[dict[str, Any]]) -> Plan:
        ids = [str(node["id"]) for node in nodes]
        async with self.services.db.session() as session:
            seen = await ledger_records(
                session, self.ctx.installation_id, self.ctx.channel, kind, ids
            )
            available = await self._available_variants(session, kind, nodes)
        operations: list[Planned] = []
        live: list[str] = []
        skipped = 0
        for node in nodes:
            if kind is EntityKind.ORDER and placed_before(node, self.orders_since):
                skipped += 1  # the first day of a day filter (Saleor before 3.22)
                continue
            saleor_id = str(node["id"])
            known = seen.get(saleor_id)
            if known is not None:
                if known.status is SyncStatus.PENDING:
                    skipped += 1  # a live push is queued: it sends the current state
                    continue
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
            item = self._build(kind, node, available)
            if item is None:
                skipped += 1
            else:
                operations.append(item)
        return Plan(operations, live, skipped)

    async def _available_variants(
        self, session: AsyncSession, kind: EntityKind, nodes: list[dict[str, Any]]
    ) -> set[str]:
        """Mailchimp variant ids an order line may reference (its product was synced)."""
        if kind is not EntityKind.ORDER:
            return set()
        product_ids = {
            line["variant"]["product"]["id"]
            for node in nodes
            for line in node.get("lines") or []
            if line.get("variant")
        }
        records = await ledger_records(
            session, self.ctx.installation_id, self.ctx.channel, EntityKind.PRODUCT, [*product_ids]
        )
        # A product Mailchimp has (its id recorded), even while a live push updates it.
        return {
            variant
            for record in records.values()
            if record.mailchimp_id is not None and record.status is not SyncStatus.QUARANTINED
            for variant in record.children
        }

    def _path(self, *segments: str) -> str:
        return "/ecommerce/stores/" + "/".join((self.ctx.store_id, *segments))

    def _build(self, kind: EntityKind, node: dict[str, Any], available: set[str]) -> Planned | None:
        saleor_id = str(node["id"])
        if kind is EntityKind.PRODUCT:
            product = SaleorProduct.model_validate(node)
            body = payloads.product_input(product, self.ctx.channel, self.ctx.product_url_template)
            if body is None:
                return None
            variants = {v.id: payloads.content_hash(v.body()) for v in body.variants}
            return Planned(
                BatchOperation.of("POST", self._path("products"), body, operation_id=saleor_id),
                saleor_id,
                body.id,
                payloads.content_hash(payloads.top_level(body, "variants")),
                variants,
            )
        if kind is EntityKind.CUSTOMER:
            customer = payloads.customer_input(SaleorUser.model_validate(node), self.ctx.opt_in)
            return Planned(
                BatchOperation.of(
                    "PUT", self._path("customers", customer.id), customer, operation_id=saleor_id
                ),
                saleor_id,
                customer.id,
                payloads.content_hash(customer.body()),
                {},
            )
        order = SaleorOrder.model_validate(node)
        if order.status == "DRAFT" or order.channel.slug != self.ctx.channel:
            return None
        usable = order.model_copy(
            update={
                "lines": [
                    line
                    for line in order.lines
                    if line.variant and payloads.mailchimp_id(line.variant.id) in available
                ]
            }
        )
        campaign = (order.attribution or {}).get(payloads.CAMPAIGN_KEY) or None
        order_body = payloads.order_input(usable, campaign_id=campaign, opt_in=self.ctx.opt_in)
        if order_body is None:
            return None
        return Planned(
            BatchOperation.of("POST", self._path("orders"), order_body, operation_id=saleor_id),
            saleor_id,
            order_body.id,
            payloads.content_hash(
                payloads.top_level(order_body, "lines", "customer", "campaign_id")
            ),
            {"lines": payloads.content_hash([line.body() for line in order_body.lines])},
        )
