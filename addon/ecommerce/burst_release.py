"""Handing a burst's records back when its leader (the push job that took them over) did not
submit their batch: to one push each, or, if the batch may have been sent, held until no batch
it may have created can still run (`burst_unknown.py`).

A burst's row waits in `reading` while its leader runs. A leader that fails hands its records
back itself (`burst.release`); one whose run ends without a word (its worker crashed, its lease
was lost) does so at its rerun (`release_unsent`). A leader may also end without running again:
its retry merged into a newer push of its record (that job runs under its own id), or it was
quarantined (its runs never ended, or its failures used up its attempts). Its rows are then
orphaned; any rerun or burst of the installation hands them back (`release_unsent`), and a
leader's quarantine its own at once (`release_led`).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.ecommerce.burst_queue import alone
from addon.ecommerce.burst_unknown import held as is_held
from addon.ecommerce.burst_unknown import hold
from addon.ecommerce.ledger_statements import locking
from addon.ecommerce.models import BurstBatch, BurstStatus, EntityKind, SyncRecord
from addon.ecommerce.push_request import PushRequest
from addon.jobs.models import Job
from addon.jobs.schemas import ClaimedJob
from addon.jobs.statements import UNFINISHED
from addon.services import Services


async def release_in(
    session: AsyncSession,
    row: BurstBatch,
    keep: str | None,
    *,
    refused: bool = False,
    wait: float = 0.0,
) -> None:
    """Hand the row's records back (but `keep`, whose job is running), or hold them if their
    batch may have been sent (see `burst.release` for `refused` and `wait`)."""
    if is_held(row) and not refused:
        # Held already, by a rerun of its push job (the lease lost) while this run sent it:
        # the send may still have reached Mailchimp, so the hold stands.
        return
    if row.status is BurstStatus.READING and row.submitted_at is not None and not refused:
        # It may have been sent (a crash, a cancel or a failure once it was on its way).
        await hold(session, row, row.submitted_at)
        return
    scope = (row.installation_id, row.channel_slug, row.kind)
    others = [saleor_id for saleor_id in row.records if saleor_id != keep]
    await alone(session, scope, others, delay=wait)
    await session.delete(row)


async def release_unsent(services: Services, job: ClaimedJob, *, keep: PushRequest) -> None:
    """A rerun of a push job that had taken records over and recorded no submission (its
    worker crashed, or it lost its lease), and the installation's orphaned bursts (their
    leader neither pending nor running): their records go back (`release_in`), but `keep`'s
    (this job's record: it is being pushed)."""
    leader_unfinished = exists().where(
        Job.id == BurstBatch.leader_job_id, Job.status.in_(UNFINISHED)
    )
    which = or_(BurstBatch.leader_job_id == job.id, ~leader_unfinished)
    async with services.db.session() as session:
        found = await session.scalars(select(BurstBatch.id).where(_reading(job, which)))
        batch_ids = sorted(found)
    # Each burst in a transaction of its own (chosen again there, locked): a burst's records
    # are locked in id order as they are marked pending, but two bursts' records in one
    # transaction would be locked one burst after the other, out of the order every other
    # writer of many records keeps (`ledger_statements.locking`).
    for batch_id in batch_ids:
        async with services.db.transaction() as session:
            await _release_reading(session, job, and_(which, BurstBatch.id == batch_id), keep)


async def release_led(session: AsyncSession, job: ClaimedJob, *, keep: PushRequest) -> None:
    """A leader given up (quarantined): what it took over goes back now, in the transaction
    that writes its outcome. Its own record is locked with those, in id order, before any of
    them is written (`ledger_statements.locking`): call it before writing that record."""
    await _release_reading(session, job, BurstBatch.leader_job_id == job.id, keep, lock_keep=True)


async def _release_reading(
    session: AsyncSession,
    job: ClaimedJob,
    which: ColumnElement[bool],
    keep: PushRequest,
    *,
    lock_keep: bool = False,
) -> None:
    """`release_in` for the bursts of `job`'s installation still reading, of those `which`
    selects, locked in id order (waiting for a submission being recorded, then skipping the
    batch it submitted). `lock_keep`: `keep`'s record is locked with theirs."""
    rows = list(
        await session.scalars(
            select(BurstBatch)
            .where(_reading(job, which))
            .order_by(BurstBatch.id)
            .with_for_update(of=BurstBatch)
        )
    )
    if lock_keep and rows:
        await _lock_records(session, job.installation_id, keep, rows)
    for row in rows:
        # The same Saleor id in another channel or kind is another record.
        own = (row.channel_slug, row.kind) == (keep.channel, keep.kind)
        await release_in(session, row, keep.saleor_id if own else None)


async def _lock_records(
    session: AsyncSession, installation_id: int, keep: PushRequest, rows: list[BurstBatch]
) -> None:
    """Lock `keep`'s record and those of `rows`, in id order."""
    scopes: dict[tuple[str, EntityKind], set[str]] = {(keep.channel, keep.kind): {keep.saleor_id}}
    for row in rows:
        scopes.setdefault((row.channel_slug, row.kind), set()).update(row.records)
    which = or_(
        *(
            and_(
                SyncRecord.channel_slug == channel,
                SyncRecord.kind == kind,
                SyncRecord.saleor_id.in_(sorted(saleor_ids)),
            )
            for (channel, kind), saleor_ids in scopes.items()
        )
    )
    records = select(SyncRecord.id).where(SyncRecord.installation_id == installation_id, which)
    await session.execute(locking(records, True))


def _reading(job: ClaimedJob, which: ColumnElement[bool]) -> ColumnElement[bool]:
    """The bursts of `job`'s installation still reading, of those `which` selects."""
    return and_(
        BurstBatch.installation_id == job.installation_id,
        BurstBatch.status == BurstStatus.READING,
        which,
    )
