"""How many requests of one Mailchimp account may be in flight at once.

Mailchimp allows 10 simultaneous connections per user and answers 429 above them; the app
keeps its own cap (`MAILCHIMP_MAX_CONCURRENCY`, default 5) below that. `MailchimpHttp` takes
a slot of the account's cap around every request (released while it sleeps between retries).

`LocalSlots` counts the requests of this process only: enough for one process (SQLite, or a
test). With several `addon worker` processes on PostgreSQL the cap must hold across them, or
N workers send N times the cap: `addon.db.shared_slots.SharedSlots` takes the slots from the
database instead, and `addon.services` picks it there.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

__all__ = ["AccountSlots", "LocalSlots"]


class AccountSlots(Protocol):
    """A cap on the requests in flight per account key."""

    cap: int

    def slot(self, account_key: str) -> AbstractAsyncContextManager[None]:
        """Held while one request of `account_key` is in flight."""
        ...

    async def aclose(self) -> None: ...


class LocalSlots:
    """One `asyncio.Semaphore` per account key, in this process."""

    def __init__(self, cap: int) -> None:
        if cap < 1:
            raise ValueError("the concurrency cap must be at least 1")
        self.cap = cap
        self._semaphores: dict[str, asyncio.Semaphore] = {}

    @asynccontextmanager
    async def slot(self, account_key: str) -> AsyncIterator[None]:
        semaphore = self._semaphores.get(account_key)
        if semaphore is None:
            semaphore = self._semaphores[account_key] = asyncio.Semaphore(self.cap)
        async with semaphore:
            yield

    async def aclose(self) -> None:
        self._semaphores.clear()
