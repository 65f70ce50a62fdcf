"""Queueing the replay of what Saleor did not deliver while the app was deactivated (the job
itself: `missed.py`).

Saleor sends no webhook to an inactive app, and keeps none for later: it picks the webhooks of
an event among active apps only (saleor/webhook/utils.py `get_webhooks_for_event`,
`app__is_active=True`), and activating the app again sends nothing of what happened meanwhile.
So when processing resumes, the installation's `missed_since` becomes this job.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from addon.jobs.repository import JobRepository

MISSED_JOB = "installation.missed"


class Missed(BaseModel):
    """Since when Saleor may have delivered nothing (its own clock: see `replay.MARGIN`)."""

    model_config = ConfigDict(frozen=True)
    since: AwareDatetime


async def queue_missed(
    session: AsyncSession, installation_id: int, since: datetime, *, at: datetime | None = None
) -> None:
    """Queue the catch-up from `since`, due now or `at`. Not merged with a pending one: each
    resume replays its own pause."""
    await JobRepository(session).enqueue(
        installation_id, MISSED_JOB, Missed(since=since).model_dump(mode="json"), run_after=at
    )
