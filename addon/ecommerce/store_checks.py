"""Asking Mailchimp about each tracked channel's store: its abandoned-cart automation, whether
it is marked syncing, and its connected site's script (`StoreCheck` keeps the answer).

A check runs when the E-commerce page asks (its health panel), and when the storefront asks for
a site script older than `SITE_SCRIPT_CACHE_SECONDS`: a script Mailchimp changed reaches the
storefront within that time. A changed script URL clears the verification (the storefront
still loads the old one until it reads the new one).

No database session is open while Mailchimp answers (`Database.transaction`: on SQLite a write
transaction holds the database's write lock, on PostgreSQL a pooled connection): what to ask is
read in a short session, the answers are written in a short transaction afterwards. The public
storefront route must not let its anonymous traffic reach Mailchimp (each call takes one of the
account's concurrency slots the sync workers share): a process asks about one channel's store
one request at a time (the others wait and read its answer), and a failed check is retried no
sooner than `RETRY_AFTER_SECONDS`, doubled after each further failure up to the cache age,
while the storefront keeps the last good script.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, update
from sqlalchemy.ext.asyncio import AsyncSession

from addon.connection.service import NotConnected, mailchimp_for
from addon.db.repository import Repository
from addon.db.types import utcnow
from addon.ecommerce import store_state
from addon.ecommerce.cart_models import StoreCheck
from addon.ecommerce.models import EntityKind, MailchimpStore
from addon.ecommerce.repository import LedgerRepository
from addon.ecommerce.stores_repository import StoreRepository
from addon.errors import BadRequest, ErrorCode, NotFound, UpstreamUnavailable
from addon.mailchimp import BadRequest as MailchimpBadRequest
from addon.mailchimp import (
    InvalidCredentials,
    MailchimpError,
    StoreHealth,
    store_health,
    verify_script_installation,
)
from addon.mailchimp import NotFound as MailchimpNotFound
from addon.services import Services

logger = logging.getLogger(__name__)

# The first wait after a failed check; it doubles with each further failure, up to the cache age.
RETRY_AFTER_SECONDS = 60.0


@dataclass
class _Channel:
    """This process's checks of one channel's store: one at a time (`lock`), and the failures
    since its last good answer (when the last one failed, and why)."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    failures: int = 0
    failed_at: datetime | None = None
    error: str | None = None


def _channel(services: Services, installation_id: int, channel: str) -> _Channel:
    """The process's checks of the channel's store, kept with what it remembers of its database
    (forgotten with the engine). Only channels with a created store get an entry, so anonymous
    callers cannot grow it."""
    channels: dict[tuple[int, str], _Channel] = services.db.memo.setdefault(__name__, {})
    return channels.setdefault((installation_id, channel), _Channel())


def _retry_at(state: _Channel, max_age: float) -> datetime | None:
    """When Mailchimp may be asked again after the failures (None: at once)."""
    if state.failed_at is None or state.failures == 0:
        return None
    wait = min(RETRY_AFTER_SECONDS * 2 ** (state.failures - 1), max_age)
    return state.failed_at + timedelta(seconds=wait)


async def _created(session: AsyncSession, installation_id: int) -> list[MailchimpStore]:
    """Tracked stores Mailchimp holds (as far as the app knows)."""
    stores = await StoreRepository(session).tracked(installation_id)
    records = {
        r.channel_slug: r
        for r in await LedgerRepository(session).select(installation_id, kinds=[EntityKind.STORE])
    }
    return [
        s
        for s in stores
        if store_state.store_status(s, records.get(s.channel_slug)) is store_state.StoreStatus.READY
    ]


async def _save(session: AsyncSession, store: MailchimpStore, got: StoreHealth) -> None:
    """Insert or update the channel's check in one statement: a check another process inserted
    meanwhile is updated, not a unique-key violation."""
    cart = got.automations.abandoned_cart
    site = got.connected_site
    url = site.site_script.url if site and site.site_script.url else None
    values = {
        "store_id": store.store_id,
        "is_syncing": got.is_syncing,
        "cart_automation_supported": cart.is_supported,
        "cart_automation_id": cart.id or None,
        "cart_automation_status": cart.status,
        "site_foreign_id": site.site_foreign_id if site and site.site_foreign_id else None,
        "script_url": url,
        "script_fragment": site.site_script.fragment if site and url else None,
        "checked_at": utcnow(),
    }
    insert = Repository(session).insert(StoreCheck)
    statement = insert.values(
        installation_id=store.installation_id,
        channel_slug=store.channel_slug,
        script_verified_at=None,
        **values,
    )
    # The verification holds only for the script (and store) it was made for.
    same_script = StoreCheck.script_url.is_not_distinct_from(insert.excluded.script_url) & (
        StoreCheck.store_id == insert.excluded.store_id
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["installation_id", "channel_slug"],
            set_={
                **{name: insert.excluded[name] for name in values},
                "script_verified_at": case(
                    (same_script, StoreCheck.script_verified_at), else_=None
                ),
            },
        )
    )


async def existing(session: AsyncSession, installation_id: int, channel: str) -> StoreCheck | None:
    found = await session.execute(
        StoreCheck.of_installation(installation_id).where(StoreCheck.channel_slug == channel)
    )
    return found.scalar_one_or_none()


async def refresh(services: Services, installation_id: int, channel: str | None = None) -> None:
    """Ask Mailchimp about every created store (or one channel's); Mailchimp unreachable keeps
    the last answers (and the failure is remembered), a revoked key is recorded
    (`mailchimp_for`), a deleted store is marked missing. `NotConnected` when Mailchimp is not
    connected."""
    async with services.db.session() as session:
        stores = [
            s for s in await _created(session, installation_id) if channel in (None, s.channel_slug)
        ]
    if not stores:
        return
    answers: dict[str, StoreHealth | None] = {}  # by channel; None: the store is gone
    try:
        async with mailchimp_for(services, installation_id) as client:
            for store in stores:
                state = _channel(services, installation_id, store.channel_slug)
                try:
                    answers[store.channel_slug] = await store_health(client, store.store_id)
                except MailchimpNotFound:
                    answers[store.channel_slug] = None
                except InvalidCredentials:
                    raise
                except MailchimpError as exc:
                    logger.warning("Could not check Mailchimp store %s: %r", store.store_id, exc)
                    state.failures += 1
                    state.failed_at = utcnow()
                    state.error = type(exc).__name__ + (f" {exc.status}" if exc.status else "")
                    continue
                state.failures, state.failed_at, state.error = 0, None, None
    except InvalidCredentials:
        pass  # recorded by mailchimp_for: the Connection page asks to reconnect
    if answers:
        await _record(services, installation_id, stores, answers)


async def _record(
    services: Services,
    installation_id: int,
    asked: list[MailchimpStore],
    answers: dict[str, StoreHealth | None],
) -> None:
    store_ids = {s.channel_slug: s.store_id for s in asked}
    async with services.db.transaction() as session:
        for store in await StoreRepository(session).tracked(installation_id):
            if store_ids.get(store.channel_slug) != store.store_id:
                continue  # not asked, or its store was re-created while Mailchimp answered
            if store.channel_slug not in answers:
                continue
            got = answers[store.channel_slug]
            if got is None:
                await store_state.mark_missing(session, store)
            else:
                await _save(session, store, got)


async def verify_script(services: Services, installation_id: int, channel: str) -> None:
    """Ask Mailchimp to look for the site script on the storefront; records when it did."""
    await refresh(services, installation_id, channel)
    async with services.db.session() as session:
        check = await existing(session, installation_id, channel)
    if check is None or not check.site_foreign_id:
        raise NotFound(
            "Mailchimp has no connected site for this channel's store yet: wait until the "
            "store is created.",
            code=ErrorCode.NO_SITE_SCRIPT,
        )
    site_id, script_url = check.site_foreign_id, check.script_url
    try:
        async with mailchimp_for(services, installation_id) as client:
            await verify_script_installation(client, site_id)
    except MailchimpBadRequest as exc:
        logger.info("Mailchimp did not verify site %s: %r", site_id, exc)
        raise BadRequest(
            "Mailchimp did not find its site script on the storefront. Add the two lines from "
            "the docs to every page, publish the storefront, and verify again.",
            code=ErrorCode.SITE_SCRIPT_NOT_FOUND,
        ) from exc
    except MailchimpError as exc:
        raise UpstreamUnavailable(
            f"Mailchimp could not verify the site script: {exc}",
            code=ErrorCode.MAILCHIMP_UNAVAILABLE,
        ) from exc
    async with services.db.transaction() as session:
        # Only the script Mailchimp verified: a check that brought a new one meanwhile stays
        # unverified.
        await session.execute(
            update(StoreCheck)
            .where(
                StoreCheck.installation_id == installation_id,
                StoreCheck.channel_slug == channel,
                StoreCheck.site_foreign_id == site_id,
                StoreCheck.script_url.is_not_distinct_from(script_url),
            )
            .values(script_verified_at=utcnow())
        )


async def _known(
    services: Services, installation_id: int, channel: str
) -> tuple[bool, StoreCheck | None]:
    """Whether the channel's store is created, and its last check."""
    async with services.db.session() as session:
        created = channel in {s.channel_slug for s in await _created(session, installation_id)}
        return created, await existing(session, installation_id, channel) if created else None


def _due(services: Services, state: _Channel, check: StoreCheck | None) -> bool:
    """Whether the storefront's request asks Mailchimp: the last answer is older than the
    cache age (or there is none), and the last failure's back-off is over."""
    max_age = services.settings.site_script_cache_seconds
    now = utcnow()
    if check is not None and (now - check.checked_at).total_seconds() < max_age:
        return False
    retry_at = _retry_at(state, max_age)
    return retry_at is None or now >= retry_at


async def script_for(services: Services, installation_id: int, channel: str) -> StoreCheck:
    """The channel's site script for the storefront: Mailchimp is asked again once the last
    answer is older than `SITE_SCRIPT_CACHE_SECONDS`, by one request of the process at a time,
    and not before a failed check's back-off is over (meanwhile: the last good answer)."""
    created, check = await _known(services, installation_id, channel)
    if created:  # untracked (or its store gone): nothing to load on the storefront
        state = _channel(services, installation_id, channel)
        if _due(services, state, check):
            async with state.lock:
                # Another request of this process may have asked while this one waited.
                created, check = await _known(services, installation_id, channel)
                if created and _due(services, state, check):
                    # Not connected: whatever was last known.
                    with contextlib.suppress(NotConnected):
                        await refresh(services, installation_id, channel)
                    created, check = await _known(services, installation_id, channel)
    if check is None or not check.script_url:
        raise NotFound(
            "This channel has no Mailchimp site script (is it tracked, and its store created?).",
            code=ErrorCode.NO_SITE_SCRIPT,
        )
    return check
