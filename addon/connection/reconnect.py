"""Work that waits for a disconnected Mailchimp account to be connected again, rather than
end without being done: an erasure (`addon.erasure`), a shopper's unsubscribe
(`addon.subscriptions.apply`). Each tries again every `RECONNECT_RETRY_SECONDS`, for as long as
Mailchimp gives a controller to honour a deletion request (`RECONNECT_WAIT`).

Such work is owed to the account it was asked under. Connecting another account drops the
app's data of the first (`account_data.py`), so a run against the new one would find nothing
and report success while the customer stays in the first. So the capabilities that owe it say
which jobs (`OWED_TO_ACCOUNT`, a port): connecting another account is refused while any
waits, unless the admin confirms (`Linking.save`); then the switch's time is kept
(`MailchimpConnection.account_switched_at`) and each such job, made due at once, ends saying
it was not done (`asked_of_another_account`). Reconnecting the same account makes them due at
once too: they finish then, not at their next hourly try; and so does a check of a revoked
connection whose credentials work again (`resume`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from addon.connection.models import MailchimpConnection
from addon.db.types import utcnow
from addon.installations.models import Installation
from addon.jobs.models import Job, JobStatus
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob
from addon.services import Port, Services

logger = logging.getLogger(__name__)

RECONNECT_RETRY_SECONDS = 3600.0
# Mailchimp asks a controller to honour a deletion request within 30 days
# (mailchimp.com/help/delete-contacts).
RECONNECT_WAIT = timedelta(days=30)
# What Activity says of such work once another account was connected in its place.
NOT_DONE_SWITCHED = "Not done: the Mailchimp account was switched"
# The event of the same account reachable again (reconnected after a revoked key or a reset,
# or a revoked key working again at a check): its data was kept, and what could not reach it
# meanwhile goes now (e-commerce re-queues the pushes that found it unreachable). A job kind
# other capabilities register a handler for; its payload is empty (handlers read the
# connection).
RESUMED_KIND = "connection.resumed"
# The event of a connection made (`Linking.save`) or made usable again (a check finding a
# revoked key working, `ConnectionService.check`): a job kind other capabilities register a
# handler for (audiences import the account's audiences and start their schedule again, which
# ended while the account was unreachable). Its payload is empty (handlers read the connection).
CONNECTED_KIND = "connection.connected"


@dataclass(frozen=True)
class OwedKind:
    """Jobs of one kind owed to the account they were asked under: those unfinished whose
    payload `owes` (all by default), named `one` or `many` to the admin, who is told what
    becomes of them if another account is connected all the same (`dropped`)."""

    kind: str
    one: str
    many: str
    dropped: str
    owes: Callable[[dict[str, Any]], bool] = lambda _: True
    # False: news for the store, owed to no one in the account (an address change received
    # while away): run at once when the same account is back, but another may be connected.
    blocks_switch: bool = True

    def named(self, count: int) -> str:
        return f"{count} {self.one if count == 1 else self.many}"


# Answered by the composition root with every capability's kinds.
OWED_TO_ACCOUNT: Port[tuple[OwedKind, ...]] = Port("connection.owed_to_account")


@dataclass(frozen=True)
class Owed:
    """The installation's unfinished jobs owed to the connected account, by kind."""

    jobs: dict[OwedKind, list[int]]

    @property
    def _blocking(self) -> dict[OwedKind, list[int]]:
        return {kind: ids for kind, ids in self.jobs.items() if kind.blocks_switch and ids}

    @property
    def total(self) -> int:
        """How many hold up connecting another account (all run at once on a reconnection)."""
        return sum(len(ids) for ids in self._blocking.values())

    def described(self) -> str:
        """ "2 erasures and 1 unsubscribe"."""
        return _listed([kind.named(len(ids)) for kind, ids in self._blocking.items()])

    def dropped(self) -> str:
        """What becomes of them if another account is connected all the same."""
        return _listed([kind.dropped for kind in self._blocking])


def _listed(parts: list[str]) -> str:
    return " and ".join([", ".join(parts[:-1]), parts[-1]] if len(parts) > 1 else parts)


async def owed_jobs(
    session: AsyncSession, kinds: tuple[OwedKind, ...], installation_id: int
) -> Owed:
    jobs: dict[OwedKind, list[int]] = {}
    for owed in kinds:
        rows = await session.execute(
            select(Job.id, Job.payload).where(
                Job.installation_id == installation_id,
                Job.kind == owed.kind,
                Job.status.in_([JobStatus.PENDING, JobStatus.RUNNING]),
            )
        )
        jobs[owed] = [job_id for job_id, payload in rows if owed.owes(payload or {})]
    return Owed(jobs)


async def run_now(session: AsyncSession, owed: Owed) -> None:
    """The owed jobs waiting (hourly, for the connection) run at once."""
    ids = sorted(job_id for ids in owed.jobs.values() for job_id in ids)
    if ids:
        await session.execute(
            update(Job)
            .where(Job.id.in_(ids), Job.status == JobStatus.PENDING)
            .values(run_after=utcnow())
        )


async def resume(session: AsyncSession, owed: Owed, installation_id: int) -> None:
    """The same account is reachable again: the work owed to it runs now, and the capabilities
    send what found it unreachable (`RESUMED_KIND`)."""
    await run_now(session, owed)
    await JobRepository(session).enqueue(
        installation_id, RESUMED_KIND, {}, coalesce_key=RESUMED_KIND
    )


async def _asked_before(
    session: AsyncSession, job: ClaimedJob, moment: InstrumentedAttribute[datetime | None]
) -> bool:
    """Whether the job was asked before the connection's `moment` (False: it never came)."""
    then = await session.scalar(
        select(moment).where(MailchimpConnection.installation_id == job.installation_id)
    )
    if then is None:  # never: one query
        return False
    asked = await session.scalar(select(Job.created_at).where(Job.id == job.id))
    return asked is not None and asked < then


async def asked_of_another_account(session: AsyncSession, job: ClaimedJob) -> bool:
    """Whether another account was connected in place of the one the job was asked under:
    run now, it would reach that one, never the account it is owed to."""
    return await _asked_before(session, job, MailchimpConnection.account_switched_at)


async def asked_before_forgetting(session: AsyncSession, job: ClaimedJob) -> bool:
    """Whether a reset forgot the account's data (its audiences, stores) since the job was
    asked: what the job knew to work on is gone from the app, not from the account."""
    return await _asked_before(session, job, MailchimpConnection.account_forgotten_at)


async def gave_up_reconnecting(services: Services, job: ClaimedJob) -> bool:
    """Whether a disconnected account is no longer waited for: the job was asked
    `RECONNECT_WAIT` ago, or the app was uninstalled (nobody can connect it again; its last
    job runs an erasure, `addon.installations.uninstall`)."""
    async with services.db.session() as session:
        asked = await session.scalar(select(Job.created_at).where(Job.id == job.id))
        uninstalled = await session.scalar(
            select(Installation.uninstalled_at).where(Installation.id == job.installation_id)
        )
    if uninstalled is not None:
        return True
    if asked is None or utcnow() - asked < RECONNECT_WAIT:
        return False
    logger.warning("%s: Mailchimp was not connected again within 30 days", job.kind)
    return True


__all__ = [
    "CONNECTED_KIND",
    "NOT_DONE_SWITCHED",
    "OWED_TO_ACCOUNT",
    "RECONNECT_RETRY_SECONDS",
    "RECONNECT_WAIT",
    "RESUMED_KIND",
    "Owed",
    "OwedKind",
    "asked_before_forgetting",
    "asked_of_another_account",
    "gave_up_reconnecting",
    "owed_jobs",
    "resume",
    "run_now",
]
