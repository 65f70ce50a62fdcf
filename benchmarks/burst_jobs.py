"""What the jobs table of the burst benchmark's app says of a drain (`benchmarks.burst`): when
its phases ended, and whether the app is done with it."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from addon.ecommerce.burst_queue import BURST_JOB
from addon.ecommerce.sync import PUSH_JOB
from addon.installations.webhooks import webhook_job_kind


async def _connect(database_url: str) -> asyncpg.Connection:
    return await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))


async def phases(database_url: str, since: float) -> tuple[float | None, float | None]:
    """When the drain's webhook jobs were all handled, and when its last push job ended (taken
    over into a batch, or sent on its own), from the jobs table's `finished_at`, in seconds
    after `since` (a Unix time); None where no such job finished after it."""
    connection = await _connect(database_url)
    try:
        row = await connection.fetchrow(
            "SELECT"
            " max(finished_at) FILTER (WHERE kind = $1) AS webhooks,"
            " max(finished_at) FILTER (WHERE kind = $2) AS pushes"
            " FROM jobs WHERE finished_at >= to_timestamp($3)",
            webhook_job_kind("ecommerce-products"),
            PUSH_JOB,
            since,
        )
    finally:
        await connection.close()
    assert row is not None

    def after(at: datetime | None) -> float | None:
        return None if at is None else at.timestamp() - since

    return after(row["webhooks"]), after(row["pushes"])


async def settled(database_url: str) -> bool:
    """Whether no push or burst job is waiting or running (the batches' results applied)."""
    connection = await _connect(database_url)
    try:
        left = await connection.fetchval(
            "SELECT count(*) FROM jobs WHERE kind IN ($1, $2) AND status IN ('pending', 'running')",
            PUSH_JOB,
            BURST_JOB,
        )
    finally:
        await connection.close()
    return left == 0
