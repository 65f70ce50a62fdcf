"""What the daily sweeps for what Saleor deletes without a webhook share (`cart_sweep.py`,
`product_sweep.py`): one job a day per installation, merged into a pending one; a round over the
tracked channels, swept only while Mailchimp is connected (their pushes could not change
anything otherwise); the next day's queued while a channel is tracked, and queued all the same
when the retries give up (Saleor down for their length)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from addon.connection.models import ConnectionStatus
from addon.connection.repository import ConnectionRepository
from addon.db.types import utcnow
from addon.ecommerce.context import Context, load_context
from addon.ecommerce.stores_repository import StoreRepository
from addon.jobs.registry import HandlerRegistry
from addon.jobs.repository import JobRepository
from addon.jobs.retry import Failure, RetryPolicy
from addon.jobs.schemas import ClaimedJob, NoPayload
from addon.saleor.client import SaleorError
from addon.services import Services

SWEEP_EVERY = timedelta(hours=24)

Handler = Callable[[ClaimedJob, NoPayload, Services], Awaitable[None]]
Schedule = Callable[[AsyncSession, int], Awaitable[None]]


async def schedule_daily(
    session: AsyncSession, installation_id: int, kind: str, *, at: datetime | None = None
) -> None:
    """Queue the installation's next sweep of `kind` (merged into a pending one, which keeps its
    time), a day from now unless `at` says."""
    await JobRepository(session).enqueue(
        installation_id,
        kind,
        NoPayload().model_dump(),
        coalesce_key=kind,
        run_after=at or utcnow() + SWEEP_EVERY,
    )


@dataclass(frozen=True)
class SweepRound:
    """A sweep's view of its installation: the contexts of its tracked channels (the next
    sweep is queued while there are any), and whether Mailchimp is connected."""

    tracked: list[Context]
    connected: bool

    @property
    def to_sweep(self) -> list[Context]:
        return self.tracked if self.connected else []


async def sweep_round(services: Services, installation_id: int) -> SweepRound:
    async with services.db.session() as session:
        channels = [s.channel_slug for s in await StoreRepository(session).tracked(installation_id)]
        connection = await ConnectionRepository(session).get(installation_id)
    connected = connection is not None and connection.status is ConnectionStatus.CONNECTED
    contexts = [await load_context(services, installation_id, c) for c in channels]
    return SweepRound([c for c in contexts if c is not None], connected)


def register_daily(
    registry: HandlerRegistry, kind: str, handler: Handler, schedule: Schedule
) -> None:
    """`handler` as the job `kind`, its retries for Saleor's errors, `schedule` (the next
    day's sweep) queued when they give up."""

    async def next_day_all_the_same(
        session: AsyncSession, job: ClaimedJob, _: NoPayload, failure: Failure
    ) -> None:
        if failure.gave_up:
            await schedule(session, job.installation_id)

    registry.register(
        kind,
        handler,
        payload=NoPayload,
        retry=RetryPolicy(expected=(SaleorError,)),
        on_failure=next_day_all_the_same,
    )
