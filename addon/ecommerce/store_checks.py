"""Asking Mailchimp about each tracked channel's store: its abandoned-cart automation, whether
it is marked syncing, and its connected site's script (`StoreCheck` keeps the answer).

A check runs when the E-commerce page asks (its health panel), and when the storefront asks for
a site script older than `SITE_SCRIPT_CACHE_SECONDS`: a script Mailchimp changed reaches the
storefront within that time. A changed script URL clears the verification (the storefront
still loads the old one until it reads the new one).
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from addon.connection.models import ConnectionStatus
from addon.connection.repository import ConnectionRepository
from addon.connection.service import ConnectionService, credentials_of, describe_error
from addon.db.types import utcnow
from addon.ecommerce import store_state
from addon.ecommerce.cart_models import StoreCheck
from addon.ecommerce.models import EntityKind, MailchimpStore
from addon.ecommerce.repository import LedgerRepository, StoreRepository
from addon.errors import BadRequest, Conflict, ErrorCode, NotFound, UpstreamUnavailable
from addon.mailchimp import BadRequest as MailchimpBadRequest
from addon.mailchimp import (
    InvalidCredentials,
    MailchimpClient,
    MailchimpError,
    StoreHealth,
    store_health,
    verify_script_installation,
)
from addon.mailchimp import NotFound as MailchimpNotFound
from addon.services import Services

logger = logging.getLogger(__name__)


async def _client(
    session: AsyncSession, services: Services, installation_id: int
) -> MailchimpClient:
    connection = await ConnectionRepository(session).get(installation_id)
    if connection is None or connection.status is not ConnectionStatus.CONNECTED:
        raise Conflict(
            "Connect Mailchimp first: the app cannot ask it about the stores.",
            code=ErrorCode.MAILCHIMP_NOT_CONNECTED,
        )
    return MailchimpClient(services.mailchimp, credentials_of(connection))


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


def _save(
    session: AsyncSession, found: StoreCheck | None, store: MailchimpStore, got: StoreHealth
) -> StoreCheck:
    check = found or StoreCheck(
        installation_id=store.installation_id, channel_slug=store.channel_slug
    )
    if found is None:
        session.add(check)
    cart = got.automations.abandoned_cart
    site = got.connected_site
    url = site.site_script.url if site and site.site_script.url else None
    if check.script_url != url or check.store_id != store.store_id:
        check.script_verified_at = None
    check.store_id = store.store_id
    check.is_syncing = got.is_syncing
    check.cart_automation_supported = cart.is_supported
    check.cart_automation_id = cart.id or None
    check.cart_automation_status = cart.status
    check.site_foreign_id = site.site_foreign_id if site and site.site_foreign_id else None
    check.script_url = url
    check.script_fragment = site.site_script.fragment if site and url else None
    check.checked_at = utcnow()
    return check


async def existing(session: AsyncSession, installation_id: int, channel: str) -> StoreCheck | None:
    found = await session.execute(
        StoreCheck.of_installation(installation_id).where(StoreCheck.channel_slug == channel)
    )
    return found.scalar_one_or_none()


async def refresh(
    session: AsyncSession, services: Services, installation_id: int, channel: str | None = None
) -> None:
    """Ask Mailchimp about every created store (or one channel's); Mailchimp unreachable keeps
    the last answers, a revoked key is recorded, a deleted store is marked missing."""
    stores = [
        s for s in await _created(session, installation_id) if channel in (None, s.channel_slug)
    ]
    if not stores:
        return
    client = await _client(session, services, installation_id)
    for store in stores:
        try:
            got = await store_health(client, store.store_id)
        except MailchimpNotFound:
            await store_state.mark_missing(session, store)
            continue
        except InvalidCredentials as exc:
            await ConnectionService(session, services).mark_revoked(
                installation_id, describe_error(exc)
            )
            return
        except MailchimpError as exc:
            logger.warning("Could not check Mailchimp store %s: %r", store.store_id, exc)
            continue
        _save(session, await existing(session, installation_id, store.channel_slug), store, got)
    await session.flush()


async def verify_script(
    session: AsyncSession, services: Services, installation_id: int, channel: str
) -> StoreCheck:
    """Ask Mailchimp to look for the site script on the storefront; records when it did."""
    await refresh(session, services, installation_id, channel)
    check = await existing(session, installation_id, channel)
    if check is None or not check.site_foreign_id:
        raise NotFound(
            "Mailchimp has no connected site for this channel's store yet: wait until the "
            "store is created.",
            code=ErrorCode.NO_SITE_SCRIPT,
        )
    client = await _client(session, services, installation_id)
    try:
        await verify_script_installation(client, check.site_foreign_id)
    except MailchimpBadRequest as exc:
        logger.info("Mailchimp did not verify site %s: %r", check.site_foreign_id, exc)
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
    check.script_verified_at = utcnow()
    await session.flush()
    return check


async def script_for(services: Services, installation_id: int, channel: str) -> StoreCheck:
    """The channel's site script for the storefront: Mailchimp is asked again once the last
    answer is older than `SITE_SCRIPT_CACHE_SECONDS` (or Mailchimp unreachable: the last one)."""
    max_age = services.settings.site_script_cache_seconds
    async with services.db.session() as session:
        created = {s.channel_slug for s in await _created(session, installation_id)}
        check = await existing(session, installation_id, channel)
    if channel not in created:
        check = None  # untracked (or its store gone): nothing to load on the storefront
    fresh = check is not None and (utcnow() - check.checked_at).total_seconds() < max_age
    if not fresh:
        try:
            async with services.db.transaction() as session:
                await refresh(session, services, installation_id, channel)
        except Conflict:
            pass  # not connected: whatever was last known
        async with services.db.session() as session:
            check = await existing(session, installation_id, channel)
    if check is None or not check.script_url or channel not in created:
        raise NotFound(
            "This channel has no Mailchimp site script (is it tracked, and its store created?).",
            code=ErrorCode.NO_SITE_SCRIPT,
        )
    return check
