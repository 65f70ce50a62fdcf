"""Saleor's signing keys (its JWKS) per installation: verify with the cached set, refetch safely.

Saleor publishes one key, its current one, with the RFC 7638 thumbprint as `kid`
(saleor/core/jwt_manager.py, `JWTManager.get_jwks` and `get_key_id`): when an operator replaces
`RSA_PRIVATE_KEY`, the new key signs at once and the old one is no longer published. So the app
must take a new `kid` at once and must stop trusting a vanished one on its own. What a careful
JWKS client does (the rules are in the README's Security section):

* A signature naming a key id (`kid`) missing from the cached set refetches the set, so a key
  Saleor has just rotated in is accepted at once; installing does not count as a refetch.
* Refetches are throttled per installation: at most one per
  `JWKS_REFRESH_MIN_INTERVAL_SECONDS`, counted from the last *attempt*, successful or not, by
  any process (the time is claimed in the database). A flood of forged unknown-`kid` requests
  therefore costs Saleor one request per interval, and a request arriving within the interval
  after another's attempt uses the keys that attempt stored.
* A known `kid` whose signature does not verify is refused without a refetch: new keys cannot
  make a bad signature good.
* The cached set expires after `JWKS_CACHE_MAX_AGE_SECONDS`: the next verification refetches
  it first, so a key Saleor has retired stops verifying within that age. When the refetch
  fails, nothing verifies (fail closed) until a later attempt succeeds.

Webhooks arrive by the hundred per second from one Saleor, so their keys are also kept in this
process (`load_cached`) for `CACHE_SECONDS`, updated by this process's refetches: a delivery
then costs no read. What the cache can miss is safe: keys refetched by another process show up
as an unknown `kid`, which reads them (above); an erased installation is found by the write
that stores the delivery, and the caller then `forget`s the entry.

The bookkeeping (the claimed attempt, the refetched keys) commits in short transactions of its
own, so it holds even when the request it serves is refused and rolled back. Callers therefore
verify before their request's own transaction touches the database: on SQLite that transaction
holds the write lock from its first statement.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Row, and_, or_, select, update

from addon import metrics
from addon.config import Settings
from addon.db.engine import Database
from addon.db.types import utcnow
from addon.errors import ErrorCode, Unauthorized, UpstreamUnavailable
from addon.installations.models import Installation
from addon.saleor.client import SaleorClient, SaleorUnavailable
from addon.saleor.jws import TokenExpired, UnknownKey, VerificationError
from addon.saleor.schemas import Jwks

logger = logging.getLogger(__name__)

T = TypeVar("T")

CACHE_SECONDS = 10.0  # how long `load_cached` trusts what it read


class KeysUnavailable(Exception):
    """Saleor could not be asked for its signing keys: nothing is decided (a 5xx, retried)."""


@dataclass(frozen=True)
class KeyState:
    """What is cached for one installation, as read outside the request's transaction."""

    installation_id: int
    saleor_api_url: str
    jwks: Jwks
    fetched_at: datetime
    app_id: str  # the app's id in that Saleor: deliveries it caused name it (`own_echo`)

    @classmethod
    def of(cls, installation: Installation) -> KeyState:
        return cls(
            installation_id=installation.id,
            saleor_api_url=installation.saleor_api_url,
            app_id=installation.app_id,
            jwks=Jwks.model_validate(installation.jwks),
            fetched_at=installation.jwks_fetched_at,
        )


class SigningKeys:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        saleor: SaleorClient,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.saleor = saleor
        self.clock = clock
        self.min_interval = timedelta(seconds=settings.jwks_refresh_min_interval_seconds)
        self.max_age = timedelta(seconds=settings.jwks_cache_max_age_seconds)

    async def load(self, saleor_api_url: str) -> KeyState | None:
        """The cached keys of the installation for `saleor_api_url` (None: not installed)."""
        return await self._read(Installation.saleor_api_url == saleor_api_url)

    async def load_cached(self, saleor_api_url: str) -> KeyState | None:
        """`load`, from this process's cache when read within `CACHE_SECONDS` (see the
        module's docstring: for webhooks, whose store checks the installation anyway)."""
        cache = self._cache()
        entry = cache.get(saleor_api_url)
        now = self.clock()
        if entry is not None and 0 <= (now - entry[1]).total_seconds() < CACHE_SECONDS:
            return entry[0]
        state = await self.load(saleor_api_url)
        if state is None:
            cache.pop(saleor_api_url, None)
        else:
            cache[saleor_api_url] = (state, now)
        return state

    def forget(self, saleor_api_url: str) -> None:
        """Drop the cached keys (their installation is gone, or was replaced)."""
        self._cache().pop(saleor_api_url, None)

    def _cache(self) -> dict[str, tuple[KeyState, datetime]]:
        cache: dict[str, tuple[KeyState, datetime]] = self.db.memo.setdefault(__name__, {})
        return cache

    def _remember(self, state: KeyState, jwks: Jwks, fetched_at: datetime) -> None:
        """Keep keys this process just refetched or read (only where the cache has this
        installation: the cache never gains an entry but through `load_cached`)."""
        cache = self._cache()
        entry = cache.get(state.saleor_api_url)
        if entry is not None and entry[0].installation_id == state.installation_id:
            fresh = replace(state, jwks=jwks, fetched_at=fetched_at)
            cache[state.saleor_api_url] = (fresh, entry[1])

    async def verify(self, state: KeyState, verify: Callable[[Jwks], T]) -> T:
        """Run `verify` against the installation's current keys; raises `VerificationError`, or
        `KeysUnavailable` when Saleor could not be asked for keys the signature may need.

        Saleor does not retry a delivery answered 4xx (saleor/webhook/transport/utils.py
        `handle_webhook_retry`): a genuine delivery refused because Saleor's keys could not be
        refetched at that moment would be lost. Expired keys are still never trusted (they may
        have been replaced for a reason), but what cannot be checked for want of Saleor is
        answered as a passing outage (5xx), which Saleor retries; a forgery gains nothing."""
        jwks = state.jwks
        refreshed = False
        if self.clock() - state.fetched_at >= self.max_age:
            jwks = await self._refresh(state, "the cached keys expired")
            refreshed = True
        try:
            return verify(jwks)
        except UnknownKey:
            if refreshed:
                raise
        return verify(await self._refresh(state, "a signature names an unknown key"))

    async def verify_token(
        self, state: KeyState, verify: Callable[[Jwks], T], *, when_expired: str
    ) -> T:
        """`verify` a token Saleor issued to a user; one that does not verify is Unauthorized
        (`when_expired`: what the user does about an expired one)."""
        try:
            return await self.verify(state, verify)
        except TokenExpired as exc:
            raise Unauthorized(
                f"Your session expired; {when_expired}.", code=ErrorCode.TOKEN_EXPIRED
            ) from exc
        except KeysUnavailable as exc:
            raise UpstreamUnavailable(
                f"Cannot check the token now: {exc}.", code=ErrorCode.JWKS_UNAVAILABLE
            ) from exc
        except VerificationError as exc:
            raise Unauthorized(
                f"The token was rejected: {exc}.", code=ErrorCode.INVALID_TOKEN
            ) from exc

    async def _refresh(self, state: KeyState, reason: str) -> Jwks:
        # One refetch at a time per installation in this process: the deliveries arriving
        # while it runs wait for it and take the keys it stored (`_refetch` reads them, the
        # attempt being claimed), where each used to find the attempt claimed and nothing
        # newer stored yet, and was refused.
        locks: dict[int, asyncio.Lock] = self.db.memo.setdefault(f"{__name__}.refetching", {})
        async with locks.setdefault(state.installation_id, asyncio.Lock()):
            # Refetched by the one this request waited for: those keys, no claim of its own.
            cached = self._cache().get(state.saleor_api_url)
            if (
                cached is not None
                and cached[0].installation_id == state.installation_id
                and cached[0].fetched_at > state.fetched_at
                and self.clock() - cached[0].fetched_at < self.max_age
            ):
                return cached[0].jwks
            return await self._refetch(state, reason)

    async def _refetch(self, state: KeyState, reason: str) -> Jwks:
        now = self.clock()
        if not await self._claim(state.installation_id, now):
            # Another request (in any process) attempted within the interval: use what it
            # stored, if it stored anything newer than what this request read.
            row = await self._row(Installation.id == state.installation_id)
            current = _state(row)
            if (
                current is not None
                and current.fetched_at > state.fetched_at
                and now - current.fetched_at < self.max_age
            ):
                self._remember(state, current.jwks, current.fetched_at)
                return current.jwks
            # The last refetch stored no keys: it failed, or is still under way.
            attempted = row.jwks_attempted_at if row is not None else None
            if row is not None and attempted is not None and attempted > row.jwks_fetched_at:
                raise KeysUnavailable("Saleor's signing keys could not be refetched moments ago")
            raise VerificationError(
                "the signing keys were refetched moments ago and do not verify this"
            )
        url = state.saleor_api_url
        try:
            jwks = await self.saleor.fetch_jwks(url)
        except SaleorUnavailable as exc:
            metrics.jwks_refreshed(ok=False)
            logger.warning("Refetching the signing keys of %s (%s) failed: %s", url, reason, exc)
            raise KeysUnavailable("the signing keys could not be refetched") from exc
        async with self.db.transaction() as session:
            await session.execute(
                update(Installation)
                .where(Installation.id == state.installation_id)
                # Bookkeeping, not a change of the installation: `updated_at` stays.
                .values(
                    jwks=jwks.as_dict(), jwks_fetched_at=now, updated_at=Installation.updated_at
                )
            )
        self._remember(state, jwks, now)
        metrics.jwks_refreshed(ok=True)
        logger.info("Refetched the signing keys of %s (%s): %s", url, reason, jwks.key_ids)
        return jwks

    async def _claim(self, installation_id: int, now: datetime) -> bool:
        """Record an attempt unless one was made within the interval; True when recorded.

        One conditional UPDATE: atomic on PostgreSQL (row lock, re-checked condition) and on
        SQLite (the write lock), so concurrent requests in any process claim it once.
        """
        async with self.db.transaction() as session:
            result = await session.execute(
                update(Installation)
                .where(
                    Installation.id == installation_id,
                    or_(
                        Installation.jwks_attempted_at.is_(None),
                        Installation.jwks_attempted_at <= now - self.min_interval,
                    ),
                )
                .values(jwks_attempted_at=now, updated_at=Installation.updated_at)
                .execution_options(synchronize_session=False)
            )
            return bool(getattr(result, "rowcount", 0) == 1)

    async def _read(self, condition: ColumnElement[bool]) -> KeyState | None:
        return _state(await self._row(and_(condition, Installation.uninstalled_at.is_(None))))

    async def _row(self, condition: ColumnElement[bool]) -> Row[Any] | None:
        """The installation's keys, when they were fetched and last attempted, and whether it
        is uninstalled: one read for the keys and for the last attempt's outcome."""
        async with self.db.session() as session:
            return (
                await session.execute(
                    select(
                        Installation.id,
                        Installation.saleor_api_url,
                        Installation.jwks,
                        Installation.jwks_fetched_at,
                        Installation.jwks_attempted_at,
                        Installation.app_id,
                        Installation.uninstalled_at,
                    ).where(condition)
                )
            ).one_or_none()


def _state(row: Row[Any] | None) -> KeyState | None:
    """The keys of an installation still installed."""
    if row is None or row.uninstalled_at is not None:
        return None
    return KeyState(
        installation_id=row.id,
        saleor_api_url=row.saleor_api_url,
        jwks=Jwks.model_validate(row.jwks),
        fetched_at=row.jwks_fetched_at,
        app_id=row.app_id,
    )
