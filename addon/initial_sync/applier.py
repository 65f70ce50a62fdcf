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

from typing import Any

from addon.db.types import utcnow
from addon.ecommerce.batch_results import Outcome, classify, error_message
from addon.ecommerce.models import EntityKind, Fingerprint, SyncStatus
from addon.ecommerce.push_queue import enqueue_pushes
from addon.ecommerce.record_states import content_forgotten, overtaken, quarantined
from addon.ecommerce.repository import LedgerRepository
from addon.initial_sync.models import BatchStatus, InitialSync, InitialSyncBatch
from addon.initial_sync.state import Flight, bump, pack, unpack
from addon.mailchimp.models import BatchOperationResult
from addon.services import Services

# `classify` and `error_message` are shared with live sync's bursts (addon.ecommerce.batch_results).
__all__ = ["MAX_SENDS", "Outcome", "apply", "classify", "error_message", "hand_over"]

# Operations that failed transiently are batched again this many times, then live sync (with
# its own backoff and quarantine) takes over.
MAX_SENDS = 3


async def apply(
    services: Services, sync_id: int, flight: Flight, results: list[BatchOperationResult]
) -> None:
    """Record a finished batch's results; a second apply of the same batch does nothing."""
    by_operation = {r.operation_id: r for r in results if r.operation_id}
    now = utcnow()
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
        ledger = LedgerRepository(session)
        scope = (run.installation_id, run.channel_slug, kind)
        operations: dict[str, dict[str, Any]] = dict(batch.operations)
        # The ledger's rows in Core statements, as a burst's (`burst.py`): loading a thousand
        # records and flushing them back through the ORM was a tenth of an initial sync's worker
        # CPU. Only the rare records that are not simply synced are loaded.
        # Locked before they are read, in id order (`ledger_statements.locking`): a live push
        # that recorded newer content meanwhile is seen (pushed live again), never written over
        # with the batch's older content, as a burst's apply (`burst_apply.py`).
        saleor_ids = [op["saleor_id"] for op in operations.values()]
        known = await ledger.held_by_saleor_ids(*scope, saleor_ids, locked=True)
        outcomes: dict[str, tuple[Outcome, bool]] = {}
        resend: dict[str, dict[str, Any]] = {}
        stale: set[str] = set()
        for key, op in operations.items():
            outcome = classify(by_operation.get(key))
            row = known.get(op["saleor_id"])
            if outcome == "exists" and batch.attempt == 1 and row is None:
                # Mailchimp held it before the app's ledger knew it (a store kept from an
                # earlier installation: an uninstall leaves Mailchimp alone, and the store id is
                # the same), and a create never updates: held, its content unknown, its live
                # push brings it up to date (an order's lines replaced).
                stale.add(key)
            # Live sync recorded a newer state since the page was read (a push, a removal, a
            # quarantine): the batch may have overwritten it with older content.
            pushed_live = row is not None and overtaken(row, batch.read_at)
            again = batch.attempt < MAX_SENDS and batch.bodies is not None
            if outcome == "transient" and not pushed_live and again:
                resend[key] = op  # batched again, as it was
            else:
                outcomes[key] = (outcome, pushed_live)
        # What Mailchimp holds of each entity it simply took: "exists" on a batch sent again (a
        # repeated submit) means its content is unknown, so the next live change sends all of it.
        taken: dict[str, tuple[str | None, Fingerprint]] = {}
        for key, (outcome, pushed_live) in outcomes.items():
            op = operations[key]
            if not pushed_live and outcome in ("confirmed", "exists") and key not in stale:
                sent = Fingerprint(op["hash"], dict(op["children"]))
                content = sent if outcome == "confirmed" else Fingerprint.unknown(op["children"])
                taken[op["saleor_id"]] = (op["mailchimp_id"], content)
        # Every record's id and label; one inserted for an entity without is written synced
        # at once if it is one of those (a pending one otherwise).
        labels, written = await ledger.labels_inserting(
            *scope, [operations[key]["saleor_id"] for key in outcomes], taken, now
        )
        # Records created meanwhile (none to lock above: the insert skipped them), by a live
        # push perhaps: locked now, and overtaken if so (those this apply inserted are not).
        seen = written | known.keys()
        raced = [labelled for labelled in labels if labelled not in seen]
        fresh = await ledger.held_by_saleor_ids(*scope, raced, locked=True)
        for key, (outcome, _) in outcomes.items():
            saleor_id = operations[key]["saleor_id"]
            if saleor_id in fresh and overtaken(fresh[saleor_id], batch.read_at):
                outcomes[key] = (outcome, True)
                taken.pop(saleor_id, None)
        others = [
            operations[key]["saleor_id"]
            for key, (outcome, pushed_live) in outcomes.items()
            if pushed_live or outcome not in ("confirmed", "exists") or key in stale
        ]
        records = await ledger.by_saleor_ids(*scope, others)
        counts = dict.fromkeys(("confirmed", "quarantined", "retried"), 0)
        live: list[str] = []
        synced: list[tuple[int, str | None, str | None, str | None, Fingerprint]] = []
        for key, (outcome, pushed_live) in outcomes.items():
            op = operations[key]
            saleor_id = op["saleor_id"]
            if saleor_id in taken:
                if saleor_id not in written:
                    # `settled(…, SYNCED, …, now)`, the label kept.
                    synced.append((*labels[saleor_id], None, *taken[saleor_id]))
                counts["confirmed"] += 1
                continue
            record = records[saleor_id]
            if pushed_live and record.status is SyncStatus.QUARANTINED:
                # Its newer push ended in quarantine: it keeps that verdict, and waits for a
                # change or a Retry (whose push sends everything), as a burst's record does.
                held = op["mailchimp_id"] if outcome in ("confirmed", "exists") else None
                content_forgotten(record, held, op["children"])
                counts["quarantined"] += 1
            elif pushed_live or outcome in ("transient", "live") or key in stale:
                # Live sync pushes Saleor's current state (after a newer live push, Mailchimp
                # failing transiently MAX_SENDS times, or a rejected campaign id).
                held = op["mailchimp_id"] if outcome in ("confirmed", "exists") else None
                content_forgotten(record, held, op["children"])
                live.append(op["saleor_id"])
                counts["retried" if outcome in ("transient", "live") else "confirmed"] += 1
            else:
                result = by_operation[key]
                quarantined(record, error_message(result))
                counts["quarantined"] += 1
        await ledger.settle_synced(synced, now)
        await session.flush()
        installation_id, channel, _ = scope
        await enqueue_pushes(session, installation_id, [(channel, kind, s) for s in live])
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


async def hand_over(services: Services, sync_id: int, flight: Flight) -> None:
    """A batch whose outcome will not be known (Mailchimp no longer has it; an ended sync's
    batch that may have run unseen, or was never sent): its entities are pushed live from
    Saleor's current state, what Mailchimp holds of them unknown (the push sends all of it)."""
    async with services.db.transaction() as session:
        run = await session.get(InitialSync, sync_id, with_for_update=True)
        batch = await session.get(
            InitialSyncBatch, flight.id, with_for_update=True, populate_existing=True
        )
        if batch is None or run is None or batch.status is BatchStatus.APPLIED:
            return
        kind = EntityKind(batch.kind)
        scope = (run.installation_id, run.channel_slug, kind)
        operations = list(batch.operations.values())
        saleor_ids = [op["saleor_id"] for op in operations]
        ledger = LedgerRepository(session)
        # Locked in id order first (`ledger_statements.locking`), as an apply locks them.
        await ledger.held_by_saleor_ids(*scope, saleor_ids, locked=True)
        records = await ledger.by_saleor_ids(*scope, saleor_ids)
        for op in operations:
            record = records.get(op["saleor_id"])
            if record is not None:
                content_forgotten(record, None, op["children"])
        await session.flush()
        installation_id, channel, _ = scope
        await enqueue_pushes(session, installation_id, [(channel, kind, s) for s in saleor_ids])
        now = utcnow()
        batch.status = BatchStatus.APPLIED
        batch.applied_at = now
        batch.operations = {}
        batch.bodies = None
        bump(run, kind, retried=len(operations))
        run.last_progress_at = now
