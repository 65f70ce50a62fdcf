"""What the catch-up after a deactivation (`missed.py`) asks of other capabilities."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from addon.services import Port


class KnownCustomer(NamedTuple):
    """A Saleor customer a capability holds data of (in Mailchimp or in the app)."""

    user_id: str
    email: str


QueueOnResume = Callable[[AsyncSession, int], Awaitable[None]]
KnownCustomers = Callable[[AsyncSession, int], Awaitable[Iterable[KnownCustomer]]]

# What each capability queues when processing resumes after a deactivation.
ON_RESUME: Port[tuple[QueueOnResume, ...]] = Port("installations.on_resume")
# The customers each capability knows: one Saleor no longer has was deleted meanwhile.
KNOWN_CUSTOMERS: Port[tuple[KnownCustomers, ...]] = Port("installations.known_customers")
