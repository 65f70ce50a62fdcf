"""What one record's results in a finished burst batch mean for its ledger record (`burst_poll.py`
applies a batch with these): confirmed → synced with the batch's fingerprint; a data error →
quarantined; anything else, or a record pushed again since Saleor was read → a push of its own,
with what Mailchimp may hold recorded as unknown (a newer push's quarantine stays). An order's
voucher code is counted here, once Mailchimp confirmed the order (as its push counts it after a
confirmed send).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from addon.ecommerce.batch_results import Outcome, classify, error_message
from addon.ecommerce.models import Fingerprint, SyncRecord, SyncStatus
from addon.ecommerce.promo_usage import CodeUse
from addon.ecommerce.record_states import content_forgotten, overtaken, quarantined, settled
from addon.mailchimp.models import BatchOperationResult

# The first operation's outcomes after which Mailchimp holds a record the batch created.
_HELD_AFTER_CREATE: tuple[Outcome, ...] = ("confirmed", "exists")


def apply_one(
    record: SyncRecord,
    meta: dict[str, Any],
    by_operation: dict[str, BatchOperationResult],
    read_at: datetime,
    now: datetime,
) -> bool:
    """Record one entity's outcome; False: it needs a push of its own."""
    results = [by_operation.get(op) for op in meta["operations"]]
    outcomes = [classify(result) for result in results]
    held = meta["mailchimp_id"]
    children = {**(record.children or {}), **meta["children"]}
    if overtaken(record, read_at):
        # Pushed again since Saleor was read: Mailchimp may now hold this older content. A
        # record its push found gone (no id, so nothing deleted or hidden) that the batch then
        # created keeps the id: its next push deletes (an order) or hides (a product) it.
        created = meta.get("first_creates", meta["creates"]) and outcomes[0] in _HELD_AFTER_CREATE
        _forget(record, held if created else None, children, meta, overtaken=True)
        # A newer push that ended in quarantine keeps its verdict: the record waits for a
        # change or a Retry (whose push sends everything), not for another push now.
        return record.status is SyncStatus.QUARANTINED
    if all(outcome == "confirmed" for outcome in outcomes):
        settled(record, SyncStatus.SYNCED, held, Fingerprint(meta["hash"], meta["children"]), now)
        # Created `pending` for its Order Confirmation: its own push now makes it `paid`.
        return not meta.get("then_paid", False)
    refused = [
        result
        for result, outcome in zip(results, outcomes, strict=True)
        if outcome == "quarantined" and result is not None and result.status_code != 404
    ]
    if refused and len(refused) == sum(outcome != "confirmed" for outcome in outcomes):
        # Mailchimp refused the data: this record alone waits for a change or a Retry. What
        # the other operations changed is not known exactly: the next push sends everything.
        _forget(record, None, children, meta)
        quarantined(record, error_message(refused[0]))
        return True
    # Transient, "already exists", 404 (gone from Mailchimp), a refused campaign: its own
    # push (with the worker's retries) knows what to do; it sends everything.
    exists = meta["creates"] and outcomes[0] == "exists"
    _forget(record, held if exists else None, children, meta)
    return False


def apply_unknown(record: SyncRecord, meta: dict[str, Any], read_at: datetime) -> bool:
    """A record of a batch whose submission had an unknown outcome, once no batch it may have
    created can still run (`burst_unknown.py`): whether Mailchimp holds what it sent is not
    known, so it is forgotten; False: it needs a push of its own (as `apply_one`). A record
    pushed since Saleor was read keeps what `apply_one` keeps of an overtaken one (its id if
    the batch may have created it; a newer quarantine, which needs no push)."""
    newer = overtaken(record, read_at)
    if not meta:
        # Taken into the batch with no operations recorded (its job crashed while sending).
        content_forgotten(record, None, record.children or {})
        return False
    children = {**(record.children or {}), **meta["children"]}
    created = newer and meta.get("first_creates", meta["creates"])
    held = meta["mailchimp_id"] if created else None
    _forget(record, held, children, meta, overtaken=newer)
    return newer and record.status is SyncStatus.QUARANTINED


def _forget(
    record: SyncRecord,
    held: str | None,
    children: dict[str, str],
    meta: dict[str, Any],
    *,
    overtaken: bool = False,
) -> None:
    """`content_forgotten`; but a record whose operations sent its fields only (an order's
    PATCH) keeps the children it holds: its push then patches again instead of replacing it.
    Overtaken, a child its newer push recorded with the very content the batch sent is held
    by Mailchimp whichever of the two ran last (an order's lines: its push then patches the
    order's fields only, where unknown lines would be sent again in its PATCH)."""
    kept = dict(record.children or {})
    content_forgotten(record, held, children)
    if meta.get("fields_only"):
        record.children = kept
    elif overtaken:
        sent = meta["children"]
        record.children = {
            key: kept[key] if key in kept and kept[key] == sent.get(key) else "" for key in children
        }


def code_use(
    saleor_id: str, meta: dict[str, Any], by_operation: dict[str, BatchOperationResult]
) -> CodeUse | None:
    """An order's voucher code use (order id, code, voucher id), to count once Mailchimp
    confirmed the order's operation (`Pusher._order_synced`, `promo_usage.orders_used_codes`):
    a refused or failed one is counted by the push that sends it."""
    voucher = meta.get("voucher")
    if not voucher:
        return None
    if not all(classify(by_operation.get(op)) == "confirmed" for op in meta["operations"]):
        return None
    # [code, voucher id, expired] (a batch recorded before expiry was kept: [code, voucher id]).
    code, voucher_id, *expired = voucher
    return CodeUse(saleor_id, code, voucher_id, expired=bool(expired and expired[0]))
