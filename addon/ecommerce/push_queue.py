"""Queueing a push: one `ecommerce.push` job per ledger record, coalesced and laned by it.

A change only says *what* changed: the record is marked pending and one job, whose
`coalesce_key` and `lane` are both `ledger:<channel>:<kind>:<id>`, is queued. Coalescing merges
every change of one entity that arrives before the push runs into one job (checkouts are
delayed by the debounce window, so a burst of updates becomes one cart push); the lane keeps two
pushes of one entity from ever running at the same time.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.types import utcnow
from addon.ecommerce.models import EntityKind
from addon.ecommerce.repository import LedgerRepository
from addon.ecommerce.schemas import PushRequest
from addon.jobs.repository import JobRepository

PUSH_JOB = "ecommerce.push"
ALONE_PREFIX = "alone:"


def ledger_key(channel: str, kind: EntityKind, saleor_id: str) -> str:
    return f"ledger:{channel}:{kind.value}:{saleor_id}"


async def enqueue_push(
    session: AsyncSession,
    installation_id: int,
    channel: str,
    kind: EntityKind,
    saleor_id: str,
    *,
    delay: float = 0.0,
    alone: bool = False,
) -> None:
    """Mark the record pending and queue (or merge into) its push; `alone`: a push of its own
    even during a burst (what a batch could not do), never taken into a batch."""
    await LedgerRepository(session).mark_pending(installation_id, channel, kind, saleor_id)
    key = ledger_key(channel, kind, saleor_id)
    request = PushRequest(channel=channel, kind=kind, saleor_id=saleor_id, alone=alone)
    await JobRepository(session).enqueue(
        installation_id,
        PUSH_JOB,
        request.model_dump(mode="json", exclude_defaults=True),
        # Its own key: a burst takes over pushes by the ledger key's prefix (`burst_queue.py`).
        coalesce_key=f"{ALONE_PREFIX}{key}" if alone else key,
        lane=key,
        run_after=utcnow() + timedelta(seconds=delay),
    )


def request_key(request: PushRequest) -> tuple[str, EntityKind, str]:
    return request.channel, request.kind, request.saleor_id
