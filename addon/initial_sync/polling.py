"""Looking at an initial sync's submitted batches at Mailchimp, and planning the next look.

Used by a running sync's step and by an ended sync's (`ended.py`). Each batch is asked about on
its own: one Mailchimp no longer has (deleted there: `DELETE /batches/{batch_id}` leaves a 404,
as the spec says of its results) is `lost`, not a failure of the step, and a 429 only says how
long to wait, keeping the answers that came. A finished batch whose results archive is gone
(its signed URL expired, the results deleted: `ResultsUnavailable`, after asking Mailchimp for
the batch again) is handed to live sync as a lost one is.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from addon.config import Settings
from addon.db.types import utcnow
from addon.initial_sync import applier
from addon.initial_sync.models import InitialSync, InitialSyncBatch
from addon.initial_sync.state import Flight, batch_expected
from addon.jobs.retry import throttled_wait
from addon.mailchimp import (
    MailchimpClient,
    MailchimpError,
    NotFound,
    RateLimited,
    ResultsUnavailable,
)
from addon.mailchimp.models import Batch
from addon.services import Services

logger = logging.getLogger(__name__)


@dataclass
class Polled:
    seen: list[tuple[Flight, Batch]] = field(default_factory=list)
    lost: list[Flight] = field(default_factory=list)  # Mailchimp no longer has them
    limited: RateLimited | None = None  # a 429: wait before asking again


async def poll(client: MailchimpClient, due: list[Flight]) -> Polled:
    """The due batches as Mailchimp reports them, side by side."""
    answers = await asyncio.gather(
        *(client.get_batch(f.batch_id) for f in due), return_exceptions=True
    )
    polled = Polled()
    for flight, answer in zip(due, answers, strict=True):
        if isinstance(answer, NotFound):
            polled.lost.append(flight)
        elif isinstance(answer, RateLimited):
            polled.limited = answer
        elif isinstance(answer, BaseException):
            raise answer
        else:
            polled.seen.append((flight, answer))
    return polled


async def reschedule(services: Services, sync_id: int, flight: Flight, batch: Batch) -> None:
    """Plan the next look at an unfinished batch from Mailchimp's reported progress."""
    settings = services.settings
    now = utcnow()
    done, total = batch.finished_operations, batch.total_operations
    base = settings.initial_sync_poll_base_seconds
    if 0 < done < total:
        # Mailchimp reports its progress: look again when it should be finished.
        elapsed = max((now - flight.submitted_at).total_seconds(), 0.001)
        delay = (total - done) * elapsed / done
    else:
        delay = base * 2 ** min(flight.polls, 16)
    delay = min(max(delay, base), settings.initial_sync_poll_max_seconds)
    async with services.db.transaction() as session:
        # The sync's row before its batch's (as an apply and a look take them).
        run = await session.get(InitialSync, sync_id, with_for_update=True)
        row = await session.get(InitialSyncBatch, flight.id)
        if row is not None:
            row.polls += 1
            row.next_poll_at = now + timedelta(seconds=delay)
        # Mailchimp holding it, to start or running (`batch_expected`), counts for the
        # watchdog (which is for steps failing or lost).
        if run is not None and batch_expected(settings, flight.submitted_at, now):
            run.last_progress_at = now


async def settle(services: Services, client: MailchimpClient, sync_id: int, polled: Polled) -> bool:
    """Apply the finished batches one at a time, plan the next look at the others, hand those
    Mailchimp no longer has to live sync (True: one was applied or handed over)."""
    for flight in polled.lost:
        logger.warning(
            "Initial sync %s: Mailchimp no longer has batch %s; its entities are pushed live",
            sync_id,
            flight.batch_id,
        )
        await applier.hand_over(services, sync_id, flight)
    progress = bool(polled.lost)
    failed: MailchimpError | None = None
    for flight, batch in polled.seen:
        if batch.status != "finished":
            await reschedule(services, sync_id, flight, batch)
            continue
        try:
            results = await client.finished_batch_results(batch)
        except ResultsUnavailable:
            # It ran, but what each operation did will never be known (its archive's signed
            # URL expired while the worker was away, or Mailchimp deleted it): as a batch
            # Mailchimp no longer has, its entities go to live sync, which sends all of them.
            logger.warning(
                "Initial sync %s: the results of batch %s are no longer available; its "
                "entities are pushed live",
                sync_id,
                flight.batch_id,
            )
            await applier.hand_over(services, sync_id, flight)
        except MailchimpError as exc:
            failed = failed or exc  # the other finished batches are applied first
            continue
        else:
            await applier.apply(services, sync_id, flight, results)
        progress = True
    if failed is not None:
        raise failed
    return progress


def wait(settings: Settings, exc: RateLimited) -> float:
    """How long a step waits after Mailchimp's 429: at most the worker's longest backoff, as a
    failed step's retry (`jobs.STEP_RETRY`)."""
    return throttled_wait(
        exc, settings.worker_backoff_max_seconds, settings.initial_sync_poll_max_seconds
    )
