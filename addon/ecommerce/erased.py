"""Addresses erased (GDPR), and when: the orders placed at one before its erasure never go to
Mailchimp again.

An erasure (`addon.erasure`) deletes the customer in Mailchimp and, by default, keeps their
orders there (the store's revenue history). Saleor keeps a deleted customer's orders with their
address (`Order.user_email`), so a later change of such an order (a refund, a fulfilment), a
resync or a new initial sync would push it, and with it an e-commerce customer carrying the
address, back into the store. Every way an order goes to Mailchimp (its push, a burst, the
initial sync) asks here first: an order placed at an erased address before its erasure stays in
Mailchimp as last sent, or absent. An order placed after it is new business and goes as any
other. Only Mailchimp's subscriber hash of the address is kept, as everywhere else once an
address is erased; the rows stay when another Mailchimp account is connected (an erased
customer goes to none) and go with the installation.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime

from sqlalchemy import String, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from addon.db.base import Base
from addon.db.owned import InstallationRows
from addon.db.repository import insert_for
from addon.db.types import UTCDateTime
from addon.ecommerce.schemas import SaleorOrder, SaleorUser
from addon.mailchimp import subscriber_hash


class ErasedAddress(InstallationRows, Base):
    """An erased address (its subscriber hash) and when it was last erased."""

    __tablename__ = "ecommerce_erased_addresses"
    __table_args__ = (UniqueConstraint("installation_id", "email_hash"),)

    email_hash: Mapped[str] = mapped_column(String(32))
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime)


Erased = Mapping[str, datetime]  # subscriber hash → when the address was erased
NONE_ERASED: Erased = {}


async def remember_erased(
    session: AsyncSession, installation_id: int, addresses: Collection[str], at: datetime
) -> None:
    """Record `addresses` as erased at `at` (an address erased again: the later time, so the
    orders placed in between are held back too)."""
    if not addresses:
        return
    rows = [
        {"installation_id": installation_id, "email_hash": h, "erased_at": at}
        for h in sorted({subscriber_hash(a) for a in addresses})
    ]
    statement = insert_for(session.get_bind().dialect.name, ErasedAddress).values(rows)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["installation_id", "email_hash"],
            set_={"erased_at": statement.excluded.erased_at},
        )
    )


def order_addresses(order: SaleorOrder) -> list[str]:
    """The addresses an order names: its customer's now (what its payload carries) and the one
    it was placed with (`sale_payloads.order_input`)."""
    return [a for a in (order.user.email if order.user else None, order.user_email) if a]


async def erased_among(
    session: AsyncSession, installation_id: int, addresses: Iterable[str | None]
) -> Erased:
    """Which of `addresses` were erased, and when (one indexed read; nothing when none is)."""
    return await erased_hashes(
        session, installation_id, {subscriber_hash(a) for a in addresses if a}
    )


async def erased_hashes(
    session: AsyncSession, installation_id: int, hashes: Collection[str]
) -> Erased:
    """Which of these subscriber hashes are of erased addresses, and when they were erased."""
    if not hashes:
        return NONE_ERASED
    rows = await session.execute(
        select(ErasedAddress.email_hash, ErasedAddress.erased_at).where(
            ErasedAddress.installation_id == installation_id,
            ErasedAddress.email_hash.in_(sorted(hashes)),
        )
    )
    return {email_hash: erased_at for email_hash, erased_at in rows.all()}


def unchanged_since_erasure(user: SaleorUser, erased: Erased) -> bool:
    """A customer erased (from the panel: Saleor keeps them) who has not changed since: a
    resync, a burst or a new initial sync must not bring them back. One who changed since
    keeps shopping (docs/email-changes-and-erasure.md, Limits), as do their new orders."""
    erased_at = erased.get(subscriber_hash(user.email)) if erased else None
    return erased_at is not None and (user.updated_at is None or user.updated_at <= erased_at)


def placed_before_erasure(order: SaleorOrder, erased: Erased) -> bool:
    """The order was placed at an address erased since: it must not reach Mailchimp again."""
    if not erased:
        return False
    for address in order_addresses(order):
        erased_at = erased.get(subscriber_hash(address))
        if erased_at is not None and order.created <= erased_at:
            return True
    return False


__all__ = [
    "NONE_ERASED",
    "Erased",
    "ErasedAddress",
    "erased_among",
    "erased_hashes",
    "order_addresses",
    "placed_before_erasure",
    "remember_erased",
    "unchanged_since_erasure",
]
