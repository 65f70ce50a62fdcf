"""Starting, reading and cancelling a channel's initial sync (the dashboard API and the CLI)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.types import utcnow
from addon.ecommerce.channel_presence import refuse_if_gone
from addon.ecommerce.channel_state import RunStatus
from addon.ecommerce.promo_jobs import queue_resync_if_offered
from addon.ecommerce.store_state import missing_message
from addon.ecommerce.stores_repository import SettingsRepository, StoreRepository
from addon.errors import Conflict, ErrorCode, NotFound
from addon.initial_sync import handoff, summary
from addon.initial_sync.models import InitialSync, Phase
from addon.initial_sync.repository import InitialSyncRepository
from addon.initial_sync.schemas import InitialSyncRead, KindProgress, StartRequest, StepRetry
from addon.initial_sync.state import (
    KINDS,
    enqueue_step,
    enqueue_watchdog,
    retried_step,
    throttled_until,
)
from addon.installations.models import Installation
from addon.services import Services


class InitialSyncService:
    def __init__(self, session: AsyncSession, services: Services) -> None:
        self.session = session
        self.services = services
        self.syncs = InitialSyncRepository(session)

    async def start(
        self, installation: Installation, channel: str, request: StartRequest | None = None
    ) -> InitialSyncRead:
        settings = await SettingsRepository(self.session).find(installation.id)
        store = await StoreRepository(self.session).get(installation.id, channel)
        if store is None or not store.tracked:
            raise NotFound(
                f"The channel {channel!r} is not tracked.", code=ErrorCode.CHANNEL_NOT_TRACKED
            )
        if settings is None or not settings.tracking_enabled:
            raise Conflict("E-commerce tracking is off.", code=ErrorCode.TRACKING_OFF)
        refuse_if_gone(store)
        if store.missing_since is not None:
            raise Conflict(missing_message(store.name or channel), code=ErrorCode.STORE_MISSING)
        if await self.syncs.running(installation.id, channel) is not None:
            raise self._already_running(channel)
        now = utcnow()
        run = InitialSync(
            installation_id=installation.id,
            channel_slug=channel,
            active_channel=channel,
            status=RunStatus.RUNNING,
            phase=Phase.PRODUCTS,
            streams={},
            orders_since=request.orders_since if request else None,
            store_flagged=False,
            progress={},
            started_at=now,
            last_progress_at=now,
        )
        try:
            async with self.session.begin_nested():
                self.session.add(run)
                await self.session.flush()
        except IntegrityError:
            raise self._already_running(channel) from None
        await enqueue_step(self.session, installation.id, run.id, channel)
        # Vouchers are few: they go by the live ledger path (codes in batches, promo_sync.py).
        await queue_resync_if_offered(self.session, installation.id)
        stall = timedelta(seconds=self.services.settings.initial_sync_stall_seconds)
        await enqueue_watchdog(self.session, installation.id, run.id, now + stall)
        return await self._read(run)

    @staticmethod
    def _already_running(channel: str) -> Conflict:
        return Conflict(
            f"An initial sync of channel {channel!r} is running already.",
            code=ErrorCode.INITIAL_SYNC_RUNNING,
        )

    async def read(self, installation: Installation, channel: str) -> InitialSyncRead:
        run = await self.syncs.latest(installation.id, channel)
        if run is None:
            raise NotFound(
                f"The channel {channel!r} has no initial sync.", code=ErrorCode.NO_INITIAL_SYNC
            )
        return await self._read(run)

    async def cancel(self, installation: Installation, channel: str) -> InitialSyncRead:
        # Locked: a step ending the sync meanwhile, or moving it on, waits for the cancel.
        run = await self.syncs.running(installation.id, channel, for_update=True)
        if run is None:
            raise NotFound(
                f"No initial sync of channel {channel!r} is running.",
                code=ErrorCode.NO_INITIAL_SYNC,
            )
        run.status = RunStatus.CANCELLED
        run.finished_at = utcnow()
        run.active_channel = None
        # The next step (queued now, or the pending one brought forward) clears is_syncing.
        await enqueue_step(self.session, installation.id, run.id, channel, sooner=True)
        await self.session.flush()
        return await self._read(run)

    async def _read(self, run: InitialSync) -> InitialSyncRead:
        end = run.finished_at or utcnow()
        elapsed = max((end - run.started_at).total_seconds(), 0.0)
        views = summary.kind_states(run, KINDS, await self.syncs.unapplied(run.id))
        running = run.status is RunStatus.RUNNING
        handed = await handoff.handed_waiting(self.session, run) if running else 0
        step = await retried_step(self.session, run, self.services.settings) if running else None
        retrying = throttled = None
        if step is not None and step.last_error is not None:
            retrying = StepRetry(
                attempts=step.attempts, retry_at=step.run_after, last_error=step.last_error
            )
        elif running:
            throttled = await throttled_until(self.session, run)
        kinds = []
        for kind, view in zip(KINDS, views, strict=True):
            counters = (run.progress or {}).get(kind.value, {})
            total = counters.get("total") if kind.value in (run.progress or {}) else None
            done = sum(counters.get(k, 0) for k in ("confirmed", "quarantined", "skipped"))
            done += counters.get("retried", 0)
            rate = done / elapsed if elapsed > 0 and done else None
            eta = None
            if rate and total is not None and run.status is RunStatus.RUNNING:
                eta = max(total - done, 0) / rate
            kinds.append(
                KindProgress(
                    kind=kind.value,
                    total=total,
                    read=counters.get("read", 0),
                    skipped=counters.get("skipped", 0),
                    sent=counters.get("sent", 0),
                    confirmed=counters.get("confirmed", 0),
                    quarantined=counters.get("quarantined", 0),
                    retried=counters.get("retried", 0),
                    rate_per_second=round(rate, 2) if rate else None,
                    eta_seconds=round(eta, 1) if eta is not None else None,
                    state=view.state,
                    state_label=view.label,
                )
            )
        return InitialSyncRead(
            id=run.id,
            channel=run.channel_slug,
            status=run.status,
            phase=run.phase,
            orders_since=run.orders_since,
            started_at=run.started_at,
            finished_at=run.finished_at,
            error=run.error,
            batches_in_flight=await self.syncs.in_flight(run.id),
            kinds=kinds,
            retrying=retrying,
            throttled_until=throttled,
            summary=summary.summary(run, views, handed),
        )
