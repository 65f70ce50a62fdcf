"""What happened to a ledger record, shared by live and initial sync: settled (synced or
removed), quarantined, or its content at Mailchimp forgotten."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from addon.ecommerce.models import VERDICTS, Fingerprint, SyncRecord, SyncStatus
from addon.jobs.retry import error_text

# A cart record whose checkout became an order (`Pusher._convert_cart`): said in its children,
# which a failure, a new change or a resync leave alone, so a checkout Saleor keeps after its
# order (`orderCreateFromCheckout(removeCheckout: false)`) is never a cart again.
CART_CONVERTED = "converted"
CART_CONVERTED_NOTE = "Its checkout became an order: it is no abandoned cart."


def converted_cart() -> Fingerprint:
    return Fingerprint(None, {CART_CONVERTED: "order"})


def settled(
    record: SyncRecord,
    status: SyncStatus,
    mailchimp_id: str | None,
    fingerprint: Fingerprint | None,
    pushed_at: datetime | None,
    note: str | None = None,
) -> None:
    """Mailchimp answered: it holds `mailchimp_id` with this content (synced), or the entity is
    deliberately not there (removed; `note` says why, for the admin and the next push). The
    failure count starts over."""
    fingerprint = fingerprint or Fingerprint(None)
    record.status = status
    record.mailchimp_id = mailchimp_id
    record.content_hash = fingerprint.content_hash
    record.children = dict(fingerprint.children)
    record.attempts = 0
    record.last_error = note
    record.next_attempt_at = None
    if pushed_at is not None:
        record.pushed_at = pushed_at


def quarantined(record: SyncRecord, reason: str) -> None:
    """Mailchimp refused the data: no retry until it changes or an admin retries."""
    record.status = SyncStatus.QUARANTINED
    record.attempts = 0
    record.last_error = error_text(reason)
    record.next_attempt_at = None


def content_forgotten(
    record: SyncRecord, mailchimp_id: str | None, children: Iterable[str]
) -> None:
    """Mailchimp's content is unknown (a batch may have overwritten a live push): the next
    push sends all of it. `mailchimp_id` is set when Mailchimp is known to hold the record."""
    if mailchimp_id is not None:
        record.mailchimp_id = mailchimp_id
    unknown = Fingerprint.unknown(children)
    record.content_hash = unknown.content_hash
    record.children = unknown.children


class Recorded(Protocol):
    """What `overtaken` reads of a record (a `SyncRecord`, or a `HeldRecord` row)."""

    @property
    def status(self) -> SyncStatus: ...
    @property
    def pushed_at(self) -> datetime | None: ...
    @property
    def updated_at(self) -> datetime: ...


def overtaken(record: Recorded, read_at: datetime) -> bool:
    """A push (or a later batch) recorded it since Saleor was read for a batch: the batch's
    content is older. A push that found it gone and had nothing to hide or delete records it
    removed without `pushed_at`; one that ended in quarantine (`failures.record_failure`, or a
    later batch's refusal) records no `pushed_at` either. (A change arriving meanwhile makes it
    pending, and recording a burst keeps `updated_at`, see `burst._record_submitted`.)"""
    if record.pushed_at is not None and record.pushed_at > read_at:
        return True
    return record.status in VERDICTS and record.updated_at > read_at
