"""Forgetting a customer's addresses in the app's own tables: what remains is their hash.

Every table that can hold a customer's address is covered here (tests/erasure scans them all):

* `contact_states` (one row per address and audience), `customer_addresses` (the address
  last seen for a customer) and `customer_past_addresses` (those they moved away from):
  deleted;
* the e-commerce ledger (`ecommerce_sync_records`): a customer's or cart's label is the address,
  an order's label ends with it; labels become "erased <hash>" and the records of what
  Mailchimp no longer holds are marked removed;
* `jobs`: payloads (webhook bodies, subscription changes, write-backs) and their error texts
  (which Activity shows); the address is replaced by its hash, and the customer's jobs still
  waiting are dropped (they would only bring the address back), the pushes of their ledger
  records too (their payloads name no address);
* batches in flight (`ecommerce_burst_batches`, `initial_sync_batches`): their operations about
  the address are dropped from the compressed bodies, and any text naming it replaced;
* campaign engagement (`engagement_members` with their activity and attributed orders, and the
  customer's hash in `engagement_customers`): deleted.

The addresses' hashes are then remembered with the time (`addon.privacy.erased`): an order
placed at one before now never goes to Mailchimp again, whatever changes it in Saleor later.

The hash is Mailchimp's subscriber hash (MD5 of the lower-cased address): what Mailchimp itself
keeps of a permanently deleted member, and enough to recognise the same address again.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, cast, delete, false, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from addon.db.types import utcnow
from addon.ecommerce.ledger_statements import locking_kinds
from addon.ecommerce.models import PUSH_JOB, BurstBatch, EntityKind, SyncRecord, SyncStatus
from addon.ecommerce.push_queue import ledger_key
from addon.ecommerce.subjects import ORDER_LABEL_SEPARATOR
from addon.engagement.models import EngagementCustomer, EngagementMember
from addon.erasure.known import is_address
from addon.initial_sync.models import InitialSync, InitialSyncBatch
from addon.jobs.models import Job, JobStatus
from addon.mailchimp import subscriber_hash
from addon.privacy.erased import remember_erased
from addon.subscriptions.customer_addresses import CustomerAddress, CustomerPastAddress
from addon.subscriptions.models import ContactState, RegistrationConsent, SignedInCheckout
from addon.subscriptions.statuses_seen import STATUSES_SEEN_JOB


def erased(address: str) -> str:
    """What replaces an address: its subscriber hash."""
    return f"erased:{subscriber_hash(address)}"


def erased_label(address: str) -> str:
    return f"Erased customer {subscriber_hash(address)[:12]}"


@dataclass
class Forgotten:
    contacts: int = 0
    ledger: int = 0
    jobs: int = 0
    dropped_jobs: int = 0
    batches: int = 0
    engagement: int = 0
    addresses: set[str] = field(default_factory=set)


# An ASCII character that can stand right before an address (no character of an address: a
# letter, digit, "_", ".", "+" or "-"), and so may be escaped there, in JSON ("\u0022") or a
# URL ("%20"); a JSON short escape ("\n") too.
_BEFORE_ASCII = [c for c in range(0x80) if not (chr(c).isalnum() or chr(c) in "_.+-")]
_HEX = "|".join(sorted({f"{c:02x}" for c in _BEFORE_ASCII} | {f"{c:02X}" for c in _BEFORE_ASCII}))
_BEFORE = rf"(?:(?<![\w.+-])|(?<=\\[nrtbf])|(?<=\\u00(?:{_HEX}))|(?<=%(?:{_HEX})))"


def address_pattern(addresses: Collection[str]) -> re.Pattern[str]:
    """Any of `addresses`, whole: not inside a longer address ("ann@example.com" is not in
    "joann@example.com" nor in "ann@example.com.au"), a sentence's full stop after it allowed."""
    alternatives = sorted((re.escape(a) for a in addresses), key=len, reverse=True)
    return re.compile(rf"{_BEFORE}(?:{'|'.join(alternatives)})(?![\w-]|\.\w)", re.IGNORECASE)


def names(pattern: re.Pattern[str], value: Any) -> bool:
    """Whether JSON `value` names one of the pattern's addresses, in a key or a string (read
    as decoded, so no escape of the JSON's own stands before it)."""
    if isinstance(value, str):
        return bool(pattern.search(value))
    if isinstance(value, list):
        return any(names(pattern, item) for item in value)
    if isinstance(value, dict):
        return any(names(pattern, k) or names(pattern, v) for k, v in value.items())
    return False


def scrub_text(text: str, addresses: Collection[str]) -> str:
    return address_pattern(addresses).sub(lambda m: erased(m.group(0)), text)


def scrub(value: Any, addresses: Collection[str]) -> Any:
    """`value` (JSON) with every address, in keys and strings, replaced by its hash."""
    if isinstance(value, str):
        return scrub_text(value, addresses)
    if isinstance(value, list):
        return [scrub(item, addresses) for item in value]
    if isinstance(value, dict):
        return {scrub_text(k, addresses): scrub(v, addresses) for k, v in value.items()}
    return value


def _mentions(column: Any, addresses: Iterable[str]) -> ColumnElement[bool]:
    """A coarse SQL filter (the JSON or text lower-cased contains an address); the scrub above
    is exact."""
    text = func.lower(cast(column, String))
    return or_(*(text.contains(a.lower(), autoescape=True) for a in addresses))


async def ledger_records(
    session: AsyncSession,
    installation_id: int,
    addresses: Collection[str],
    saleor_user_id: str | None,
    *,
    locked: bool = False,
) -> list[SyncRecord]:
    """The ledger records about the customer: customers, carts and orders (`locked`: their
    rows locked until the transaction ends, in the ledger's order: first the burst batches
    naming the customer, which `forget` scrubs, then the records kind by kind in id order, as
    a burst's recording and every other writer of many records take them)."""
    lowered = [a.lower() for a in addresses]
    label = func.lower(SyncRecord.label)
    conditions: list[ColumnElement[bool]] = [label.in_(lowered)]
    conditions += [label.endswith(ORDER_LABEL_SEPARATOR + a, autoescape=True) for a in lowered]
    if saleor_user_id:
        conditions.append(
            (SyncRecord.kind == EntityKind.CUSTOMER) & (SyncRecord.saleor_id == saleor_user_id)
        )
    statement = select(SyncRecord).where(
        SyncRecord.installation_id == installation_id, or_(*conditions)
    )
    if not locked:
        return list(await session.scalars(statement.order_by(SyncRecord.id)))
    await session.execute(
        select(BurstBatch.id)
        .where(
            BurstBatch.installation_id == installation_id, _mentions(BurstBatch.records, lowered)
        )
        .order_by(BurstBatch.id)
        .with_for_update()
    )
    return list(await session.scalars(locking_kinds(statement)))


async def drop_pushes(
    session: AsyncSession,
    installation_id: int,
    records: Collection[SyncRecord],
    running_job_id: int | None = None,
) -> list[int]:
    """Drop the waiting pushes of the customer's ledger records (their payloads name no
    address): run after the erasure, each would send the customer to Mailchimp again. Answers
    their ids."""
    lanes = sorted(ledger_key(r.channel_slug, r.kind, r.saleor_id) for r in records)
    if not lanes:
        return []
    result = await session.execute(
        update(Job)
        .where(
            Job.installation_id == installation_id,
            Job.kind == PUSH_JOB,
            Job.status == JobStatus.PENDING,
            Job.lane.in_(lanes),
            Job.id != (running_job_id or 0),
        )
        .values(status=JobStatus.DONE, finished_at=utcnow(), coalesce_key=None)
        .returning(Job.id)
    )
    return list(result.scalars())


def _order_label(label: str, addresses: Collection[str]) -> str:
    number, _, email = label.partition(ORDER_LABEL_SEPARATOR)
    return f"{number}{ORDER_LABEL_SEPARATOR}{erased_label(email)}" if email else label


async def forget(
    session: AsyncSession,
    installation_id: int,
    addresses: Collection[str],
    saleor_user_id: str | None,
    *,
    orders_deleted: bool,
    running_job_id: int | None = None,
) -> Forgotten:
    """Forget `addresses` in every table (see the module's docstring)."""
    done = Forgotten(addresses=set(addresses))
    if not addresses:
        return done
    lowered = [a.lower() for a in addresses]
    result = await session.execute(
        delete(ContactState).where(
            ContactState.installation_id == installation_id,
            or_(
                func.lower(ContactState.email).in_(lowered),
                (ContactState.saleor_user_id == saleor_user_id) if saleor_user_id else false(),
            ),
        )
    )
    done.contacts = int(result.rowcount)  # type: ignore[attr-defined]
    await session.execute(
        delete(CustomerAddress).where(
            CustomerAddress.installation_id == installation_id,
            or_(
                func.lower(CustomerAddress.email).in_(lowered),
                (CustomerAddress.saleor_user_id == saleor_user_id) if saleor_user_id else false(),
            ),
        )
    )
    await session.execute(
        delete(CustomerPastAddress).where(
            CustomerPastAddress.installation_id == installation_id,
            or_(
                CustomerPastAddress.email.in_(lowered),
                (CustomerPastAddress.saleor_user_id == saleor_user_id)
                if saleor_user_id
                else false(),
            ),
        )
    )
    if saleor_user_id:  # the consents a registration gave (`registration_consents`)
        await session.execute(
            delete(RegistrationConsent).where(
                RegistrationConsent.installation_id == installation_id,
                RegistrationConsent.saleor_user_id == saleor_user_id,
            )
        )
        # The checkouts whose consent they gave signed in (`checkout_owner`).
        await session.execute(
            delete(SignedInCheckout).where(
                SignedInCheckout.installation_id == installation_id,
                SignedInCheckout.saleor_user_id == saleor_user_id,
            )
        )
    done.engagement = await _forget_engagement(session, installation_id, lowered, saleor_user_id)

    records = await ledger_records(session, installation_id, addresses, saleor_user_id)
    dropped = await drop_pushes(session, installation_id, records, running_job_id)
    done.dropped_jobs += len(dropped)
    for record in records:
        label = record.label or ""
        if record.kind is EntityKind.ORDER:
            record.label = _order_label(label, addresses)
            if orders_deleted:
                _removed(record)
            elif record.status is SyncStatus.PENDING:
                # Its push dropped: Mailchimp keeps the order as last sent (if it was).
                record.status = SyncStatus.SYNCED if record.mailchimp_id else SyncStatus.REMOVED
        else:
            record.label = erased_label(label if is_address(label) else lowered[0])
            _removed(record)
        if record.last_error:
            record.last_error = scrub_text(record.last_error, addresses)
        done.ledger += 1
    await remember_erased(session, installation_id, addresses, utcnow())

    jobs = await session.scalars(
        select(Job).where(
            Job.installation_id == installation_id,
            or_(_mentions(Job.payload, addresses), _mentions(Job.last_error, addresses)),
        )
    )
    now = utcnow()
    pattern = address_pattern(addresses)
    for job in jobs:
        if not names(pattern, job.payload) and not pattern.search(job.last_error or ""):
            continue  # matched coarsely: a longer address holds this one
        if job.kind == STATUSES_SEEN_JOB and isinstance(job.payload, dict):
            # Many contacts' statuses: the erased ones leave it, the others' still go.
            members = [
                m
                for m in job.payload.get("members") or []
                if not (isinstance(m, dict) and str(m.get("email", "")).lower() in lowered)
            ]
            job.payload = {**job.payload, "members": members}
            if members:
                done.jobs += 1
                continue
        job.payload = scrub(job.payload, addresses)
        if job.last_error:
            job.last_error = scrub_text(job.last_error, addresses)
        if job.status is JobStatus.PENDING and job.id != running_job_id:
            # About the erased customer only: run now, it would bring the address back.
            job.status = JobStatus.DONE
            job.finished_at = now
            job.coalesce_key = None
            done.dropped_jobs += 1
        done.jobs += 1

    bursts = await session.scalars(
        select(BurstBatch).where(
            BurstBatch.installation_id == installation_id, _mentions(BurstBatch.records, addresses)
        )
    )
    for burst in bursts:
        burst.records = scrub(burst.records, addresses)
        done.batches += 1
    batches = await session.scalars(
        select(InitialSyncBatch).where(
            InitialSyncBatch.installation_id == installation_id,
            InitialSyncBatch.bodies.is_not(None),
        )
    )
    for batch in batches:
        if batch.bodies is None:
            continue
        operations = json.loads(zlib.decompress(batch.bodies))
        kept = [op for op in operations if not names(pattern, op)]
        if len(kept) != len(operations):
            batch.bodies = zlib.compress(json.dumps(kept, separators=(",", ":")).encode(), 1)
            batch.operations = scrub(batch.operations, addresses)
            done.batches += 1
    syncs = await session.scalars(
        select(InitialSync).where(
            InitialSync.installation_id == installation_id, _mentions(InitialSync.error, addresses)
        )
    )
    for sync in syncs:
        sync.error = scrub_text(sync.error or "", addresses) or None
    await session.flush()
    return done


async def _forget_engagement(
    session: AsyncSession, installation_id: int, addresses: list[str], saleor_user_id: str | None
) -> int:
    """The customer's campaign engagement (its activity and attributed orders go with it) and
    the hash that matched them to their Saleor account."""
    hashes = [subscriber_hash(a) for a in addresses]
    result = await session.execute(
        delete(EngagementMember).where(
            EngagementMember.installation_id == installation_id,
            or_(
                EngagementMember.email_hash.in_(hashes),
                (EngagementMember.saleor_user_id == saleor_user_id) if saleor_user_id else false(),
            ),
        )
    )
    await session.execute(
        delete(EngagementCustomer).where(
            EngagementCustomer.installation_id == installation_id,
            or_(
                EngagementCustomer.email_hash.in_(hashes),
                (EngagementCustomer.saleor_user_id == saleor_user_id)
                if saleor_user_id
                else false(),
            ),
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _removed(record: SyncRecord) -> None:
    """Mailchimp holds it no more (erased there): the next push, if any, starts afresh."""
    record.status = SyncStatus.REMOVED
    record.mailchimp_id = None
    record.content_hash = None
    record.children = {}
    record.attempts = 0
    record.next_attempt_at = None
