"""The address each Saleor customer had when the app last heard of them, so an e-mail change is
told apart from a Mailchimp-side one: after Mailchimp changed a contact's address (`upemail`,
two-way sync) the contact and the Saleor customer keep different addresses on purpose, and only
a change of the customer's address in Saleor moves the contact.

Each address a customer moved away from is kept too (`CustomerPastAddress`): Mailchimp keeps a
member at the old address (unsubscribed or pending), and an archived one keeps its data, so an
erasure of the customer must reach it (`addon/erasure/known.py`); kept until that erasure or
the uninstall."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from addon.db.base import Base
from addon.db.owned import InstallationRows
from addon.db.repository import insert_for
from addon.db.types import UTCDateTime, utcnow


class CustomerAddress(InstallationRows, Base):
    __tablename__ = "customer_addresses"
    __table_args__ = (UniqueConstraint("installation_id", "saleor_user_id"),)

    saleor_user_id: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(320))  # lower-cased
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CustomerPastAddress(InstallationRows, Base):
    """An address the customer had and moved away from (lower-cased): an erasure of the
    customer erases it too."""

    __tablename__ = "customer_past_addresses"
    __table_args__ = (UniqueConstraint("installation_id", "saleor_user_id", "email"),)

    saleor_user_id: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(320))  # lower-cased
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


async def record_past_address(
    session: AsyncSession, installation_id: int, user_id: str, email: str
) -> None:
    """`email` is an address the customer moved away from (once: INSERT … ON CONFLICT DO
    NOTHING, another move from it may record it at the same time)."""
    dialect = session.get_bind().dialect.name
    statement = (
        insert_for(dialect, CustomerPastAddress)
        .values(
            installation_id=installation_id,
            saleor_user_id=user_id,
            email=email.strip().lower(),
            recorded_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["installation_id", "saleor_user_id", "email"])
    )
    await session.execute(statement)


async def record_address(
    session: AsyncSession, installation_id: int, user_id: str, email: str
) -> bool:
    """The customer's address recorded, unless a record exists (made meanwhile by another
    transaction too: one INSERT … ON CONFLICT DO NOTHING, which waits for it); whether this
    one made it."""
    dialect = session.get_bind().dialect.name
    statement = (
        insert_for(dialect, CustomerAddress)
        .values(
            installation_id=installation_id,
            saleor_user_id=user_id,
            email=email.strip().lower(),
            updated_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["installation_id", "saleor_user_id"])
    )
    result = await session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def record_first_address(
    session: AsyncSession, installation_id: int, user_id: str, email: str
) -> None:
    """The customer's address when the app first hears of them (their registration, or its
    confirmation: CUSTOMER_CREATED, ACCOUNT_CONFIRMED, a catch-up's replay of them), unless it
    has one: a later change's delivery handled first recorded the newer one, and moves from
    this one only if it knew it. Without it a contact the app never linked to the customer
    (subscribed through Mailchimp's own form, or in the audience before the app was connected)
    stayed at the old address when their first update was the change itself. One INSERT … ON
    CONFLICT DO NOTHING: the change's delivery may record the customer at the same time."""
    await record_address(session, installation_id, user_id, email)
