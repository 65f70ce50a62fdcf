"""Which customers and addresses the app holds data of: their contacts in the audiences, the
addresses seen on them (`CustomerAddress`), their e-commerce customer records (whose label is
the address last read), and the addresses they moved away from (`CustomerPastAddress`: after an
e-mail change nothing else names the old address, where Mailchimp may keep a member). An
erasure forgets them all; the catch-up after a deactivation looks up every such customer in
Saleor (`addon/installations/replay_deleted.py`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from addon.ecommerce.models import EntityKind, SyncRecord
from addon.subscriptions.customer_addresses import CustomerAddress, CustomerPastAddress
from addon.subscriptions.models import ContactState
from addon.subscriptions.schemas import address_forms


def _sources(
    installation_id: int, *, past: bool = True
) -> tuple[tuple[Select[Any, Any], QueryableAttribute[Any], bool], ...]:
    """Each place that links a customer to an address: the query of (user id, address), its
    user column, and whether its values are record labels (an order's or an erased one's is no
    address: `is_address`). `past`: with the addresses customers moved away from, last."""
    return (
        (
            select(ContactState.saleor_user_id, ContactState.email).where(
                ContactState.installation_id == installation_id,
                ContactState.saleor_user_id.is_not(None),
            ),
            ContactState.saleor_user_id,
            False,
        ),
        (
            select(CustomerAddress.saleor_user_id, CustomerAddress.email).where(
                CustomerAddress.installation_id == installation_id
            ),
            CustomerAddress.saleor_user_id,
            False,
        ),
        (
            select(SyncRecord.saleor_id, SyncRecord.label).where(
                SyncRecord.installation_id == installation_id,
                SyncRecord.kind == EntityKind.CUSTOMER,
                SyncRecord.label.is_not(None),
            ),
            SyncRecord.saleor_id,
            True,
        ),
        (
            # An address another customer has now is theirs (Saleor gives an address to one
            # user at a time): never erased with the customer who left it.
            select(CustomerPastAddress.saleor_user_id, CustomerPastAddress.email).where(
                CustomerPastAddress.installation_id == installation_id,
                ~exists().where(
                    CustomerAddress.installation_id == installation_id,
                    CustomerAddress.email == CustomerPastAddress.email,
                    CustomerAddress.saleor_user_id != CustomerPastAddress.saleor_user_id,
                ),
            ),
            CustomerPastAddress.saleor_user_id,
            False,
        ),
    )[: None if past else -1]


async def addresses_of(
    session: AsyncSession, installation_id: int, email: str | None, saleor_user_id: str | None
) -> set[str]:
    """The addresses to forget, lowercased: the one named, and those the app linked to the
    customer (its contacts, its e-commerce customer records, the addresses it moved away from),
    which earlier e-mail changes may have left; each in every form the app may have stored or
    sent it (`address_forms`: an internationalised domain as Saleor holds it, xn--, and as the
    contacts are keyed). Given an address alone (staff erasing an e-mail address), the
    customers linked to it are found first: typing a customer's current address reaches the
    member Mailchimp kept at the one they left, and the other way round."""
    found = address_forms(email) if email else set()
    users = {saleor_user_id} if saleor_user_id else await _users_at(session, installation_id, found)
    for user_id in sorted(users):
        for statement, user, labels in _sources(installation_id):
            for _, address in await session.execute(statement.where(user == user_id)):
                if address and (not labels or is_address(address)):
                    found |= address_forms(address)
    return found


async def _users_at(session: AsyncSession, installation_id: int, addresses: set[str]) -> set[str]:
    """The customers a source links to one of `addresses` now: not through the addresses they
    left (an old address typed reaches its own contacts, not its former owner's account)."""
    if not addresses:
        return set()
    lowered = sorted({a.lower() for a in addresses})
    users: set[str] = set()
    for statement, _, _ in _sources(installation_id, past=False):
        address = statement.selected_columns[1]
        for user_id, _ in await session.execute(statement.where(func.lower(address).in_(lowered))):
            if user_id:
                users.add(user_id)
    return users


def is_address(text: str) -> bool:
    """Whether a record's label is an address (not an order's, nor an erased one's)."""
    return "@" in text and " " not in text.strip() and not text.startswith("erased:")


async def known_customers(session: AsyncSession, installation_id: int) -> dict[str, str]:
    """Every Saleor customer the app holds data of, with one of their addresses."""
    known: dict[str, str] = {}
    for statement, _, _ in _sources(installation_id):
        for user_id, address in await session.execute(statement):
            if user_id and address and is_address(address):
                known.setdefault(user_id, address.lower())
    return known
