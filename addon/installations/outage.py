"""A web process down longer than Saleor retries a delivery: what changed is replayed.

Saleor retries a failed webhook delivery five times, 10, 20, 40, 80 and 160 seconds apart
(saleor/webhook/transport/asynchronous/transport.py `send_webhook_request_async`:
`retry_backoff=10`, `max_retries` 5; saleor/webhook/transport/utils.py `handle_webhook_retry`),
so about five minutes after its first failure, then drops it for good. What Saleor sent while no
web process could store it (all stopped or crashed, their database down) is lost after that.

So every web process records a heartbeat each minute (`ReceiverHeartbeat.alive_at`). One that
finds the last heartbeat older than `WEBHOOK_OUTAGE_SECONDS` (at its start after a stop, too)
queues, for every active installation, the catch-up a deactivation gets (`missed.py`) from that
heartbeat, once Saleor's last retries have come: customers, orders and checkouts changed since
and orders shipped lately are replayed, the catalogue and promo codes sent again. A heartbeat
that cannot be written (the database down) is tried again a minute later, and that one sees the
gap. An APP_DELETED lost meanwhile cannot be replayed: the pauses APP_STATUS_CHANGED told of are
put in doubt (`lost_lifecycle`).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from addon.clock import current_clock
from addon.db.repository import insert_for
from addon.db.types import utcnow
from addon.installations.lost_lifecycle import doubt_told_pauses
from addon.installations.missed_queue import MARGIN, Missed, delivered_creations, queue_missed
from addon.installations.models import Installation, ReceiverHeartbeat

if TYPE_CHECKING:
    from addon.services import Services

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 60.0
# Saleor's retries of the deliveries that failed last (10 + 20 + 40 + 80 + 160 s), with room:
# the replay waits for them, so a creation they bring is seen as delivered (`replay.py`).
RETRIES_END = timedelta(minutes=6)


async def beat(services: Services) -> int:
    """Record a heartbeat; after a gap longer than the setting, queue the catch-up. Answers how
    many installations it was queued for."""
    now = utcnow()
    outage = timedelta(seconds=services.settings.webhook_outage_seconds)
    async with services.db.transaction() as session:
        # Locked: of the processes beating at once, one sees the gap and queues.
        row = await session.get(ReceiverHeartbeat, 1, with_for_update=True, populate_existing=True)
        if row is None:  # the first heartbeat ever: nothing was received before
            first = insert_for(session.get_bind().dialect.name, ReceiverHeartbeat)
            await session.execute(first.values(id=1, alive_at=now).on_conflict_do_nothing())
            return 0
        last = row.alive_at
        row.alive_at = max(last, now)
        if now - last <= outage:
            return 0
        installations = (
            await session.execute(
                select(Installation.id, Installation.installed_at).where(
                    Installation.is_active, Installation.uninstalled_at.is_(None)
                )
            )
        ).all()
        for installation_id, installed_at in installations:
            since = max(last, installed_at)
            # What was delivered before, recorded now: done jobs are pruned after a week.
            delivered = await delivered_creations(session, installation_id, since - MARGIN)
            missed = Missed(since=since, until=now, delivered=sorted(delivered))
            await queue_missed(session, installation_id, missed, at=now + RETRIES_END)
        await doubt_told_pauses(session, since=last)
    logger.warning(
        "No web process could receive webhooks from %s to %s, longer than Saleor retries a "
        "delivery: replaying what changed meanwhile for %d installation(s)",
        last.isoformat(),
        now.isoformat(),
        len(installations),
    )
    return len(installations)


async def watch(services: Services, stop: asyncio.Event) -> None:
    """A heartbeat each minute until `stop` is set (the web process's lifespan)."""
    clock = current_clock()
    while not stop.is_set():
        try:
            await beat(services)
        except Exception:
            logger.exception("The webhook receiver's heartbeat failed: trying again in a minute")
        sleeping = asyncio.ensure_future(clock.sleep(HEARTBEAT_SECONDS))
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({sleeping, stopping}, return_when=asyncio.FIRST_COMPLETED)
        for waiting in (sleeping, stopping):
            waiting.cancel()
        await asyncio.gather(sleeping, stopping, return_exceptions=True)
