"""`GET /metrics`: Prometheus text format (addon.metrics), behind `METRICS_TOKEN`.

Without METRICS_TOKEN the route answers 404, as if it did not exist: metrics name the store's
job kinds and traffic, so they are off until the operator gives Prometheus a token
(`Authorization: Bearer <METRICS_TOKEN>`; a missing or wrong token gets 401).

Besides the counters of every process, each scrape reads the job queue (per job kind, how many
jobs wait to run, due now and of an active installation, and how long the oldest has waited)
and the running initial syncs' progress per channel.
"""

from __future__ import annotations

import hmac
from datetime import datetime

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from addon import metrics
from addon.clock import current_clock
from addon.dependencies import ServicesDep
from addon.ecommerce.channel_state import RunStatus
from addon.errors import ErrorCode, NotFound, error_body
from addon.initial_sync.models import InitialSync
from addon.installations.models import Installation
from addon.jobs.models import Job, JobStatus
from addon.jobs.statements import in_state

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def scrape(request: Request, services: ServicesDep) -> Response:
    token = services.settings.metrics_token
    if token is None:
        raise NotFound("Not Found")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    expected = token.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
        return JSONResponse(
            error_body(ErrorCode.UNAUTHORIZED, "Send Authorization: Bearer <METRICS_TOKEN>."),
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    families = [*await _queue(services), await _initial_syncs(services)]
    return Response(metrics.render(families), media_type=metrics.CONTENT_TYPE)


async def _queue(services: ServicesDep) -> list[GaugeMetricFamily]:
    now = current_clock().now()
    waiting = GaugeMetricFamily(
        f"{metrics.PREFIX}_jobs_waiting",
        "Jobs due to run now and not yet claimed, by kind (active installations).",
        labels=["kind"],
    )
    oldest = GaugeMetricFamily(
        f"{metrics.PREFIX}_jobs_oldest_waiting_seconds",
        "How long the oldest job due to run has waited for a worker, by kind.",
        labels=["kind"],
    )
    query = (
        select(Job.kind, func.count(), func.min(Job.run_after))
        .join(Installation, Installation.id == Job.installation_id)
        .where(in_state(JobStatus.PENDING), Job.run_after <= now, Installation.is_active)
        .group_by(Job.kind)
        .order_by(Job.kind)
    )
    async with services.db.session() as session:
        rows = (await session.execute(query)).all()
    for kind, count, since in rows:
        waiting.add_metric([kind], float(count))
        oldest.add_metric([kind], _seconds(now, since))
    return [waiting, oldest]


# The counters an initial sync keeps per kind (addon.initial_sync: InitialSync.progress).
SYNC_COUNTERS = ("total", "read", "skipped", "sent", "confirmed", "quarantined", "retried")


async def _initial_syncs(services: ServicesDep) -> GaugeMetricFamily:
    progress = GaugeMetricFamily(
        f"{metrics.PREFIX}_initial_sync_records",
        "Running initial syncs' progress per channel and kind: total (Saleor's count, once "
        "known), read, skipped, sent, confirmed, quarantined, retried (handed to live sync).",
        labels=["installation", "channel", "kind", "counter"],
    )
    query = select(InitialSync).where(InitialSync.status == RunStatus.RUNNING)
    async with services.db.session() as session:
        runs = list((await session.execute(query)).scalars())
    for run in runs:
        for kind, counters in sorted((run.progress or {}).items()):
            for counter in SYNC_COUNTERS:
                value = counters.get(counter) if isinstance(counters, dict) else None
                if isinstance(value, int | float):
                    labels = [str(run.installation_id), run.channel_slug, kind, counter]
                    progress.add_metric(labels, float(value))
    return progress


def _seconds(now: datetime, since: datetime) -> float:
    return max(0.0, (now - since).total_seconds())
