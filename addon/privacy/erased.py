"""Addresses erased (GDPR), and when: what every capability that could bring one back asks.

An erasure (`addon.erasure`) forgets a customer's addresses in the app's tables and in
Mailchimp, then records here Mailchimp's subscriber hash of each (MD5 of the lower-cased
address: what Mailchimp itself keeps of a permanently deleted member) with the time. E-commerce
holds back the orders placed at one before its erasure (`addon.ecommerce.erased`); the audience
webhook ignores the late events Mailchimp still delivers about one (`addon.subscriptions`). The
rows stay when another Mailchimp account is connected (an erased customer goes to none), and
are kept by the Saleor's URL, not the installation: they outlive an uninstall (as its
`installation_erasures` line does), so an installation of the same Saleor later, whose initial
sync reads the guest orders Saleor keeps with the address, sends none of them to Mailchimp
again. A hash is what Mailchimp itself keeps of a permanently deleted member. Its own package:
the capabilities that read it import one another.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from addon.db.base import Base
from addon.db.repository import insert_for
from addon.db.types import UTCDateTime
from addon.installations.models import Installation
from addon.mailchimp import subscriber_hash


class ErasedAddress(Base):
    """An address erased in a Saleor (its subscriber hash) and when it was last erased."""

    __tablename__ = "ecommerce_erased_addresses"
    __table_args__ = (UniqueConstraint("saleor_api_url", "email_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    saleor_api_url: Mapped[str] = mapped_column(String(512))
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
    url = await session.scalar(
        select(Installation.saleor_api_url).where(Installation.id == installation_id)
    )
    if url is None:
        return  # erased meanwhile: nothing of its Saleor is known any more
    rows = [
        {"saleor_api_url": url, "email_hash": h, "erased_at": at}
        for h in sorted({subscriber_hash(a) for a in addresses})
    ]
    statement = insert_for(session.get_bind().dialect.name, ErasedAddress).values(rows)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["saleor_api_url", "email_hash"],
            set_={"erased_at": statement.excluded.erased_at},
        )
    )


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
    """Which of these subscriber hashes are of addresses erased in the installation's Saleor
    (by it, or by an installation of it before), and when they were erased."""
    if not hashes:
        return NONE_ERASED
    rows = await session.execute(
        select(ErasedAddress.email_hash, ErasedAddress.erased_at)
        .join(Installation, Installation.saleor_api_url == ErasedAddress.saleor_api_url)
        .where(
            Installation.id == installation_id,
            ErasedAddress.email_hash.in_(sorted(hashes)),
        )
    )
    return {email_hash: erased_at for email_hash, erased_at in rows.all()}


async def is_erased(session: AsyncSession, installation_id: int, email_hash: str) -> bool:
    """Whether one address (its subscriber hash) was erased in the installation's Saleor (an
    equality: no list of one parameter for each such look, `erased_hashes`)."""
    found = await session.scalar(
        select(ErasedAddress.id)
        .join(Installation, Installation.saleor_api_url == ErasedAddress.saleor_api_url)
        .where(Installation.id == installation_id, ErasedAddress.email_hash == email_hash)
        .limit(1)
    )
    return found is not None


__all__ = [
    "NONE_ERASED",
    "Erased",
    "ErasedAddress",
    "erased_among",
    "erased_hashes",
    "is_erased",
    "remember_erased",
]
