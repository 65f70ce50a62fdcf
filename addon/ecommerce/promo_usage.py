"""Counting the orders pushed with each voucher code (a code's Mailchimp `usage_count`), and the
admin's promo settings: reads and writes shared by the push, the order push and the page."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import NamedTuple

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.repository import Repository
from addon.db.types import utcnow
from addon.ecommerce.models import EntityKind
from addon.ecommerce.promo_models import DEFAULT_FLAG_KEY, PromoOffer, PromoSettings, PromoUsage
from addon.ecommerce.push_queue import enqueue_pushes
from addon.ecommerce.repository import LedgerRepository
from addon.ecommerce.saleor_schemas import SaleorOrder
from addon.ecommerce.stores_repository import StoreRepository

_DEFAULTS = {"offer": PromoOffer.NONE, "flag_key": DEFAULT_FLAG_KEY}


class CodeUse(NamedTuple):
    """An order placed with a voucher code, as it reached Mailchimp."""

    order_id: str
    code: str | None
    voucher_id: str | None
    # Saleor gives an expired order's use back (saleor/order/tasks.py `_expire_orders` →
    # `_bulk_release_voucher_usage`; a cancelled order keeps it): it no longer counts.
    expired: bool = False


def _defaults(installation_id: int) -> PromoSettings:
    return PromoSettings(installation_id=installation_id, **_DEFAULTS)


class PromoRepository(Repository):
    async def settings(self, installation_id: int) -> PromoSettings:
        """The installation's choice (the defaults, unsaved, when never set)."""
        found = await self.session.get(PromoSettings, installation_id)
        return found or _defaults(installation_id)

    async def save_settings(self, installation_id: int) -> PromoSettings:
        return await self.installation_row(PromoSettings, installation_id, **_DEFAULTS)

    async def record_use(
        self, installation_id: int, channel: str, code: str, order_id: str
    ) -> bool:
        """Count `order_id` for `code` once; True when it was not counted before. One INSERT …
        ON CONFLICT DO NOTHING: a live push and the initial sync counting the same order at
        once cannot collide on the unique key (a select-then-insert would, on PostgreSQL)."""
        statement = (
            self.insert(PromoUsage)
            .values(
                installation_id=installation_id,
                channel_slug=channel,
                code=code,
                order_id=order_id,
                created_at=utcnow(),
            )
            .on_conflict_do_nothing(
                index_elements=["installation_id", "channel_slug", "code", "order_id"]
            )
            .returning(PromoUsage.id)
        )
        return (await self.session.execute(statement)).first() is not None

    async def release_use(
        self, installation_id: int, channel: str, code: str, order_id: str
    ) -> bool:
        """`order_id` no longer counts for `code`; True when it counted."""
        statement = (
            delete(PromoUsage)
            .where(
                PromoUsage.installation_id == installation_id,
                PromoUsage.channel_slug == channel,
                PromoUsage.code == code,
                PromoUsage.order_id == order_id,
            )
            .returning(PromoUsage.id)
        )
        return (await self.session.execute(statement)).first() is not None

    async def usage(
        self, installation_id: int, channel: str, codes: Collection[str]
    ) -> dict[str, int]:
        """How many pushed orders used each of `codes` in `channel`."""
        if not codes:
            return {}
        rows = await self.session.execute(
            select(PromoUsage.code, func.count())
            .where(
                PromoUsage.installation_id == installation_id,
                PromoUsage.channel_slug == channel,
                PromoUsage.code.in_(list(codes)),
            )
            .group_by(PromoUsage.code)
        )
        return {code: count for code, count in rows.all()}


def code_use(order_id: str, order: SaleorOrder) -> CodeUse:
    """The order's use of its voucher code (`order_id`: its ledger id)."""
    return CodeUse(
        order_id,
        order.voucher_code,
        order.voucher.id if order.voucher else None,
        expired=order.status == "EXPIRED",
    )


async def order_used_code(
    session: AsyncSession, installation_id: int, channel: str, use: CodeUse
) -> None:
    """An order with a voucher code reached Mailchimp: count it (an expired one no longer), and
    queue the push of its voucher's promo rule (which sends the code's new `usage_count`) when
    the count changed."""
    await orders_used_codes(session, installation_id, channel, [use])


async def orders_used_codes(
    session: AsyncSession, installation_id: int, channel: str, uses: Iterable[CodeUse]
) -> None:
    """`order_used_code` for many orders: their promo rules' pushes queued together (in every
    tracked channel: Saleor deactivates a single-use code, and counts a usage limit, for all
    channels), so their records are locked in id order, not in the orders' order."""
    promos = PromoRepository(session)
    vouchers = []
    for use in uses:
        if not use.code or use.voucher_id is None:
            continue
        if use.expired:
            changed = await promos.release_use(installation_id, channel, use.code, use.order_id)
        else:
            changed = await promos.record_use(installation_id, channel, use.code, use.order_id)
        if changed:
            vouchers.append(use.voucher_id)
    if vouchers and (await promos.settings(installation_id)).offer is not PromoOffer.NONE:
        await queue_voucher_pushes(session, installation_id, vouchers, held_only=False)


async def queue_voucher_pushes(
    session: AsyncSession, installation_id: int, voucher_ids: Iterable[str], *, held_only: bool
) -> None:
    """Queue the vouchers' pushes in every tracked channel (a voucher's codes and usage limit
    are Saleor's, not a channel's: a code used up in one channel is in all); `held_only`: only
    where Mailchimp holds its rule (nothing is offered: only a removal can be due). Queued
    together, so their records are locked in id order (`ledger_statements.locking`)."""
    ids = list(dict.fromkeys(voucher_ids))
    ledger = LedgerRepository(session)
    pushes = []
    for channel in await StoreRepository(session).pushing_channels(installation_id):
        wanted = ids
        if held_only:
            records = await ledger.by_saleor_ids(
                installation_id, channel, EntityKind.PROMO_RULE, ids
            )
            wanted = [v for v in ids if v in records and records[v].mailchimp_id is not None]
        pushes += [(channel, EntityKind.PROMO_RULE, voucher_id) for voucher_id in wanted]
    await enqueue_pushes(session, installation_id, pushes)
