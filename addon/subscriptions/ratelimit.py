"""Sliding-window limits for the public storefront API, kept in the app's database.

The database is the store every process of the app shares (web processes and workers, on
SQLite and PostgreSQL alike), so N processes allow the limit once, not N times; no other
service is needed. Each key (a client address, an installation's e-mail address) is one row
holding the times of its hits within its own window, so a key can only ever be forgotten once
its own window has passed. Rows whose window has passed are deleted a few at a time by later
requests, which keeps the table bounded by the keys active within a window.

Keys are stored as SHA-256 digests: the table holds no address in clear. A check commits in a
short transaction of its own, so a hit counts even when the request it let through fails later;
callers check before their request's own transaction starts (on SQLite that transaction holds
the write lock from its first statement). A refusal says when the key's window has room again
(`Throttled.retry_after`, answered as `Retry-After`).
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Integer, String, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from addon.db.base import Base
from addon.db.engine import Database
from addon.db.types import UTCDateTime, utcnow
from addon.errors import RateLimited

if TYPE_CHECKING:
    from addon.services import Services


class RateLimitRecord(Base):
    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the key
    # Set for per-installation keys, so erasing an installation erases its limits.
    installation_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("installations.id", ondelete="CASCADE"), nullable=True, index=True
    )
    hits: Mapped[list[float]] = mapped_column(JSON)  # POSIX times within the window, ascending
    # When the newest hit leaves the window: from then on the row says nothing and may go.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


@dataclass(frozen=True)
class Limit:
    """At most `hits` per `window_seconds` for each key of this `name`."""

    name: str
    hits: int
    window_seconds: float


class RateLimiter:
    def __init__(
        self, db: Database, prune_batch_size: int, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.db = db
        self.prune_batch_size = prune_batch_size
        self.clock = clock

    async def allow(self, limit: Limit, key: str, installation_id: int | None = None) -> bool:
        """Count a hit for `key`; False (and nothing counted) when the window is full."""
        return await self.hit(limit, key, installation_id) is None

    async def hit(self, limit: Limit, key: str, installation_id: int | None = None) -> float | None:
        """Count a hit for `key` (None); when the window is full, nothing is counted and the
        answer is the seconds until enough of its hits have left it for one more."""
        now = self.clock()
        stamp = now.timestamp()
        digest = hashlib.sha256(
            f"{limit.name}\n{installation_id or ''}\n{key}".encode()
        ).hexdigest()
        async with self.db.transaction() as session:
            # Create the row if missing and lock it, in one statement (a no-op update of an
            # existing row locks it): concurrent checks of one key (in any process) queue on
            # the row lock on PostgreSQL and on the write lock on SQLite. Created, then locked
            # by a second statement, an expired row could be pruned by another check in
            # between, and the lock then found no row.
            dialect = session.get_bind().dialect.name
            insert: Any = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(
                RateLimitRecord
            )
            await session.execute(
                insert.values(
                    key=digest, installation_id=installation_id, hits=[], expires_at=now
                ).on_conflict_do_update(
                    index_elements=["key"], set_={"expires_at": RateLimitRecord.expires_at}
                )
            )
            record = await session.get(RateLimitRecord, digest, populate_existing=True)
            assert record is not None  # created or locked above, in this transaction
            hits = [hit for hit in record.hits if hit > stamp - limit.window_seconds]
            allowed = len(hits) < limit.hits
            # Past the limit (lowered since), more than one hit must leave first.
            wait = None if allowed else hits[-limit.hits] + limit.window_seconds - stamp
            if allowed:
                hits.append(stamp)
            record.hits = hits
            if hits:
                record.expires_at = datetime.fromtimestamp(hits[-1] + limit.window_seconds, UTC)
            await self._prune(session, now, digest)
        return wait

    async def _prune(self, session: AsyncSession, now: datetime, keep: str) -> None:
        # A few expired rows per check: each row is deleted once, so the cost per check stays
        # small; SKIP LOCKED (PostgreSQL) never waits for a row another check holds.
        expired = (
            select(RateLimitRecord.key)
            .where(RateLimitRecord.expires_at < now, RateLimitRecord.key != keep)
            .order_by(RateLimitRecord.expires_at)
            .limit(self.prune_batch_size)
            .with_for_update(skip_locked=True)
        )
        await session.execute(
            delete(RateLimitRecord)
            .where(RateLimitRecord.key.in_(expired))
            .execution_options(synchronize_session=False)
        )


def client_key(address: str) -> str:
    """The client a per-address limit counts: an IPv4 address, or an IPv6 address's /64 (one
    host holds a whole /64, RFC 4291 2.5.1 and RFC 7421, and takes new addresses in it at will,
    RFC 8981's temporary ones). An IPv4-mapped IPv6 address is its IPv4 one; anything else
    (no address known) as it is."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class Throttled(RateLimited):
    """A 429 that says when to try again: `Retry-After`, in whole seconds (RFC 9110 10.2.3)."""

    def __init__(self, message: str, wait_seconds: float) -> None:
        super().__init__(message)
        self.retry_after = max(1, math.ceil(wait_seconds))

    @property
    def headers(self) -> dict[str, str]:  # answered by the app's handler (`addon.app`)
        return {"Retry-After": str(self.retry_after)}


class StorefrontLimits:
    """The storefront API's limits: per client address, per e-mail address of a store (the
    public form), per customer of a store (the account page), and for cart restore links per
    cart and, for refused links only, per client address (`check_cart`, `check_refused`)."""

    def __init__(self, services: Services, clock: Callable[[], datetime] = utcnow) -> None:
        settings = services.settings
        self.limiter = RateLimiter(services.db, settings.rate_limit_prune_batch_size, clock)
        self.per_address = Limit(
            "address",
            settings.storefront_rate_limit_per_address,
            settings.storefront_rate_limit_address_window_seconds,
        )
        self.per_email = Limit(
            "email",
            settings.storefront_rate_limit_per_email,
            settings.storefront_rate_limit_email_window_seconds,
        )
        # The account page's own count, per customer: the public form's per-address one can be
        # used up by anyone typing the customer's address.
        self.per_account = Limit(
            "account",
            settings.storefront_rate_limit_per_email,
            settings.storefront_rate_limit_email_window_seconds,
        )
        # Restore links are exchanged by a store's own server for every shopper, so not per
        # address: per cart (replays of one link, or of its cart's other links) ...
        self.per_cart = Limit(
            "cart",
            settings.storefront_rate_limit_per_cart,
            settings.storefront_rate_limit_address_window_seconds,
        )
        # ... and per address only what is refused (changed or foreign links, unknown stores):
        # a flood of bad links through a store's server never holds up its shoppers' good ones.
        self.refused_per_address = Limit(
            "refused",
            settings.storefront_rate_limit_per_address,
            settings.storefront_rate_limit_address_window_seconds,
        )

    async def check_address(self, address: str) -> None:
        if (wait := await self.limiter.hit(self.per_address, client_key(address))) is not None:
            raise Throttled("Too many requests from your address; try again in a minute.", wait)

    async def check_email(self, installation_id: int, email: str) -> None:
        wait = await self.limiter.hit(self.per_email, email.lower(), installation_id)
        if wait is not None:
            raise Throttled("Too many requests for this e-mail address; try again later.", wait)

    async def check_account(self, installation_id: int, user_id: str) -> None:
        if (wait := await self.limiter.hit(self.per_account, user_id, installation_id)) is not None:
            raise Throttled("Too many changes to your newsletter choices; try again later.", wait)

    async def check_cart(self, installation_id: int, checkout_id: str) -> None:
        """One more exchange of a cart's restore links (any of them: a cart sent again gets a
        new one)."""
        if (
            wait := await self.limiter.hit(self.per_cart, checkout_id, installation_id)
        ) is not None:
            raise Throttled("This cart's link was opened too often; try again in a minute.", wait)

    async def check_refused(self, address: str) -> None:
        """One more refused request from `address`: raised instead of the refusal past the
        limit."""
        if (
            wait := await self.limiter.hit(self.refused_per_address, client_key(address))
        ) is not None:
            raise Throttled("Too many refused requests from your address; try again later.", wait)
