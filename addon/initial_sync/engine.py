"""The initial sync engine: a chain of worker jobs on one lane per channel.

Design:

* `InitialSync` holds where the sync is: one reading stream per kind (Saleor's end cursor of
  the last page sent, and whether every page was read) and progress counters. Products and
  customers are read side by side from the start; orders reference variants, so they are read
  once every product batch is applied. `InitialSyncBatch` holds every Mailchimp batch with
  what each of its operations means for the ledger (Saleor id, Mailchimp id, content hashes),
  the operations as sent (compressed, to resend failed ones) and when to poll it next.
* One `initial_sync.step` job sets the store's `is_syncing` first; afterwards it does, side by
  side: poll the batches whose poll is due (the next look is planned from Mailchimp's own
  progress) and apply the finished ones; resend a queued batch; read pages of each readable
  kind (cursor pagination, the next page fetched while the current one is planned, at most
  `INITIAL_SYNC_BATCH_SIZE` entities, so memory stays flat) and submit them as one batch, while
  fewer than `INITIAL_SYNC_MAX_IN_FLIGHT` batches are at Mailchimp. With nothing left it
  finishes (clears `is_syncing`). Every part records its outcome in a short transaction after
  its calls, and the next step is enqueued last, so a crash repeats at most one step. All steps
  of a channel share a lane (never two at once) and a coalesce key (one chain, even when a
  cancel adds a step).
* A repeated submit (crash after `POST /batches`, before the write) sends the same entities
  again: customers are PUT (idempotent); products and orders are POSTed and Mailchimp answers
  "already exists", recorded as synced with an unknown hash, so live sync sends everything on
  the next change.
* Results go to the ledger (`ecommerce_sync_records`) with the same payloads and hashes as live
  sync, so live sync skips unchanged entities afterwards: success → synced; "already exists" →
  synced; data errors → quarantined with Mailchimp's message; transient errors (5xx, 429) →
  batched again as they were, up to `MAX_SENDS` times, then handed to live sync's push (as is
  a rejected campaign id, which live sync retries without it).
* Live changes win: an entity whose ledger record waits for a live push, or was pushed live
  after its `updatedAt`, is not sent; an entity pushed live after its page was read (the batch
  may have overwritten it with older content) is pushed live again from Saleor's current state.
* A watchdog job fails a sync that made no progress for `INITIAL_SYNC_STALL_SECONDS`; every
  end (success, cancel, failure) clears `is_syncing`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import zlib
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from addon.connection.service import NotConnected, mailchimp_for
from addon.db.types import utcnow
from addon.ecommerce import payloads
from addon.ecommerce.models import EntityKind, SyncRecord, SyncStatus
from addon.ecommerce.schemas import SaleorOrder, SaleorProduct, SaleorUser
from addon.ecommerce.sync import Context, DependencyFailed, Pusher, enqueue_push, load_context
from addon.initial_sync.models import BatchStatus, InitialSync, InitialSyncBatch, Phase, RunStatus
from addon.initial_sync.orders_since import orders_since_query, placed_before
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob, RetryLater
from addon.jobs.worker import HandlerRegistry, backoff_delay
from addon.mailchimp import (
    InvalidCredentials,
    MailchimpClient,
    MailchimpError,
    RateLimited,
    StorePatch,
)
from addon.mailchimp.models import Batch, BatchOperation, BatchOperationResult
from addon.saleor.client import SaleorError
from addon.services import Services

logger = logging.getLogger(__name__)

STEP_JOB = "initial_sync.step"
WATCHDOG_JOB = "initial_sync.watchdog"

# Reading order; the phase shown is the first kind not read completely.
KINDS = (EntityKind.PRODUCT, EntityKind.CUSTOMER, EntityKind.ORDER)
PHASE_OF = {
    EntityKind.PRODUCT: Phase.PRODUCTS,
    EntityKind.CUSTOMER: Phase.CUSTOMERS,
    EntityKind.ORDER: Phase.ORDERS,
}
DOCUMENTS = {
    EntityKind.PRODUCT: ("initial_sync_products", "products"),
    EntityKind.CUSTOMER: ("initial_sync_customers", "customers"),
    EntityKind.ORDER: ("initial_sync_orders", "orders"),
}
# A batch's polls run side by side with reading Saleor; this many batches at most per step.
MAX_POLLS_PER_STEP = 4
# Operations that failed transiently are batched again this many times, then live sync (with
# its own backoff and quarantine) takes over.
MAX_SENDS = 3
COUNTERS = ("total", "read", "skipped", "sent", "confirmed", "quarantined", "retried")


def lane(channel: str) -> str:
    return f"initial-sync:{channel}"


async def enqueue_step(
    session: AsyncSession, installation_id: int, sync_id: int, channel: str, delay: float = 0.0
) -> None:
    await JobRepository(session).enqueue(
        installation_id,
        STEP_JOB,
        {"sync_id": sync_id},
        coalesce_key=f"initial-sync-step:{sync_id}",
        lane=lane(channel),
        run_after=utcnow() + timedelta(seconds=delay),
    )


async def enqueue_watchdog(
    session: AsyncSession, installation_id: int, sync_id: int, at: datetime
) -> None:
    # No lane: it must run even when the step chain is stuck behind a failing step.
    await JobRepository(session).enqueue(
        installation_id,
        WATCHDOG_JOB,
        {"sync_id": sync_id},
        coalesce_key=f"initial-sync-watchdog:{sync_id}",
        run_after=at,
    )


def bump(run: InitialSync, kind: EntityKind, **amounts: int) -> None:
    """Add to the kind's counters (a new dict, so the JSON column sees the change)."""
    progress = {k: dict(v) for k, v in (run.progress or {}).items()}
    counters = progress.setdefault(kind.value, dict.fromkeys(COUNTERS, 0))
    for name, amount in amounts.items():
        counters[name] = counters.get(name, 0) + amount
    run.progress = progress


def set_total(run: InitialSync, kind: EntityKind, total: int) -> None:
    progress = {k: dict(v) for k, v in (run.progress or {}).items()}
    progress.setdefault(kind.value, dict.fromkeys(COUNTERS, 0))["total"] = total
    run.progress = progress


@dataclass(frozen=True)
class Stream:
    """Where the reading of one kind is: Saleor's end cursor of the last page sent."""

    cursor: str | None = None
    done: bool = False

    @classmethod
    def of(cls, streams: dict[str, Any] | None, kind: EntityKind) -> Stream:
        state = (streams or {}).get(kind.value) or {}
        return cls(state.get("cursor"), bool(state.get("done")))


def phase_of(streams: dict[EntityKind, Stream]) -> Phase:
    return next((PHASE_OF[k] for k in KINDS if not streams[k].done), Phase.DONE)


@dataclass(frozen=True)
class Snapshot:
    """The sync row as read at the start of a step (no session held across calls)."""

    id: int
    installation_id: int
    channel: str
    status: RunStatus
    streams: dict[EntityKind, Stream]
    orders_since: datetime | None
    store_flagged: bool

    @classmethod
    def of(cls, run: InitialSync) -> Snapshot:
        return cls(
            run.id,
            run.installation_id,
            run.channel_slug,
            run.status,
            {kind: Stream.of(run.streams, kind) for kind in KINDS},
            run.orders_since,
            run.store_flagged,
        )


@dataclass(frozen=True)
class Flight:
    """A queued or submitted batch as read at the start of a step."""

    id: int
    kind: EntityKind
    status: BatchStatus
    batch_id: str
    polls: int
    submitted_at: datetime
    next_poll_at: datetime | None

    @classmethod
    def of(cls, batch: InitialSyncBatch) -> Flight:
        return cls(
            batch.id,
            EntityKind(batch.kind),
            batch.status,
            batch.mailchimp_batch_id,
            batch.polls,
            batch.submitted_at,
            batch.next_poll_at,
        )


@dataclass(frozen=True)
class Page:
    nodes: list[dict[str, Any]]
    end_cursor: str | None
    has_next: bool
    total: int | None


@dataclass(frozen=True)
class Planned:
    """One operation of a batch being built, and what its success means for the ledger."""

    operation: BatchOperation
    saleor_id: str
    mailchimp_id: str
    content_hash: str
    children: dict[str, str]

    def meta(self) -> dict[str, Any]:
        return {
            "saleor_id": self.saleor_id,
            "mailchimp_id": self.mailchimp_id,
            "hash": self.content_hash,
            "children": self.children,
        }


def _pack(operations: Sequence[BatchOperation]) -> bytes:
    """The operations as sent, compressed (an order batch shrinks about tenfold)."""
    raw = [op.model_dump(mode="json", by_alias=True, exclude_none=True) for op in operations]
    return zlib.compress(json.dumps(raw, separators=(",", ":")).encode(), 1)


def _unpack(packed: bytes) -> list[BatchOperation]:
    return [BatchOperation.model_validate(op) for op in json.loads(zlib.decompress(packed))]


async def ledger_records(
    session: AsyncSession, installation_id: int, channel: str, kind: EntityKind, ids: Sequence[str]
) -> dict[str, SyncRecord]:
    if not ids:
        return {}
    result = await session.execute(
        select(SyncRecord).where(
            SyncRecord.installation_id == installation_id,
            SyncRecord.channel_slug == channel,
            SyncRecord.kind == kind,
            SyncRecord.saleor_id.in_(list(ids)),
        )
    )
    return {record.saleor_id: record for record in result.scalars()}


@dataclass(frozen=True)
class Seen:
    status: SyncStatus
    mailchimp_id: str | None
    pushed_at: datetime | None
    children: dict[str, str]


def _error_message(result: BatchOperationResult) -> str:
    body = result.response if isinstance(result.response, dict) else {}
    parts = [str(body.get("title") or f"HTTP {result.status_code}")]
    if body.get("detail"):
        parts.append(str(body["detail"]))
    for error in body.get("errors") or []:
        if isinstance(error, dict):
            parts.append(f"{error.get('field') or 'field'}: {error.get('message') or ''}".strip())
    return ": ".join(parts[:2]) + ("; " + "; ".join(parts[2:]) if len(parts) > 2 else "")


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


class Step:
    """One step of one sync (see the module docstring)."""

    def __init__(
        self, services: Services, run: Snapshot, context: Context, client: MailchimpClient
    ) -> None:
        self.services = services
        self.settings = services.settings
        self.run = run
        self.ctx = context
        self.client = client

    async def execute(self, flights: list[Flight]) -> None:
        if not self.run.store_flagged:
            await self.flag_store()
            return
        submitted = [f for f in flights if f.status is BatchStatus.SUBMITTED]
        queued = [f for f in flights if f.status is BatchStatus.QUEUED]
        now = utcnow()
        due = [f for f in submitted if f.next_poll_at is None or f.next_poll_at <= now]
        parts: list[Coroutine[Any, Any, float]] = []
        if due:
            parts.append(self._unless_rate_limited(self.track(due[:MAX_POLLS_PER_STEP])))
        room = self.settings.initial_sync_max_in_flight - len(submitted)
        if queued and room > 0:
            parts.append(self._unless_rate_limited(self.resend(queued[0])))  # resends go first
            room -= 1
        for kind in self._readable(flights)[: max(room, 0)]:
            parts.append(self.submit_or_wait(kind))
        if parts:
            # Polling Mailchimp and reading Saleor (one stream per kind) overlap; each part
            # commits on its own and says how long the next step should wait (0: at once).
            delays = []
            for outcome in await asyncio.gather(*parts, return_exceptions=True):
                if isinstance(outcome, BaseException):
                    raise outcome
                delays.append(outcome)
            # A part told to wait (Mailchimp's 429) makes the whole next step wait: asking again
            # at once would re-read Saleor and be refused again.
            async with self.services.db.transaction() as session:
                await self._then(session, max(delays))
        elif phase_of(self.run.streams) is Phase.DONE and not flights:
            await self.finish()
        else:
            # Waiting for Mailchimp: look again when the next poll is due.
            wake = min((f.next_poll_at or now for f in submitted), default=now)
            async with self.services.db.transaction() as session:
                await self._then(session, max((wake - now).total_seconds(), 0.0))

    def _readable(self, flights: list[Flight]) -> list[EntityKind]:
        """Kinds whose next pages may be read now: products and customers from the start;
        orders reference variants, so they wait until every product batch is applied."""
        streams = self.run.streams
        kinds = [k for k in KINDS if not streams[k].done]
        products_pending = not streams[EntityKind.PRODUCT].done or any(
            f.kind is EntityKind.PRODUCT for f in flights
        )
        return [k for k in kinds if not (k is EntityKind.ORDER and products_pending)]

    async def submit_or_wait(self, kind: EntityKind) -> float:
        return await self._unless_rate_limited(self.submit(kind))

    async def _unless_rate_limited(self, call: Coroutine[Any, Any, None]) -> float:
        """Run a part; a 429 (e.g. too many pending batches on the account: Mailchimp allows
        500) is no failure of this sync, only a reason to wait: answer how long."""
        try:
            await call
        except RateLimited as exc:
            return exc.retry_after or self.settings.initial_sync_poll_max_seconds
        return 0.0

    # --- writes (short transactions after the calls) ------------------------------------------

    async def _running(self, session: AsyncSession) -> InitialSync | None:
        run = await session.get(InitialSync, self.run.id, with_for_update=True)
        return run if run is not None and run.status is RunStatus.RUNNING else None

    async def _then(self, session: AsyncSession, delay: float = 0.0) -> None:
        await enqueue_step(session, self.run.installation_id, self.run.id, self.run.channel, delay)

    async def flag_store(self) -> None:
        pusher = Pusher(self.services, self.ctx, self.client)
        await pusher.ensure_store()
        await self.client.update_store(self.ctx.store_id, StorePatch(is_syncing=True))
        async with self.services.db.transaction() as session:
            run = await session.get(InitialSync, self.run.id)
            if run is not None:
                run.store_flagged = True
                run.last_progress_at = utcnow()
            await self._then(session)

    async def track(self, due: list[Flight]) -> None:
        """Poll due batches; apply the finished ones, plan the next look at the others."""
        batches = await asyncio.gather(*(self.client.get_batch(f.batch_id) for f in due))
        for flight, batch in zip(due, batches, strict=True):
            if batch.status == "finished":
                results = await self.client.download_batch_results(batch.response_body_url)
                await self.apply(flight, results)
            else:
                await self.reschedule_poll(flight, batch)

    async def reschedule_poll(self, flight: Flight, batch: Batch) -> None:
        now = utcnow()
        done, total = batch.finished_operations, batch.total_operations
        base = self.settings.initial_sync_poll_base_seconds
        if 0 < done < total:
            # Mailchimp reports its progress: look again when it should be finished.
            elapsed = max((now - flight.submitted_at).total_seconds(), 0.001)
            delay = (total - done) * elapsed / done
        else:
            delay = base * 2 ** min(flight.polls, 16)
        delay = min(max(delay, base), self.settings.initial_sync_poll_max_seconds)
        async with self.services.db.transaction() as session:
            row = await session.get(InitialSyncBatch, flight.id)
            if row is not None:
                row.polls += 1
                row.next_poll_at = now + timedelta(seconds=delay)
            run = await session.get(InitialSync, self.run.id, with_for_update=True)
            if run is not None and batch.status in ("started", "finalizing"):
                run.last_progress_at = now  # Mailchimp working on it counts for the watchdog

    async def finish(self) -> None:
        await self.client.update_store(self.ctx.store_id, StorePatch(is_syncing=False))
        async with self.services.db.transaction() as session:
            run = await session.get(InitialSync, self.run.id, with_for_update=True)
            if run is not None:
                run.store_flagged = False
                if run.status is RunStatus.RUNNING:
                    run.status = RunStatus.SUCCEEDED
                    run.finished_at = utcnow()
                    run.active_channel = None
        logger.info("Initial sync %s of channel %s finished", self.run.id, self.run.channel)

    # --- reading Saleor and submitting a batch -------------------------------------------------

    async def _page(self, kind: EntityKind, cursor: str | None) -> Page:
        document, field = DOCUMENTS[kind]
        variables: dict[str, Any] = {
            "first": self.settings.initial_sync_page_size,
            "after": cursor,
            "withTotal": cursor is None,
        }
        if kind is not EntityKind.CUSTOMER:
            variables["channel"] = self.run.channel
        if kind is EntityKind.ORDER and self.run.orders_since is not None:
            # Filtered by Saleor, with the filter the installation's Saleor version has.
            async with self.services.db.session() as session:
                document, filters = await orders_since_query(
                    session, self.ctx.installation_id, self.run.orders_since
                )
            variables.update(filters)
        data = await self.services.saleor.execute(
            self.ctx.api_url, self.ctx.token, document, variables
        )
        connection = data.get(field) or {}
        page_info = connection.get("pageInfo") or {}
        total = connection.get("totalCount")
        return Page(
            nodes=[edge["node"] for edge in connection.get("edges") or []],
            end_cursor=page_info.get("endCursor") or cursor,
            has_next=bool(page_info.get("hasNextPage")),
            total=int(total) if total is not None else None,
        )

    async def submit(self, kind: EntityKind) -> None:
        size = self.settings.initial_sync_batch_size
        cursor, read_all, total = self.run.streams[kind].cursor, False, None
        planned: dict[str, Planned] = {}
        read = skipped = 0
        live: list[str] = []
        read_at = utcnow()
        # At most `size` entities are read per step, whatever is skipped (a step stays short
        # and its position is recorded), and the next page is fetched while this one is planned.
        fetch: asyncio.Task[Page] | None = asyncio.ensure_future(self._page(kind, cursor))
        try:
            while fetch is not None:
                page = await fetch
                fetch = None
                cursor, read_all = page.end_cursor, not page.has_next
                total = page.total if page.total is not None else total  # first page only
                read += len(page.nodes)
                if not read_all and read < size:
                    fetch = asyncio.ensure_future(self._page(kind, cursor))
                built, to_live, page_skipped = await self.plan(kind, page.nodes)
                for item in built:
                    planned[item.saleor_id] = item
                live.extend(to_live)
                skipped += page_skipped
        finally:
            if fetch is not None:
                fetch.cancel()
        batch_id, bodies = None, None
        if planned:
            operations = [item.operation for item in planned.values()]
            bodies = _pack(operations)
            batch_id = (await self.client.create_batch(operations)).id
        async with self.services.db.transaction() as session:
            run = await self._running(session)
            if run is None:
                return
            for saleor_id in live:
                await enqueue_push(session, run.installation_id, run.channel_slug, kind, saleor_id)
            if batch_id is not None:
                now = utcnow()
                session.add(
                    InitialSyncBatch(
                        installation_id=run.installation_id,
                        sync_id=run.id,
                        kind=kind.value,
                        mailchimp_batch_id=batch_id,
                        status=BatchStatus.SUBMITTED,
                        operations={key: item.meta() for key, item in planned.items()},
                        bodies=bodies,
                        attempt=1,
                        read_at=read_at,
                        submitted_at=now,
                        next_poll_at=self._first_poll(now),
                        polls=0,
                    )
                )
            streams = dict(run.streams or {})
            streams[kind.value] = {"cursor": cursor, "done": read_all}
            run.streams = streams
            run.phase = phase_of({k: Stream.of(streams, k) for k in KINDS})
            run.last_progress_at = utcnow()
            if total is not None:
                set_total(run, kind, total)
            bump(run, kind, read=read, skipped=skipped, sent=len(planned), retried=len(live))

    def _first_poll(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.settings.initial_sync_poll_base_seconds)

    async def resend(self, flight: Flight) -> None:
        """Submit a queued batch: operations that failed transiently, sent again as they were."""
        async with self.services.db.session() as session:
            row = await session.get(InitialSyncBatch, flight.id)
            packed = row.bodies if row is not None else None
        operations = _unpack(packed) if packed else []
        batch_id = (await self.client.create_batch(operations)).id if operations else ""
        async with self.services.db.transaction() as session:
            row = await session.get(InitialSyncBatch, flight.id)
            if row is None or row.status is not BatchStatus.QUEUED:
                return
            now = utcnow()
            row.mailchimp_batch_id = batch_id
            row.status = BatchStatus.SUBMITTED if operations else BatchStatus.APPLIED
            row.submitted_at = now
            row.next_poll_at = self._first_poll(now)

    async def plan(
        self, kind: EntityKind, nodes: list[dict[str, Any]]
    ) -> tuple[list[Planned], list[str], int]:
        """The page's operations, the ids handed to live sync instead, and how many were skipped."""
        ids = [str(node["id"]) for node in nodes]
        async with self.services.db.session() as session:
            records = await ledger_records(
                session, self.ctx.installation_id, self.ctx.channel, kind, ids
            )
            seen = {
                key: Seen(r.status, r.mailchimp_id, r.pushed_at, dict(r.children))
                for key, r in records.items()
            }
            available = await self._available_variants(session, kind, nodes)
        planned: list[Planned] = []
        live: list[str] = []
        skipped = 0
        for node in nodes:
            if kind is EntityKind.ORDER and placed_before(node, self.run.orders_since):
                skipped += 1  # the first day of a day filter (Saleor before 3.22)
                continue
            saleor_id = str(node["id"])
            known = seen.get(saleor_id)
            updated = _parse_time(node.get("updatedAt"))
            if known is not None:
                if known.status is SyncStatus.PENDING:
                    skipped += 1  # a live push is queued: it sends the current state
                    continue
                fresh = known.pushed_at is not None and (
                    updated is None or known.pushed_at >= updated
                )
                if known.status is SyncStatus.SYNCED and fresh:
                    skipped += 1  # pushed live since its last change
                    continue
                if known.mailchimp_id is not None:
                    live.append(saleor_id)  # Mailchimp has an older version: live sync updates
                    continue
            item = self._build(kind, node, available)
            if item is None:
                skipped += 1
            else:
                planned.append(item)
        return planned, live, skipped

    async def _available_variants(
        self, session: AsyncSession, kind: EntityKind, nodes: list[dict[str, Any]]
    ) -> set[str]:
        """Mailchimp variant ids an order line may reference (its product was synced)."""
        if kind is not EntityKind.ORDER:
            return set()
        product_ids = {
            line["variant"]["product"]["id"]
            for node in nodes
            for line in node.get("lines") or []
            if line.get("variant")
        }
        records = await ledger_records(
            session,
            self.ctx.installation_id,
            self.ctx.channel,
            EntityKind.PRODUCT,
            list(product_ids),
        )
        # A product Mailchimp has (its id recorded), even while a live push updates it.
        return {
            variant
            for record in records.values()
            if record.mailchimp_id is not None and record.status is not SyncStatus.QUARANTINED
            for variant in record.children
        }

    def _path(self, *segments: str) -> str:
        return "/ecommerce/stores/" + "/".join((self.ctx.store_id, *segments))

    def _build(self, kind: EntityKind, node: dict[str, Any], available: set[str]) -> Planned | None:
        saleor_id = str(node["id"])
        if kind is EntityKind.PRODUCT:
            product = SaleorProduct.model_validate(node)
            body = payloads.product_input(product, self.ctx.channel, self.ctx.product_url_template)
            if body is None:
                return None
            variants = {v.id: payloads.content_hash(v.body()) for v in body.variants}
            return Planned(
                BatchOperation.of("POST", self._path("products"), body, operation_id=saleor_id),
                saleor_id,
                body.id,
                payloads.content_hash(payloads.top_level(body, "variants")),
                variants,
            )
        if kind is EntityKind.CUSTOMER:
            customer = payloads.customer_input(SaleorUser.model_validate(node), self.ctx.opt_in)
            return Planned(
                BatchOperation.of(
                    "PUT", self._path("customers", customer.id), customer, operation_id=saleor_id
                ),
                saleor_id,
                customer.id,
                payloads.content_hash(customer.body()),
                {},
            )
        order = SaleorOrder.model_validate(node)
        if order.status == "DRAFT" or order.channel.slug != self.ctx.channel:
            return None
        usable = order.model_copy(
            update={
                "lines": [
                    line
                    for line in order.lines
                    if line.variant and payloads.mailchimp_id(line.variant.id) in available
                ]
            }
        )
        campaign = (order.attribution or {}).get(payloads.CAMPAIGN_KEY) or None
        order_body = payloads.order_input(usable, campaign_id=campaign, opt_in=self.ctx.opt_in)
        if order_body is None:
            return None
        return Planned(
            BatchOperation.of("POST", self._path("orders"), order_body, operation_id=saleor_id),
            saleor_id,
            order_body.id,
            payloads.content_hash(
                payloads.top_level(order_body, "lines", "customer", "campaign_id")
            ),
            {"lines": payloads.content_hash([line.body() for line in order_body.lines])},
        )

    # --- applying a finished batch -------------------------------------------------------------

    async def apply(self, flight: Flight, results: list[BatchOperationResult]) -> None:
        by_operation = {r.operation_id: r for r in results if r.operation_id}
        now = utcnow()
        live: list[str] = []
        resend: dict[str, dict[str, Any]] = {}
        async with self.services.db.transaction() as session:
            # The sync row first, then the batch as it is now: a second step running the same
            # apply (after a lost lease) finds it applied.
            run = await session.get(InitialSync, self.run.id, with_for_update=True)
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
                    record.last_error = _error_message(result)[:2000]
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
                session.add(self._resend_batch(batch, resend))
            batch.status = BatchStatus.APPLIED
            batch.applied_at = now
            batch.operations = {}  # applied: the ledger holds it now
            batch.bodies = None
            bump(run, kind, **counts)
            run.last_progress_at = now

    def _resend_batch(
        self, batch: InitialSyncBatch, operations: dict[str, dict[str, Any]]
    ) -> InitialSyncBatch:
        """A queued batch of `batch`'s operations that failed transiently."""
        assert batch.bodies is not None
        kept = [op for op in _unpack(batch.bodies) if op.operation_id in operations]
        return InitialSyncBatch(
            installation_id=batch.installation_id,
            sync_id=batch.sync_id,
            kind=batch.kind,
            mailchimp_batch_id="",
            status=BatchStatus.QUEUED,
            operations=operations,
            bodies=_pack(kept),
            attempt=batch.attempt + 1,
            # As old as the first reading: a live push since then still wins.
            read_at=batch.read_at,
            submitted_at=utcnow(),
            polls=0,
        )


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


# --- jobs ----------------------------------------------------------------------------------------


async def _load(services: Services, sync_id: int) -> tuple[Snapshot, list[Flight]] | None:
    async with services.db.session() as session:
        run = await session.get(InitialSync, sync_id)
        if run is None:
            return None
        result = await session.execute(
            select(InitialSyncBatch)
            .options(defer(InitialSyncBatch.operations), defer(InitialSyncBatch.bodies))
            .where(
                InitialSyncBatch.sync_id == sync_id,
                InitialSyncBatch.status.in_((BatchStatus.QUEUED, BatchStatus.SUBMITTED)),
            )
            .order_by(InitialSyncBatch.id)
        )
        return Snapshot.of(run), [Flight.of(batch) for batch in result.scalars()]


async def end(services: Services, sync_id: int, status: RunStatus, error: str | None) -> bool:
    """Mark a running sync ended and queue the step that clears `is_syncing`."""
    async with services.db.transaction() as session:
        run = await session.get(InitialSync, sync_id)
        if run is None or run.status is not RunStatus.RUNNING:
            return False
        run.status = status
        run.error = error
        run.finished_at = utcnow()
        run.active_channel = None
        await enqueue_step(session, run.installation_id, run.id, run.channel_slug)
    logger.warning("Initial sync %s ended %s: %s", sync_id, status.value, error or "")
    return True


async def _unflag(services: Services, run: Snapshot) -> None:
    async with services.db.session() as session:
        from addon.ecommerce.repository import StoreRepository

        store = await StoreRepository(session).get(run.installation_id, run.channel)
        store_id = store.store_id if store is not None else None
    if store_id is not None:
        try:
            async with mailchimp_for(services, run.installation_id) as client:
                await client.update_store(store_id, StorePatch(is_syncing=False))
        except (NotConnected, InvalidCredentials):
            pass  # the account is gone: there is no flag left to clear
    async with services.db.transaction() as session:
        row = await session.get(InitialSync, run.id)
        if row is not None:
            row.store_flagged = False


async def step_job(job: ClaimedJob, services: Services) -> None:
    loaded = await _load(services, int(job.payload["sync_id"]))
    if loaded is None:
        return
    run, flights = loaded
    settings = services.settings
    try:
        if run.status is not RunStatus.RUNNING:
            if run.store_flagged:
                await _unflag(services, run)
            return
        context = await load_context(services, run.installation_id, run.channel)
        if context is None:
            await end(
                services, run.id, RunStatus.FAILED, "E-commerce tracking of the channel is off."
            )
            return
        async with mailchimp_for(services, run.installation_id) as client:
            await Step(services, run, context, client).execute(flights)
    except (NotConnected, InvalidCredentials) as exc:
        await end(services, run.id, RunStatus.FAILED, f"Mailchimp is not connected: {exc}")
    except (MailchimpError, SaleorError, DependencyFailed) as exc:
        reason = str(exc)[:2000] or type(exc).__name__
        if run.status is RunStatus.RUNNING and job.attempts >= settings.initial_sync_max_attempts:
            await end(services, run.id, RunStatus.FAILED, reason)
            return
        raise RetryLater(
            reason,
            backoff_delay(
                job.attempts,
                settings.worker_backoff_base_seconds,
                settings.worker_backoff_max_seconds,
            ),
        ) from exc


async def watchdog_job(job: ClaimedJob, services: Services) -> None:
    """Fail a sync that stopped making progress (its steps keep failing or were lost)."""
    sync_id = int(job.payload["sync_id"])
    stall = timedelta(seconds=services.settings.initial_sync_stall_seconds)
    async with services.db.session() as session:
        run = await session.get(InitialSync, sync_id)
        if run is None or run.status is not RunStatus.RUNNING:
            return
        last, installation_id = run.last_progress_at, run.installation_id
    if utcnow() - last >= stall:
        await end(services, sync_id, RunStatus.FAILED, "The sync stopped making progress.")
        return
    async with services.db.transaction() as session:
        await enqueue_watchdog(session, installation_id, sync_id, last + stall)


def register(registry: HandlerRegistry) -> None:
    registry.register(STEP_JOB, step_job)
    registry.register(WATCHDOG_JOB, watchdog_job)
