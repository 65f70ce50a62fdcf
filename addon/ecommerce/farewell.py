"""What an uninstalled installation removes from Mailchimp (`addon.installations.uninstall`):
the carts of every store the app made, so that no abandoned-cart e-mail goes out with a restore
link that died with the installation; the syncing flag of a store an initial sync still holds
(Mailchimp would hold its automations for good); and its webhooks on the audiences
(`delete_own_webhooks`: a delivery to an uninstalled app is answered 410, which disables a
webhook, but leaves it listed in the audience's settings). The stores themselves stay, with
their products, customers and orders: the revenue history reports and segments are built on.

The carts are read from Mailchimp, not from the ledger: a cart the ledger lost track of (a push
whose answer never came) is deleted too. Pages are read from the start again after each round
of deletions, past the carts Mailchimp would not delete, until none is left.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from addon.connection.letting_go import Leaving, let_go
from addon.connection.service import REFUSED_CREDENTIALS, NotConnected, mailchimp_for
from addon.ecommerce.stores_repository import StoreRepository
from addon.installations.models import MailchimpCleanup
from addon.installations.schemas import Farewell
from addon.installations.uninstall import still_uninstalled
from addon.mailchimp import MailchimpClient, NotFound
from addon.mailchimp.errors import BadRequest
from addon.services import Services
from addon.subscriptions.own_webhooks import delete_own_webhooks
from addon.tasks import side_by_side

logger = logging.getLogger(__name__)

PAGE = 1000  # Mailchimp's largest `count`
AT_ONCE = 5  # deletions in flight (the account's connection cap holds the rest anyway)


async def farewell(services: Services, installation_id: int) -> Farewell:
    """Delete the carts of the installation's stores and its audience webhooks; raises what
    Mailchimp failed with when it may work later (the uninstall job retries). Stops between
    pages once the installation is no longer waiting for its erasure (installed again)."""
    async with services.db.session() as session:
        stores = [
            store.store_id
            for store in await StoreRepository(session).list(installation_id)
            if store.missing_since is None
        ]

    async def go_on() -> bool:
        return await still_uninstalled(services, installation_id)

    carts, hooks = 0, 0
    try:
        async with mailchimp_for(services, installation_id) as client:
            for store_id in stores:
                carts += await _delete_carts(client, store_id, go_on)
            if await go_on():
                hooks = await delete_own_webhooks(services, client, installation_id)
            if await go_on():
                # A store an initial sync still marks syncing: Mailchimp holds its automations
                # until the flag is cleared, which only these credentials can do, its batches
                # stopped first (`LET_GO`, the initial sync's `release_flags`). After the carts:
                # released, the automations would e-mail their dead restore links.
                await _release_stores(services, installation_id, client)
    except NotConnected:
        return Farewell(cleanup=MailchimpCleanup.NOT_CONNECTED)
    except REFUSED_CREDENTIALS:  # revoked, or the account disabled: nothing to try again
        return Farewell(cleanup=MailchimpCleanup.REVOKED)
    return Farewell(cleanup=MailchimpCleanup.DONE, carts_deleted=carts, webhooks_deleted=hooks)


class StoresStillHeld(Exception):
    """Mailchimp did not answer the release of a store's `is_syncing`: the uninstall job
    tries again (until `FAREWELL_HOURS`)."""


async def _release_stores(
    services: Services, installation_id: int, client: MailchimpClient
) -> None:
    let = await let_go(services, installation_id, client.credentials, Leaving.UNINSTALLED)
    for sentence in let.left:
        logger.warning("Uninstalled installation %s: %s", installation_id, sentence)
    if let.may_pass:
        raise StoresStillHeld(" ".join(let.left))


async def _delete_carts(
    client: MailchimpClient, store_id: str, go_on: Callable[[], Awaitable[bool]]
) -> int:
    """Delete every cart of the store; the number deleted."""
    deleted, refused = 0, 0
    gate = asyncio.Semaphore(AT_ONCE)

    async def delete(cart_id: str) -> None:
        nonlocal deleted, refused
        async with gate:
            try:
                await client.delete_cart(store_id, cart_id)
            except NotFound:
                return  # gone meanwhile
            except BadRequest as exc:
                logger.warning("Mailchimp would not delete a cart of store %s: %s", store_id, exc)
                refused += 1  # still there, before the carts not read yet
                return
            deleted += 1

    while await go_on():
        try:
            page = await client.cart_refs(store_id, PAGE, offset=refused)
        except NotFound:
            return deleted  # the store was deleted in Mailchimp
        if not page.carts:
            return deleted
        before = deleted, refused
        async with side_by_side() as group:
            for cart in page.carts:
                group.create_task(delete(cart.id))
        if (deleted, refused) == before:
            # Listed, yet gone when deleted (Mailchimp's list lagging behind): nothing more
            # this round can do.
            return deleted
    return deleted
