"""One step of one initial sync: what it does side by side, and the short writes after its calls.

The first step sets the store's `is_syncing`; afterwards a step polls the batches whose poll
is due (the next look planned from Mailchimp's own progress; a finished one leaves room at
Mailchimp), then does, side by side: apply the finished ones (`applier`); resend a queued
batch; read, plan and submit batches of each readable kind (`pipeline`), while fewer than
`INITIAL_SYNC_MAX_IN_FLIGHT` batches are pending at Mailchimp (the room shared by the kinds
read together). A kind submits up to `INITIAL_SYNC_STEP_BATCHES` batches per step, the next
read while the last is submitted, so Saleor's reading does not wait for planning or
Mailchimp; a kind split into slices (`slices`) is read slice by slice side by side, and every
slice's position is written with the batch it fed. With nothing left, and no push it handed to
live sync still waiting (`handoff`), it finishes (clears `is_syncing`). Every part records its
outcome in a short transaction after its calls, and the next step is enqueued last, so a crash
repeats at most one step (of a kind's batches, only the one being submitted: the earlier ones
were written with their positions). A 429 from Mailchimp is no failure, only a reason for the
next step to wait.

A batch is written with its positions just before `POST /batches`, which is sent once: until
Mailchimp's answer gives its id it is `unknown`, and one whose answer never came (a timeout, a
5xx, a crash) is sent again only once Mailchimp lists no unfinished batch it may be
(`unknown.py`). Sent again, customers are PUT (idempotent); products and orders are POSTed and
Mailchimp answers "already exists", which the applier records as synced with an unknown hash;
"already exists" to a first send of what the ledger never knew means Mailchimp had it before
(a store kept from an earlier installation): its live push brings it up to date.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.types import utcnow
from addon.ecommerce.catalog import CatalogPusher
from addon.ecommerce.channel_presence import ensure_listed
from addon.ecommerce.channel_state import RunStatus
from addon.ecommerce.context import Context
from addon.ecommerce.models import EntityKind, SyncRecord
from addon.ecommerce.push_queue import enqueue_pushes
from addon.ecommerce.store_state import confirm_missing, is_store_404
from addon.ecommerce.stores_repository import StoreRepository
from addon.initial_sync import polling
from addon.initial_sync import unknown as unknown_batches
from addon.initial_sync.handoff import wait_for_handoffs
from addon.initial_sync.holds import unflag_dropped
from addon.initial_sync.models import BatchStatus, InitialSync, InitialSyncBatch, Phase
from addon.initial_sync.pipeline import Pipeline, ReadBatch
from addon.initial_sync.state import (
    KINDS,
    Flight,
    Snapshot,
    Stream,
    bump,
    deleted_message,
    end,
    enqueue_step,
    flag_held_elsewhere,
    pack,
    phase_of,
    unpack,
)
from addon.mailchimp import (
    InvalidCredentials,
    MailchimpClient,
    MailchimpError,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    StorePatch,
)
from addon.mailchimp.models import BatchOperation
from addon.services import Services

logger = logging.getLogger(__name__)


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
        self.pipeline = Pipeline(services, run, context, CatalogPusher(services, context, client))
        # Whether this step wrote a batch or applied one (see `_unless_progress`).
        self._progress = False

    async def execute(self, flights: list[Flight]) -> None:
        if not self.run.store_flagged:
            await self.flag_store()
            return
        # This sync fills the ledger: its lookups by id are planned from statistics taken when
        # it held four fifths of its records at least (`Database.analyze_if_grown`).
        await self.services.db.analyze_if_grown(SyncRecord.__tablename__)
        submitted = [f for f in flights if f.status is BatchStatus.SUBMITTED]
        queued = [f for f in flights if f.status is BatchStatus.QUEUED]
        # Sent with an unknown outcome (`unknown.py`): they may be pending at Mailchimp too.
        unknown = [f for f in flights if f.status is BatchStatus.UNKNOWN]
        now = utcnow()
        due = [f for f in submitted if f.next_poll_at is None or f.next_poll_at <= now]
        # Due batches are polled first: one Mailchimp has finished is no longer pending there,
        # so it leaves room for this step's batches (its results are applied side by side).
        answers = await polling.poll(self.client, due)
        polled, delay = answers.seen, self._wait(answers.limited) if answers.limited else 0.0
        delays = [delay]
        parts: list[Coroutine[Any, Any, float]] = []
        if polled or answers.lost:
            parts.append(self._unless_rate_limited(self.settle(answers)))
        looked = [f for f in unknown if f.next_poll_at is None or f.next_poll_at <= now]
        if looked:
            installation_id = self.run.installation_id
            look = unknown_batches.look(
                self.services, self.client, (installation_id, self.run.id), looked
            )
            parts.append(self._unless_rate_limited(look))
        finished = sum(1 for _, batch in polled if batch.status == "finished")
        in_flight = len(submitted) + len(unknown)
        room = self.settings.initial_sync_max_in_flight - in_flight + finished
        if queued and room > 0:
            parts.append(self._unless_rate_limited(self.resend(queued[0])))  # resends go first
            room -= 1
        for kind, batches in self._allot(self._readable(flights), room).items():
            parts.append(self._unless_rate_limited(self.submit(kind, batches)))
        if parts or delay:
            # Applying results and reading Saleor (one stream per kind) overlap; each part
            # commits on its own and says how long the next step should wait (0: at once).
            for outcome in await asyncio.gather(*parts, return_exceptions=True):
                if isinstance(outcome, BaseException):
                    self._unless_progress(outcome)
                else:
                    delays.append(outcome)
            # A part told to wait (Mailchimp's 429) makes the whole next step wait: asking again
            # at once would re-read Saleor and be refused again.
            async with self.services.db.transaction() as session:
                if wait := max(delays):
                    await self._throttled(session, wait)
                await self._then(session, wait)
        elif phase_of(self.run.streams) is Phase.DONE and not flights:
            if not await wait_for_handoffs(self.services, self.run.id, self._then):
                await self.finish()
        else:
            # Waiting for Mailchimp: look again when the next poll is due.
            wake = min((f.next_poll_at or now for f in [*submitted, *unknown]), default=now)
            async with self.services.db.transaction() as session:
                await self._then(session, max((wake - now).total_seconds(), 0.0))

    def _allot(self, kinds: list[EntityKind], room: int) -> dict[EntityKind, int]:
        """How many batches each kind may submit in this step: the room at Mailchimp shared
        in turn (kinds read together overlap), up to `INITIAL_SYNC_STEP_BATCHES` each."""
        allotted = dict.fromkeys(kinds, 0)
        most = self.settings.initial_sync_step_batches
        while room > 0 and any(n < most for n in allotted.values()):
            for kind in kinds:
                if room > 0 and allotted[kind] < most:
                    allotted[kind] += 1
                    room -= 1
        return {kind: n for kind, n in allotted.items() if n}

    def _readable(self, flights: list[Flight]) -> list[EntityKind]:
        """Kinds whose next pages may be read now: products and customers from the start;
        orders reference variants, so they wait until every product batch is applied."""
        streams = self.run.streams
        kinds = [k for k in KINDS if not streams[k].done]
        products_pending = not streams[EntityKind.PRODUCT].done or any(
            f.kind is EntityKind.PRODUCT for f in flights
        )
        return [k for k in kinds if not (k is EntityKind.ORDER and products_pending)]

    async def _unless_rate_limited(self, call: Coroutine[Any, Any, None]) -> float:
        """Run a part; a 429 (e.g. too many pending batches on the account: Mailchimp allows
        500) is no failure of this sync, only a reason to wait: answer how long."""
        try:
            await call
        except RateLimited as exc:
            return self._wait(exc)
        return 0.0

    def _unless_progress(self, exc: BaseException) -> None:
        """A part failed: the step fails (the worker's retry policy), unless it wrote a batch
        or applied one. Then it ends as a step that made progress (a longer step must not
        use up the sync's attempts sooner); the next one goes on from what was written and
        fails as a step if the error goes on."""
        if (
            not self._progress
            or not isinstance(exc, Exception)
            or isinstance(exc, InvalidCredentials)
        ):
            raise exc
        logger.warning("Initial sync %s: a step made progress, then: %r", self.run.id, exc)

    def _wait(self, exc: RateLimited) -> float:
        return polling.wait(self.settings, exc)

    # --- writes (short transactions after the calls) ------------------------------------------

    async def _running(self, session: AsyncSession) -> InitialSync | None:
        run = await session.get(InitialSync, self.run.id, with_for_update=True)
        return run if run is not None and run.status is RunStatus.RUNNING else None

    async def _throttled(self, session: AsyncSession, wait: float) -> None:
        """Mailchimp asked the sync to wait (its 429): no stall. The watchdog's stall time counts
        from the wait's end, for a Retry-After may outlast it (up to the worker's longest
        backoff, an hour by default, against a stall time of half an hour)."""
        run = await self._running(session)
        if run is not None:
            run.last_progress_at = max(run.last_progress_at, utcnow() + timedelta(seconds=wait))

    async def _then(self, session: AsyncSession, delay: float = 0.0) -> None:
        await enqueue_step(session, self.run.installation_id, self.run.id, self.run.channel, delay)

    def _first_poll(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.settings.initial_sync_poll_base_seconds)

    async def flag_store(self) -> None:
        pusher = CatalogPusher(self.services, self.ctx, self.client)
        await pusher.ensure_store()
        try:
            await self.client.update_store(self.ctx.store_id, StorePatch(is_syncing=True))
        except NotFound as exc:
            await end(self.services, self.run.id, RunStatus.FAILED, await self._deleted(exc))
            return
        async with self.services.db.transaction() as session:
            run = await self._running(session)
            if run is not None:
                run.store_flagged = True
                run.last_progress_at = utcnow()
                await self._then(session)
                return
        # Ended or dropped while the flag was set (the account let go: `release.py` read the
        # flags before this PATCH landed, and no job will hold these credentials again): this
        # sync sent nothing yet, so its flag is cleared now, with the client still in hand.
        await unflag_dropped(self.services, self.client, self.run, self.ctx.store_id)

    async def settle(self, answers: polling.Polled) -> None:
        """The polled batches settled (`polling.settle`)."""
        if await polling.settle(self.services, self.client, self.run.id, answers):
            self._progress = True

    async def finish(self) -> None:
        # Pages read in a channel deleted (or given another slug) meanwhile came back empty, as
        # Saleor answers for a slug it does not have: not a success (`channel_presence.py`).
        await ensure_listed(self.services, self.ctx)
        # A re-created store's re-send clears the flag at its own end (ecommerce/resend.py); read
        # now, not as the step began: the re-send may have ended meanwhile.
        async with self.services.db.session() as session:
            store = await StoreRepository(session).get(self.run.installation_id, self.run.channel)
            elsewhere = await flag_held_elsewhere(session, self.run)
        error = None
        if (store is None or store.resend_started_at is None) and not elsewhere:
            try:
                await self.client.update_store(self.ctx.store_id, StorePatch(is_syncing=False))
            except NotFound as exc:
                error = await self._deleted(exc)  # no flag left to clear, nor what was sent
        async with self.services.db.transaction() as session:
            run = await session.get(InitialSync, self.run.id, with_for_update=True)
            if run is not None:
                run.store_flagged = False
                if run.status is RunStatus.RUNNING:
                    run.status = RunStatus.FAILED if error else RunStatus.SUCCEEDED
                    run.error = error
                    run.finished_at = utcnow()
                    run.active_channel = None
        outcome = error or "finished"
        logger.info("Initial sync %s of channel %s: %s", self.run.id, self.run.channel, outcome)
        # It wrote a ledger record per entity: live sync's lookups are planned from now on.
        await self.services.db.analyze(SyncRecord.__tablename__)

    async def _deleted(self, exc: NotFound) -> str:
        """The sync's error for a 404 of its store, deleted in Mailchimp (recorded as live sync
        records it, `store_state`); raised again unless Mailchimp confirms the store is gone."""
        ids = (self.run.installation_id, self.run.channel, self.ctx.store_id)
        if not is_store_404(exc, self.ctx.store_id) or not await confirm_missing(
            self.services, self.client, *ids
        ):
            raise exc
        return deleted_message(self.ctx.store_name or self.run.channel)

    # --- reading Saleor and submitting a batch -------------------------------------------------

    async def submit(self, kind: EntityKind, batches: int) -> None:
        """Up to `batches` batches of the kind, read pipelined (`Pipeline`) and each written
        with the positions its pages reached."""
        stream = self.pipeline.batches(kind, batches)
        try:
            async for batch in stream:
                written = await self._send(kind, batch)
                del batch  # not held while the next one is read
                if not written:
                    return
                self._progress = True
        finally:
            await stream.aclose()

    async def _send(self, kind: EntityKind, batch: ReadBatch) -> bool:
        """Write one batch read with its slices' positions (`unknown` until Mailchimp's answer
        gives its id), then submit it (False: the sync is no longer running)."""
        planned = batch.planned
        operations = [item.operation for item in planned.values()]
        written = await self._write(kind, batch, operations)
        if written is None:
            return False
        if operations:
            await self._submit(written, operations)
        return True

    async def _write(
        self, kind: EntityKind, batch: ReadBatch, operations: list[BatchOperation]
    ) -> int | None:
        """The batch's row (0: nothing to send), or None: the sync is no longer running."""
        planned = batch.planned
        async with self.services.db.transaction() as session:
            run = await self._running(session)
            if run is None:
                return None
            # Together: their records locked in id order (`ledger_statements.locking`).
            live = [(run.channel_slug, kind, saleor_id) for saleor_id in batch.live]
            await enqueue_pushes(session, run.installation_id, live)
            row = None
            if operations:
                row = InitialSyncBatch(
                    installation_id=run.installation_id,
                    sync_id=run.id,
                    kind=kind.value,
                    operations={key: item.meta() for key, item in planned.items()},
                    bodies=pack(operations),
                    attempt=1,
                    read_at=batch.read_at,
                )
                unknown_batches.sending(row)
                session.add(row)
            streams = dict(run.streams or {})
            streams[kind.value] = Stream(tuple(batch.slices)).to_json()
            run.streams = streams
            run.phase = phase_of({k: Stream.of(streams, k) for k in KINDS})
            run.last_progress_at = utcnow()
            bump(
                run,
                kind,
                total=batch.total,
                read=batch.read,
                skipped=batch.skipped,
                sent=len(planned),
                retried=len(batch.live),
            )
            await session.flush()
            return row.id if row is not None else 0

    async def _submit(self, row_id: int, operations: list[BatchOperation]) -> None:
        """`POST /batches` once for the row written `unknown`, and record its id. An unknown
        outcome leaves it so (`unknown.py`); a definite refusal queues it again at once."""
        try:
            batch = await self.client.create_batch(operations)
        except OutcomeUnknown as exc:
            logger.warning(
                "Initial sync %s: batch %s may or may not be at Mailchimp: %s",
                self.run.id,
                row_id,
                exc,
            )
            return
        except MailchimpError:
            # Refused (429 included) or never sent: Mailchimp holds nothing of it.
            async with self.services.db.transaction() as session:
                row = await session.get(InitialSyncBatch, row_id, with_for_update=True)
                if row is not None and row.status is BatchStatus.UNKNOWN:
                    row.status = BatchStatus.QUEUED
                    row.next_poll_at = None
            raise
        async with self.services.db.transaction() as session:
            row = await session.get(InitialSyncBatch, row_id, with_for_update=True)
            if row is None or row.status is not BatchStatus.UNKNOWN:
                return
            now = utcnow()
            row.mailchimp_batch_id = batch.id
            row.status = BatchStatus.SUBMITTED
            row.submitted_at = now
            row.next_poll_at = self._first_poll(now)

    async def resend(self, flight: Flight) -> None:
        """Submit a queued batch: operations that failed transiently (or whose submission was
        refused, or had an unknown outcome), sent again as they were."""
        async with self.services.db.transaction() as session:
            row = await session.get(InitialSyncBatch, flight.id, with_for_update=True)
            if row is None or row.status is not BatchStatus.QUEUED:
                return
            packed = row.bodies
            operations = unpack(packed) if packed else []
            if not operations:
                row.status = BatchStatus.APPLIED
                row.submitted_at = utcnow()
                return
            unknown_batches.sending(row)
        await self._submit(flight.id, operations)
