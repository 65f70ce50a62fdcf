"""The stores' `is_syncing`, released before the connection lets go of the account that set it.

An initial sync marks its store syncing in Mailchimp, which holds the store's automations
(abandoned-cart e-mails, order notifications) until the sync clears it. Only that account's
credentials reach the store, and a reset removes them (`ConnectionService.reset`), another
account connected replaces them (`Linking.save`); no job run afterwards has them. So before
either, the connection asks this (`LET_GO`, `addon.connection.letting_go`) with the credentials
still known: every store whose flag a sync of the installation holds (`InitialSync.
store_flagged`: set, not cleared) is cleared now, and the syncs still running end, for they
cannot go on without the credentials. What cannot be cleared then (Mailchimp refusing the
credentials, revoked or the account disabled, or not answering within `RELEASE_SECONDS`) is
said plainly, store by store with what the owner can do: in the reset's or the switch's answer
and on the Activity page (`LEFT_NOTE`). After a reset that kept the account's data, the ended
sync still clears it once the same account is connected again (`jobs._until_connected`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import select

from addon.connection.letting_go import Leaving, LetGo
from addon.connection.service import REFUSED_CREDENTIALS
from addon.ecommerce.channel_state import RunStatus
from addon.ecommerce.models import MailchimpStore
from addon.ecommerce.stores_repository import StoreRepository
from addon.initial_sync.models import InitialSync
from addon.initial_sync.state import end_in
from addon.jobs.repository import JobRepository
from addon.mailchimp import (
    MailchimpClient,
    MailchimpCredentials,
    MailchimpError,
    NotFound,
    StorePatch,
)
from addon.services import Services

logger = logging.getLogger(__name__)

# How long a reset or a switch waits for Mailchimp to clear the flags, all stores together:
# one that does not answer (down, throttling) must not hold the admin's request for long.
RELEASE_SECONDS = 10.0
LEFT_NOTE = "initial_sync.store_left_syncing"
STOPPED = (
    "Mailchimp is not connected: the connection was reset or another account connected while "
    "the sync ran, and it cannot go on without the credentials it used."
)
REFUSED = (
    "Mailchimp refused the credentials (revoked, or the account disabled) when the app let go "
    "of the account, so the app could not clear it."
)
UNANSWERED = "Mailchimp did not answer when the app let go of the account, so it is not cleared."
NO_CREDENTIALS = "the app no longer held the account's credentials (removed by an earlier reset)."


def _remedy(leaving: Leaving, store_id: str) -> str:
    if leaving is Leaving.RESET_KEEPING_DATA:
        return (
            "Reconnect that Mailchimp account here: the app clears it within minutes (for 30 "
            "days after the sync ended)."
        )
    return (
        "To release it, connect that account again, track the channel in the same audience and "
        "run the initial sync (its end clears the flag), or clear it through Mailchimp's API "
        f"(PATCH /ecommerce/stores/{store_id} with is_syncing false)."
    )


def _named(store: MailchimpStore) -> str:
    return f"{store.name} ({store.store_id})" if store.name else store.store_id


def _released(store: MailchimpStore) -> str:
    return (
        f"Mailchimp store {_named(store)} is no longer marked as syncing: its automations, held "
        "during the initial sync, run again."
    )


def left_sentence(store: MailchimpStore, why: str, leaving: Leaving) -> str:
    return (
        f"Mailchimp store {_named(store)} is still marked as syncing, so Mailchimp holds its "
        f"automations (abandoned-cart e-mails, order notifications): {why} "
        f"{_remedy(leaving, store.store_id)}"
    )


async def _clear(
    client: MailchimpClient, stores: list[MailchimpStore], released: set[str]
) -> str | None:
    """Clear each store's flag, adding its channel to `released`; why the others were not (the
    first refusal or failure stops: the rest would fail alike), or None."""
    try:
        async with asyncio.timeout(RELEASE_SECONDS):
            for store in stores:
                # A store deleted in Mailchimp meanwhile took its flag with it.
                with contextlib.suppress(NotFound):
                    await client.update_store(store.store_id, StorePatch(is_syncing=False))
                released.add(store.channel_slug)
    except REFUSED_CREDENTIALS:
        return REFUSED
    except (MailchimpError, TimeoutError):
        return UNANSWERED
    return None


async def release_flags(
    services: Services,
    installation_id: int,
    credentials: MailchimpCredentials | None,
    leaving: Leaving,
) -> LetGo:
    """The answer to `LET_GO` (see the module docstring)."""
    async with services.db.session() as session:
        flagged = set(
            await session.scalars(
                select(InitialSync.channel_slug).where(
                    InitialSync.installation_id == installation_id,
                    InitialSync.store_flagged.is_(True),
                )
            )
        )
        running = list(
            await session.scalars(
                select(InitialSync.id).where(
                    InitialSync.installation_id == installation_id,
                    InitialSync.status == RunStatus.RUNNING,
                )
            )
        )
        # A store deleted in Mailchimp took its flag with it.
        stores = [
            store
            for store in await StoreRepository(session).list(installation_id)
            if store.channel_slug in flagged and store.missing_since is None
        ]
    if not stores and not running:
        return LetGo()
    released: set[str] = set()
    why: str | None = NO_CREDENTIALS
    if credentials is not None and stores:
        why = await _clear(MailchimpClient(services.mailchimp, credentials), stores, released)
    left = [store for store in stores if store.channel_slug not in released]
    sentences = [left_sentence(store, why or UNANSWERED, leaving) for store in left]
    async with services.db.transaction() as session:
        for sync_id in running:
            await end_in(session, sync_id, RunStatus.FAILED, STOPPED)
        if released:
            rows = await session.scalars(
                select(InitialSync)
                .where(
                    InitialSync.installation_id == installation_id,
                    InitialSync.channel_slug.in_(released),
                    InitialSync.store_flagged.is_(True),
                )
                .with_for_update()
            )
            for row in rows:
                row.store_flagged = False
        jobs = JobRepository(session)
        for store, sentence in zip(left, sentences, strict=True):
            payload = {"channel": store.channel_slug, "store_id": store.store_id}
            await jobs.record_note(installation_id, LEFT_NOTE, payload, sentence)
    for store in left:
        logger.warning(
            "Installation %s let go of its Mailchimp account with store %s still syncing",
            installation_id,
            store.store_id,
        )
    undone = [_released(store) for store in stores if store.channel_slug in released]
    return LetGo(undone=undone, left=sentences)
