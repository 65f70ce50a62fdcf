"""Readable summaries of an installation's jobs, and retrying quarantined ones."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.activity import rows
from addon.activity.rows import WEBHOOK_PREFIX
from addon.activity.schemas import (
    ActivityItem,
    ActivityList,
    RetryResult,
    StatusCounts,
    SyncBacklog,
)
from addon.connection.models import ConnectionStatus
from addon.connection.repository import ConnectionRepository
from addon.db.types import utcnow
from addon.ecommerce.burst_backlog import backlog_of
from addon.ecommerce.cart_health import ChannelHealth, health_of
from addon.ecommerce.channel_state import LatestInitialSync
from addon.ecommerce.models import EntityKind, SyncRecord
from addon.ecommerce.stores_repository import StoreRepository
from addon.errors import Conflict, ErrorCode, NotFound
from addon.explain import explain
from addon.installations.models import Installation
from addon.jobs.models import Job, JobStatus
from addon.jobs.repository import JobRepository, Retried
from addon.redaction import redact


def summarize(job: Job) -> str:
    """One line an admin understands, e.g. "Webhook ORDER_CREATED" or "Ecommerce: sync order"."""
    if job.kind.startswith(WEBHOOK_PREFIX):
        event = job.payload.get("event") if isinstance(job.payload, dict) else None
        if isinstance(event, str) and event:
            # Rebuilt by a catch-up (a deactivation, an outage: `installations/replay.py`).
            replayed = isinstance(job.payload, dict) and job.payload.get("replayed")
            return f"Webhook {event} (replayed)" if replayed else f"Webhook {event}"
        return f"Webhook ({job.kind.removeprefix(WEBHOOK_PREFIX)})"
    area, _, action = job.kind.partition(".")
    area_text = area.replace("_", " ").capitalize()
    if not action:
        return area_text
    return f"{area_text}: {action.replace('.', ' ').replace('_', ' ')}"


def to_item(job: Job, ctx: rows.Context, note: str | None = None) -> ActivityItem:
    error = redact(job.last_error) if job.last_error else None
    explanation = None
    if job.status is JobStatus.QUARANTINED or (job.status is JobStatus.PENDING and error):
        explanation = explain(error, rows.where(job, ctx))
    return ActivityItem(
        id=job.id,
        kind=job.kind,
        category="event" if job.kind.startswith(WEBHOOK_PREFIX) else "job",
        summary=summarize(job),
        status=job.status,
        attempts=job.attempts,
        last_error=error,
        created_at=job.created_at,
        updated_at=job.updated_at,
        run_after=job.run_after,
        finished_at=job.finished_at,
        can_retry=job.status is JobStatus.QUARANTINED,
        subject=rows.subject(job, ctx),
        handled_by=rows.handled_by(job.kind),
        reason=explanation.reason if explanation else None,
        action=explanation.action if explanation else None,
        details=error,
        note=note or None,
        waiting=rows.waiting(job, ctx),
    )


class ActivityService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.jobs = JobRepository(session)

    async def context(self, installation_id: int, jobs: list[Job]) -> rows.Context:
        """Everything the rows name, in a few queries for the whole page."""
        entities = {e for e in (rows.entity_of(job) for job in jobs) if e is not None}
        labels: dict[tuple[EntityKind, str], str] = {}  # ledger labels by (kind, Saleor id)
        if entities:
            found = await self.session.execute(
                select(SyncRecord.kind, SyncRecord.saleor_id, SyncRecord.label).where(
                    SyncRecord.installation_id == installation_id,
                    SyncRecord.saleor_id.in_({saleor_id for _, saleor_id in entities}),
                    SyncRecord.label.is_not(None),
                )
            )
            for kind, saleor_id, label in found.all():
                if label is not None:
                    labels[(EntityKind(kind), saleor_id)] = label
        lanes = {job.lane for job in jobs if job.lane and job.status is JobStatus.PENDING}
        lane_heads: dict[str, int] = {}
        if lanes:
            heads = await self.session.execute(
                select(Job.lane, func.min(Job.id))
                .where(
                    Job.installation_id == installation_id,
                    Job.lane.in_(lanes),
                    Job.status.in_([JobStatus.PENDING, JobStatus.RUNNING]),
                )
                .group_by(Job.lane)
            )
            lane_heads = {lane: int(head) for lane, head in heads.all() if lane is not None}
        connection = await ConnectionRepository(self.session).get(installation_id)
        installation = await self.session.get(Installation, installation_id)
        return rows.Context(
            now=utcnow(),
            labels=labels,
            stores={
                s.channel_slug: s for s in await StoreRepository(self.session).list(installation_id)
            },
            lane_heads=lane_heads,
            connected=bool(connection and connection.status is ConnectionStatus.CONNECTED),
            app_active=bool(installation and installation.is_active),
        )

    async def overview(
        self,
        installation_id: int,
        *,
        status: JobStatus | None,
        limit: int,
        latest_initial_sync: LatestInitialSync | None = None,
    ) -> ActivityList:
        jobs = await self.jobs.recent(installation_id, limit=limit, status=status)
        counts = await self.jobs.count_by_status(installation_id)
        ctx = await self.context(installation_id, jobs)
        notes = rows.duplicate_notes(jobs)
        return ActivityList(
            items=[to_item(job, ctx, notes.get(job.id)) for job in jobs],
            counts=StatusCounts(**{status.value: count for status, count in counts.items()}),
            status=status,
            limit=limit,
            backlog=await self.backlog(installation_id),
            cart_health=await self.cart_problems(installation_id, latest_initial_sync),
        )

    async def cart_problems(
        self, installation_id: int, latest_initial_sync: LatestInitialSync | None
    ) -> list[ChannelHealth]:
        """The channels whose abandoned-cart e-mails cannot fire, exactly as the E-commerce
        page's health panel says (one computation, `cart_health.health_of`)."""
        if latest_initial_sync is None:
            return []
        health = await health_of(self.session, installation_id, latest_initial_sync)
        return [c for c in health.channels if c.problems]

    async def backlog(self, installation_id: int) -> SyncBacklog:
        """The e-commerce backlog, and its drain time at the last minute's pace."""
        found = await backlog_of(self.session, installation_id)
        total = found.waiting + found.in_batches
        pace = found.applied_last_minute / 60
        return SyncBacklog(
            waiting=found.waiting,
            in_batches=found.in_batches,
            applied_last_minute=found.applied_last_minute,
            drain_seconds=round(total / pace, 1)
            if total and pace
            else (0.0 if not total else None),
        )

    async def retry(self, installation_id: int, job_id: int) -> RetryResult:
        retried = await self.jobs.retry(installation_id, job_id)
        if retried is None:
            job = await self.session.get(Job, job_id)
            if job is None or job.installation_id != installation_id:
                raise NotFound("This item does not exist (it may have been cleaned up).")
            raise Conflict(
                f"Only quarantined items can be retried; this one is {job.status.value} already.",
                code=ErrorCode.NOT_QUARANTINED,
            )
        job = await self.session.get(Job, job_id, populate_existing=True)
        assert job is not None
        return RetryResult(
            item=to_item(job, await self.context(installation_id, [job])),
            message=f"{summarize(job)} will be tried again in a moment."
            if retried is Retried.ITSELF
            else f"{summarize(job)}: newer work for the same record is waiting or under way, "
            "and goes instead.",
        )
