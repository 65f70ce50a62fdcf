"""What the catch-up after a deactivation or an outage (`missed.py`) asks of other
capabilities."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from addon.services import Port

QueueOnResume = Callable[[AsyncSession, int], Awaitable[None]]
# User id → one address the app knows for that customer.
KnownCustomers = Callable[[AsyncSession, int], Awaitable[dict[str, str]]]

# What each capability queues when processing resumes after a deactivation or an outage.
ON_RESUME: Port[tuple[QueueOnResume, ...]] = Port("installations.on_resume")
# The customers the app holds data of (erasure knows them): one Saleor no longer lists was
# deleted meanwhile.
KNOWN_CUSTOMERS: Port[KnownCustomers] = Port("installations.known_customers")
