"""A voucher's batch of promo codes (`promo_sync.PromoPusher._batch`): the poll job that writes
its results into the voucher's record.

The push leaves the record pending while its batch is out. Each operation's result, as the
ledger reads batch results everywhere (`batch_results.classify`): taken → recorded as held;
a deletion of what is gone already → forgotten; a code Mailchimp holds already, a code gone
from Mailchimp, a passing refusal (429, 5xx) or an operation missing from the results → the
voucher's push is queued again in its lane, after the worker's backoff for pushes, and after
`ECOMMERCE_MAX_ATTEMPTS` rounds the record is quarantined (`WORKER_OUTAGE_MAX_ATTEMPTS` where
only passing refusals and missing results are left: an outage); a code refused as data (a 4xx) →
the record is quarantined with Mailchimp's reason (no retry until the voucher changes or an
admin retries, which sends only the codes not held).
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from addon.connection.service import NotConnected, mailchimp_for
from addon.db.types import utcnow
from addon.ecommerce.batch_results import classify, error_message
from addon.ecommerce.failures import PUSH_RETRY
from addon.ecommerce.models import EntityKind, SyncStatus
from addon.ecommerce.push_queue import enqueue_push
from addon.ecommerce.record_states import quarantined
from addon.ecommerce.repository import LedgerRepository
from addon.jobs.registry import HandlerRegistry
from addon.jobs.retry import Failure
from addon.jobs.schemas import ClaimedJob, RetryLater
from addon.mailchimp import NotFound, ResultsUnavailable
from addon.mailchimp.models import BatchOperationResult
from addon.services import Services

CODES_JOB = "ecommerce.promo_codes"
POLL_SECONDS = 5.0


class CodesBatch(BaseModel):
    """A batch of one voucher's code operations: operation id → code id and its new hash
    ("" for a deletion); `note`: what the push left on the record for the admin."""

    model_config = ConfigDict(extra="forbid")

    channel: str
    voucher_id: str
    batch_id: str
    operations: dict[str, tuple[str, str]]
    note: str | None = None


class Outcomes(BaseModel):
    """What a batch's results mean for the voucher's record."""

    held: dict[str, str | None] = {}  # code id → its hash now (None: gone from Mailchimp)
    again: int = 0  # codes to send again (passing refusals, missing results, unknown content)
    passing: int = 0  # of those, the passing refusals and missing results (an outage's)
    refused: list[str] = []  # Mailchimp's reasons for the codes it refused as data


def outcomes(request: CodesBatch, results: list[BatchOperationResult]) -> Outcomes:
    by_operation = {r.operation_id: r for r in results if r.operation_id}
    found = Outcomes()
    for op_id, (code_id, digest) in request.operations.items():
        result = by_operation.get(op_id)
        outcome = classify(result)
        if outcome == "confirmed":
            found.held[code_id] = digest or None
        elif result is not None and result.status_code == 404:
            # A deletion of what is gone already is done; an update of a code Mailchimp lost
            # is a creation next time.
            found.held[code_id] = None
            found.again += bool(digest)
        elif outcome == "exists" and digest:
            found.held[code_id] = ""  # held with unknown content: the next push patches it
            found.again += 1
        elif outcome == "quarantined" and result is not None:
            found.refused.append(error_message(result))
        else:  # transient, missing from the results
            found.again += 1
            found.passing += 1
    return found


async def codes_job(job: ClaimedJob, request: CodesBatch, services: Services) -> None:
    """Apply a finished code batch to the voucher's record (see the module's docstring)."""
    try:
        async with mailchimp_for(services, job.installation_id) as client:
            batch = await client.get_batch(request.batch_id)
            if batch.status != "finished":
                raise RetryLater("the promo code batch is still running", POLL_SECONDS)
            results = await client.finished_batch_results(batch)
    except NotConnected:
        return
    except (NotFound, ResultsUnavailable):
        # Deleted at Mailchimp, or its results archive expired or deleted since it ran: every
        # code is as one missing from the results, the voucher's push sends again those not
        # held.
        results = []
    found = outcomes(request, results)
    async with services.db.transaction() as session:
        record = await LedgerRepository(session).get(
            job.installation_id, request.channel, EntityKind.PROMO_RULE, request.voucher_id
        )
        if record is None:
            return
        children = dict(record.children or {})
        for code_id, now in found.held.items():
            if now is None:
                children.pop(code_id, None)
            else:
                children[code_id] = now
        record.children = children
        if found.again:
            reason = f"{found.again} promo code(s) not taken by Mailchimp's batch yet."
            outage = found.passing == found.again
            await _again(session, services, job.installation_id, request, reason, outage)
        elif found.refused:
            quarantined(
                record,
                f"Mailchimp refused {len(found.refused)} promo code(s): {found.refused[0]}",
            )
        else:
            record.status = SyncStatus.SYNCED
            record.attempts = 0
            record.next_attempt_at = None
            record.last_error = request.note


async def _again(
    session: AsyncSession,
    services: Services,
    installation_id: int,
    request: CodesBatch,
    reason: str,
    outage: bool,
) -> None:
    """The voucher's push again, after the backoff the worker gives a failed push (the record
    counts the rounds; quarantined after `ECOMMERCE_MAX_ATTEMPTS`, or, where every code to send
    again met a passing refusal (`outage`: Mailchimp's 5xx, 429s and timeouts inside the
    batch), after `WORKER_OUTAGE_MAX_ATTEMPTS`)."""
    record = await LedgerRepository(session).get(
        installation_id, request.channel, EntityKind.PROMO_RULE, request.voucher_id
    )
    assert record is not None
    attempts = record.attempts + 1
    settings = services.settings
    allowed = PUSH_RETRY.allowed_in_outage(settings) if outage else PUSH_RETRY.allowed(settings)
    if attempts >= allowed:
        quarantined(record, reason)
        record.attempts = attempts
        return
    delay = PUSH_RETRY.delay(attempts, services.settings)
    await session.flush()
    await enqueue_push(
        session,
        installation_id,
        request.channel,
        EntityKind.PROMO_RULE,
        request.voucher_id,
        delay=delay,
    )
    record.attempts = attempts
    record.last_error = reason
    record.next_attempt_at = utcnow() + timedelta(seconds=delay)


async def codes_failed(
    session: AsyncSession, job: ClaimedJob, request: CodesBatch, failure: Failure
) -> None:
    """The batch could not be read (the worker gave up): the record must not stay pending
    without a job, so it is quarantined with the reason (an admin's Retry sends again)."""
    if not failure.gave_up:
        return
    record = await LedgerRepository(session).get(
        job.installation_id, request.channel, EntityKind.PROMO_RULE, request.voucher_id
    )
    if record is not None:
        quarantined(record, failure.reason)


def register(registry: HandlerRegistry) -> None:
    registry.register(CODES_JOB, codes_job, payload=CodesBatch, on_failure=codes_failed)
