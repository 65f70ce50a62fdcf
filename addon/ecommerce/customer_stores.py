"""Which tracked channels' stores a registered customer's record goes to.

A Saleor customer belongs to no channel: a `User` is the whole site's, and `accountRegister`'s
`channel` only picks the channel its e-mails are sent for
(saleor/graphql/account/mutations/account/account_register.py). Each tracked channel is a
Mailchimp store of its own, often in an audience of its own, and Mailchimp makes a store's
customer a contact of the store's audience, billed once per audience it is in. So once
several channels have been tracked (`buyer_rule`), a customer's record goes to the stores of
the channels they bought or left a cart in: their order or cart brings them there
(`buyers_belong`, called wherever an order or a cart is read to be pushed, queues their
record's push), and the ledger's record of them in a store (`customer_channels`) keeps them
there; for one some tracked store does not hold, Saleor tells where they bought (`stores_of`,
and the initial sync's customers phase): orders the app never saw (placed before the channel
was tracked, or as a guest and given to the account by Saleor), a store moved to another
audience. Until then, none: a customer is no channel's before they shop, and their marketing
consent reaches the audiences through the subscriptions capability, not the store. The rule
stays when all channels but one are untracked again: a channel's buyers never land in
another's audience.

While only one channel has ever been tracked, every customer goes to its store, as before.
Customers a store got before this rule (every customer, to every tracked channel) stay and are
kept current there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.ecommerce.models import EntityKind, SyncRecord
from addon.ecommerce.push_queue import enqueue_pushes
from addon.ecommerce.saleor_schemas import ShopperChannels
from addon.ecommerce.stores_repository import StoreRepository
from addon.installations.models import Installation
from addon.services import Services

PAGE = 100  # customers Saleor serves in one page


async def buyer_rule(session: AsyncSession, installation_id: int) -> tuple[Sequence[str], bool]:
    """The channels changes are pushed to, and whether the buyer rule holds: once two
    channels have had a store (a channel keeps its store row when untracked)."""
    channels = await StoreRepository(session).pushing_channels(installation_id)
    return channels, await StoreRepository(session).count(installation_id) > 1


async def _held_in(
    session: AsyncSession, installation_id: int, channels: Sequence[str], user_ids: Iterable[str]
) -> set[tuple[str, str]]:
    """(user id, channel) of the customers' ledger records in `channels`."""
    ids = sorted(set(user_ids))
    if not ids:
        return set()
    statement = select(SyncRecord.saleor_id, SyncRecord.channel_slug).where(
        SyncRecord.installation_id == installation_id,
        SyncRecord.kind == EntityKind.CUSTOMER,
        SyncRecord.channel_slug.in_(channels),
        SyncRecord.saleor_id.in_(ids),
    )
    return {(saleor_id, channel) for saleor_id, channel in await session.execute(statement)}


async def customer_channels(
    session: AsyncSession, installation_id: int, user_ids: Iterable[str]
) -> dict[str, list[str]]:
    """Each customer's channels to push their record to."""
    channels, rule = await buyer_rule(session, installation_id)
    return await _placed(session, installation_id, user_ids, channels, rule)


async def _placed(
    session: AsyncSession,
    installation_id: int,
    user_ids: Iterable[str],
    channels: Sequence[str],
    rule: bool,
) -> dict[str, list[str]]:
    """`customer_channels`, the rule read already."""
    ids = list(dict.fromkeys(user_ids))
    if not rule:
        return {user_id: list(channels) for user_id in ids}
    held = await _held_in(session, installation_id, channels, ids)
    return {user_id: [c for c in channels if (user_id, c) in held] for user_id in ids}


async def stores_of(
    services: Services, installation: Installation, user_ids: Iterable[str]
) -> dict[str, list[str]]:
    """Each customer's channels to push their record to, for a change of the customer: the
    stores that hold them, and, for one a tracked store does not hold, those they bought in as
    Saleor tells (the app never saw them buy there: orders placed before the channel was
    tracked, or as a guest whose orders Saleor gave the account at its confirmation or an
    e-mail change, `match_orders_with_new_user`; a store moved to another audience)."""
    async with services.db.session() as session:
        channels, rule = await buyer_rule(session, installation.id)
        placed = await _placed(session, installation.id, user_ids, channels, rule)
    partial = [user_id for user_id, held in placed.items() if len(held) < len(channels)]
    if not rule or not partial:
        return placed
    for start in range(0, len(partial), PAGE):
        page = partial[start : start + PAGE]
        shopped = await order_channels(
            services, installation.saleor_api_url, installation.app_token, page
        )
        for user_id in page:
            bought = shopped.get(user_id, set())
            placed[user_id] = [c for c in channels if c in placed[user_id] or c in bought]
    return placed


async def customers_of_channel(
    session: AsyncSession,
    installation_id: int,
    channel: str,
    user_ids: Iterable[str],
    shopped: Mapping[str, set[str]],
) -> set[str]:
    """The customers among `user_ids` whose record goes to `channel`'s store: those it holds,
    and those who bought in the channel (`shopped`: `order_channels`)."""
    return {
        user_id
        for user_id, channels in (
            await customer_channels(session, installation_id, user_ids)
        ).items()
        if channel in channels or channel in shopped.get(user_id, set())
    }


async def order_channels(
    services: Services, api_url: str, token: SecretStr, user_ids: Sequence[str]
) -> dict[str, set[str]]:
    """The channels each customer placed orders in, as Saleor serves them now; `user_ids`: a
    page's, up to 100."""
    if not user_ids:
        return {}
    data = await services.saleor.execute(
        api_url,
        token,
        "customer_order_channels",
        {"ids": list(user_ids), "first": len(user_ids)},
    )
    found: dict[str, set[str]] = {}
    for edge in (data.get("customers") or {}).get("edges") or []:
        shopper = ShopperChannels.model_validate(edge["node"])
        found[shopper.id] = shopper.bought_in()
    return found


async def buyers_belong(
    session: AsyncSession, installation_id: int, channel: str, user_ids: Iterable[str | None]
) -> None:
    """Registered customers who bought or left a cart in `channel`: their record goes to its
    store from now on. For one without a record there yet, a push is queued: the store then
    holds them as a customer push sends them, and their later changes follow. Without the
    buyer rule, their record goes there already."""
    buyers = {user_id for user_id in user_ids if user_id is not None}
    if not buyers:
        return
    channels, rule = await buyer_rule(session, installation_id)
    if not rule or channel not in channels:
        return
    held = await _held_in(session, installation_id, [channel], buyers)
    new = sorted(user_id for user_id in buyers if (user_id, channel) not in held)
    await enqueue_pushes(
        session, installation_id, [(channel, EntityKind.CUSTOMER, user_id) for user_id in new]
    )
