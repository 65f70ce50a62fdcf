"""Applying a finished Mailchimp batch to the sync ledger.

Owns what each operation's result means (`classify`) and what the ledger (`ecommerce_sync_records`)
records for it, with the same hashes as live sync so live sync skips unchanged entities
afterwards: success → synced; "already exists" (a repeated submit) → synced with an unknown
hash, so the next live change sends everything; data errors → quarantined with Mailchimp's
message; transient errors (5xx, 429) → batched again as they were, up to `MAX_SENDS` times, then
handed to live sync's push (as is a rejected campaign id, which live sync retries without it).
An entity pushed live after its page was read (the batch may have overwritten it with older
content) is pushed live again from Saleor's current state.
"""

from __future__ import annotations

from typing import Any, Literal

from addon.db.types import utcnow
from addon.ecommerce.models import EntityKind, SyncRecord, SyncStatus
from addon.ecommerce.sync import enqueue_push
from addon.initial_sync.models import BatchStatus, InitialSync, InitialSyncBatch
from addon.initial_sync.planner import ledger_records
from addon.initial_sync.state import Flight, bump, pack, unpack
from addon.mailchimp.models import BatchOperationResult
from addon.services import Services

# Operations that failed transiently are batched again this many times, then live sync (with
# its own backoff and quarantine) takes over.
MAX_SENDS = 3

Outcome = Literal["confirmed", "exists", "transient", "live", "quarantined"]


def classify(result: BatchOperationResult | None) -> Outcome:
    if result is None or result.status_code in (0, 408, 429) or result.status_code >= 500:
        return "transient"
    if result.ok:
        return "confirmed"
    body = result.response if isinstance(result.response, dict) else {}
    text = f"{body.get('title', '')} {body.get('detail', '')}".lower()
    if result.status_code == 400 and "already exists" in text:
        return "exists"
    fields = {e.get("field") for e in body.get("errors") or [] if isinstance(e, dict)}
    if "campaign_id" in fields:
        return "live"  # resent as it was it would fail again: live sync drops the campaign
    return "quarantined"


def error_message(result: BatchOperationResult) -> str:
    body = result.response if isinstance(result.response, dict) else {}
    parts = [str(body.get("title") or f"HTTP {result.status_code}")]
    if body.get("detail"):
        parts.append(str(body["detail"]))
    for error in body.get("errors") or []:
        if isinstance(error, dict):
            parts.append(f"{error.get('field') or 'field'}: {error.get('message') or ''}".strip())
    return ": ".join(parts[:2]) + ("; " + "; ".join(parts[2:]) if len(parts) > 2 else "")


async def apply(
    services: Services, sync_id: int, flight: Flight, results: list[BatchOperationResult]
) -> None:
    """Record a finished batch's results; a second apply of the same batch does nothing."""
    by_operation = {r.operation_id: r for r in results if r.operation_id}
    now = utcnow()
    live: list[str] = []
    resend: dict[str, dict[str, Any]] = {}
    async with services.db.transaction() as session:
        # The sync row first, then the batch as it is now: a second step running the same
        # apply (after a lost lease) finds it applied.
        run = await session.get(InitialSync, sync_id, with_for_update=True)
        batch = await session.get(
            InitialSyncBatch, flight.id, with_for_update=True, populate_existing=True
        )
        if batch is None or run is None or batch.status is not BatchStatus.SUBMITTED:
            return
        kind = EntityKind(batch.kind)
        operations: dict[str, dict[str, Any]] = dict(batch.operations)
        records = await ledger_records(
            session,
            run.installation_id,
            run.channel_slug,
            kind,
            [op["saleor_id"] for op in operations.values()],
        )
        counts = dict.fromkeys(("confirmed", "quarantined", "retried"), 0)
        for key, op in operations.items():
            saleor_id = op["saleor_id"]
            result = by_operation.get(key)
            outcome = classify(result)
            record = records.get(saleor_id)
            pushed_live = (
                record is not None
                and record.pushed_at is not None
                and record.pushed_at > batch.read_at
            )
            if (
                outcome == "transient"
                and not pushed_live
                and batch.attempt < MAX_SENDS
                and batch.bodies is not None
            ):
                resend[key] = op  # batched again, as it was
                continue
            if record is None:
                record = SyncRecord(
                    installation_id=run.installation_id,
                    channel_slug=run.channel_slug,
                    kind=kind,
                    saleor_id=saleor_id,
                    children={},
                    status=SyncStatus.PENDING,
                    attempts=0,
                )
                session.add(record)
            if pushed_live or outcome in ("transient", "live"):
                # Live sync pushed a newer state that this batch may have overwritten, or
                # Mailchimp kept failing transiently: live sync pushes Saleor's current state.
                if outcome in ("confirmed", "exists"):
                    record.mailchimp_id = op["mailchimp_id"]
                record.content_hash = None
                record.children = dict.fromkeys(op["children"], "")
                live.append(saleor_id)
                handed = outcome in ("transient", "live")
                counts["retried" if handed else "confirmed"] += 1
                continue
            record.attempts = 0
            record.next_attempt_at = None
            if outcome == "quarantined":
                assert result is not None
                record.status = SyncStatus.QUARANTINED
                record.last_error = error_message(result)[:2000]
                counts["quarantined"] += 1
                continue
            record.status = SyncStatus.SYNCED
            record.mailchimp_id = op["mailchimp_id"]
            record.last_error = None
            record.pushed_at = now
            if outcome == "confirmed":
                record.content_hash = op["hash"]
                record.children = dict(op["children"])
            else:
                # Mailchimp's content is unknown: the next live change sends all of it.
                record.content_hash = None
                record.children = dict.fromkeys(op["children"], "")
            counts["confirmed"] += 1
        await session.flush()
        for saleor_id in live:
            await enqueue_push(session, run.installation_id, run.channel_slug, kind, saleor_id)
        if resend:
            session.add(_resend_batch(batch, resend))
        batch.status = BatchStatus.APPLIED
        batch.applied_at = now
        batch.operations = {}  # applied: the ledger holds it now
        batch.bodies = None
        bump(run, kind, **counts)
        run.last_progress_at = now


def _resend_batch(
    batch: InitialSyncBatch, operations: dict[str, dict[str, Any]]
) -> InitialSyncBatch:
    """A queued batch of `batch`'s operations that failed transiently."""
    assert batch.bodies is not None
    kept = [op for op in unpack(batch.bodies) if op.operation_id in operations]
    return InitialSyncBatch(
        installation_id=batch.installation_id,
        sync_id=batch.sync_id,
        kind=batch.kind,
        mailchimp_batch_id="",
        status=BatchStatus.QUEUED,
        operations=operations,
        bodies=pack(kept),
        attempt=batch.attempt + 1,
        # As old as the first reading: a live push since then still wins.
        read_at=batch.read_at,
        submitted_at=utcnow(),
        polls=0,
    )
