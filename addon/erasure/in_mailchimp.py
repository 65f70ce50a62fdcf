"""What an erasure deletes in Mailchimp (the job is `jobs.py`): the addresses' members in the
audiences, and in every store the customer's carts, their orders if the admin chose so, and
their customers, found in the app's records (`forget.ledger_records`) and in Mailchimp's (the
store's customers holding an address). What Mailchimp no longer holds is not counted.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.ecommerce.models import EntityKind, MailchimpStore
from addon.ecommerce.payloads import guest_customer_id, mailchimp_id
from addon.erasure.forget import ledger_records
from addon.erasure.outcome import Erased
from addon.mailchimp import MailchimpClient, NotFound


@dataclass(frozen=True)
class StoreWork:
    """What to delete in one store."""

    store_id: str
    customer_ids: tuple[str, ...]
    carts: tuple[str, ...]
    orders: tuple[str, ...]


async def _deleted(call: Awaitable[None]) -> bool:
    """Run a delete; False if Mailchimp holds nothing there (404)."""
    try:
        await call
    except NotFound:
        return False
    return True


async def _holders(client: MailchimpClient, store_id: str, addresses: set[str]) -> set[str]:
    """The store's customers holding the addresses: one may carry another shopper's id
    (`ecommerce/email_holder.py`). None for a store Mailchimp no longer has."""
    found: set[str] = set()
    for address in sorted(addresses):
        try:
            found |= {c.id for c in await client.customers_with_email(store_id, address)}
        except NotFound:
            return found
    return found


async def erase_in_mailchimp(
    client: MailchimpClient, lists: list[str], addresses: set[str], stores: list[StoreWork]
) -> Erased:
    """Delete, and count what was deleted."""
    erased_ = Erased(audiences=len(lists), stores=len(stores))
    for list_id in lists:
        for address in sorted(addresses):
            if await _deleted(client.delete_member_permanently(list_id, address)):
                erased_.members += 1
    for store in stores:
        for cart_id in store.carts:
            erased_.carts += await _deleted(client.delete_cart(store.store_id, cart_id))
        for order_id in store.orders:
            erased_.orders += await _deleted(client.delete_order(store.store_id, order_id))
        holders = await _holders(client, store.store_id, addresses)
        for customer_id in sorted(set(store.customer_ids) | holders):
            erased_.customers += await _deleted(client.delete_customer(store.store_id, customer_id))
    return erased_


async def store_work(
    session: AsyncSession,
    installation_id: int,
    addresses: set[str],
    user_id: str | None,
    delete_orders: bool,
) -> list[StoreWork]:
    """What to delete in each of the installation's stores."""
    stores = await session.scalars(
        select(MailchimpStore).where(MailchimpStore.installation_id == installation_id)
    )
    records = await ledger_records(session, installation_id, addresses, user_id)
    work = []
    for store in stores:
        mine = [r for r in records if r.channel_slug == store.channel_slug and r.mailchimp_id]
        customers = {guest_customer_id(a) for a in addresses}
        if user_id:
            customers.add(mailchimp_id(user_id))
        customers |= {
            r.mailchimp_id for r in mine if r.kind is EntityKind.CUSTOMER and r.mailchimp_id
        }
        work.append(
            StoreWork(
                store.store_id,
                tuple(sorted(customers)),
                tuple(r.mailchimp_id for r in mine if r.kind is EntityKind.CART and r.mailchimp_id),
                tuple(
                    r.mailchimp_id
                    for r in mine
                    if delete_orders and r.kind is EntityKind.ORDER and r.mailchimp_id
                ),
            )
        )
    return work
