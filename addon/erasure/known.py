"""Which customers and addresses the app holds data of: their contacts in the audiences, the
addresses seen on them (`CustomerAddress`), their e-commerce customer records (whose label is
the address last read). An erasure forgets them all; the catch-up after a deactivation looks up
every such customer in Saleor (`addon/installations/replay_deleted.py`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.ecommerce.models import EntityKind, SyncRecord
from addon.subscriptions.customer_addresses import CustomerAddress
from addon.subscriptions.models import ContactState


async def addresses_of(
    session: AsyncSession, installation_id: int, email: str | None, saleor_user_id: str | None
) -> set[str]:
    """The addresses to forget: the one named, and those the app linked to the customer (its
    contacts, its e-commerce customer records), which earlier e-mail changes may have left."""
    found = {email.strip().lower()} if email else set()
    if saleor_user_id:
        contacts = await session.scalars(
            select(ContactState.email).where(
                ContactState.installation_id == installation_id,
                ContactState.saleor_user_id == saleor_user_id,
            )
        )
        found |= {e.lower() for e in contacts}
        seen = await session.scalars(
            select(CustomerAddress.email).where(
                CustomerAddress.installation_id == installation_id,
                CustomerAddress.saleor_user_id == saleor_user_id,
            )
        )
        found |= {e.lower() for e in seen}
        labels = await session.scalars(
            select(SyncRecord.label).where(
                SyncRecord.installation_id == installation_id,
                SyncRecord.kind == EntityKind.CUSTOMER,
                SyncRecord.saleor_id == saleor_user_id,
            )
        )
        found |= {label.lower() for label in labels if label and is_address(label)}
    return found


def is_address(text: str) -> bool:
    """Whether a record's label is an address (not an order's, nor an erased one's)."""
    return "@" in text and " " not in text.strip() and not text.startswith("erased:")


async def known_customers(session: AsyncSession, installation_id: int) -> dict[str, str]:
    """Every Saleor customer the app holds data of, with one of their addresses."""
    sources = (
        select(ContactState.saleor_user_id, ContactState.email).where(
            ContactState.installation_id == installation_id,
            ContactState.saleor_user_id.is_not(None),
        ),
        select(CustomerAddress.saleor_user_id, CustomerAddress.email).where(
            CustomerAddress.installation_id == installation_id
        ),
        select(SyncRecord.saleor_id, SyncRecord.label).where(
            SyncRecord.installation_id == installation_id,
            SyncRecord.kind == EntityKind.CUSTOMER,
            SyncRecord.label.is_not(None),
        ),
    )
    known: dict[str, str] = {}
    for statement in sources:
        for user_id, address in await session.execute(statement):
            if user_id and address and is_address(address):
                known.setdefault(user_id, address.lower())
    return known
