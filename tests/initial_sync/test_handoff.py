"""An initial sync clears the store's `is_syncing` only once the pushes it handed to live sync
are done, or once they stalled for `HANDOFF_LIMIT`, or after `HANDOFF_CAP` in all
(`addon/initial_sync/handoff.py`)."""

from __future__ import annotations

from sqlalchemy import select

from addon.clock import ManualClock
from addon.db.types import utcnow
from addon.ecommerce.models import BurstBatch, BurstStatus, EntityKind, SyncRecord
from addon.ecommerce.push_queue import enqueue_push
from addon.initial_sync.handoff import HANDOFF_CAP, HANDOFF_LIMIT, LOOK_AGAIN, wait_for_handoffs
from addon.initial_sync.models import InitialSync
from addon.jobs.models import Job, JobStatus
from tests.ecommerce.conftest import CHANNEL, Shop
from tests.initial_sync.conftest import start


class Steps:
    """The `then` of a step: records the delay of each next step queued."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, session: object, delay: float) -> None:
        self.delays.append(delay)


async def _sync(shop: Shop) -> tuple[int, int]:
    """The running sync's id and installation's."""
    async with shop.services.db.session() as session:
        run = await session.scalar(select(InitialSync).order_by(InitialSync.id.desc()))
    assert run is not None
    return run.id, run.installation_id


async def _queue(shop: Shop, installation_id: int, saleor_id: str) -> None:
    async with shop.services.db.transaction() as session:
        await enqueue_push(session, installation_id, CHANNEL, EntityKind.ORDER, saleor_id)


async def _done(shop: Shop, saleor_id: str) -> None:
    """The push of the record ran (its job done)."""
    async with shop.services.db.transaction() as session:
        [job] = await session.scalars(select(Job).where(Job.lane.endswith(saleor_id)))
        job.status = JobStatus.DONE
        job.finished_at = utcnow()


async def _failed_once(shop: Shop, saleor_id: str) -> None:
    """The push of the record failed and waits for its retry: the same job, the record changed."""
    async with shop.services.db.transaction() as session:
        [job] = await session.scalars(select(Job).where(Job.lane.endswith(saleor_id)))
        job.attempts += 1
        record = await session.scalar(select(SyncRecord).where(SyncRecord.saleor_id == saleor_id))
        assert record is not None
        record.last_error = "Mailchimp is busy"


async def test_the_sync_waits_for_the_pushes_it_handed_over(shop: Shop, clock: ManualClock) -> None:
    await start(shop)
    sync_id, installation_id = await _sync(shop)
    steps = Steps()
    await _queue(shop, installation_id, "T3JkZXI6MQ==")  # handed to live sync with a batch
    assert await wait_for_handoffs(shop.services, sync_id, steps)
    assert steps.delays == [LOOK_AGAIN]
    clock.advance(LOOK_AGAIN)
    await _queue(
        shop, installation_id, "T3JkZXI6Mg=="
    )  # a live change after the batches: not the sync's
    assert await wait_for_handoffs(shop.services, sync_id, steps)
    await _failed_once(shop, "T3JkZXI6MQ==")
    assert await wait_for_handoffs(shop.services, sync_id, steps)
    await _done(shop, "T3JkZXI6MQ==")
    assert not await wait_for_handoffs(shop.services, sync_id, steps)
    assert steps.delays == [LOOK_AGAIN] * 3


async def test_a_push_that_keeps_failing_holds_the_flag_for_the_limit_only(
    shop: Shop, clock: ManualClock
) -> None:
    await start(shop)
    sync_id, installation_id = await _sync(shop)
    steps = Steps()
    await _queue(shop, installation_id, "T3JkZXI6MQ==")
    await _failed_once(shop, "T3JkZXI6MQ==")
    assert await wait_for_handoffs(shop.services, sync_id, steps)
    clock.advance(HANDOFF_LIMIT.total_seconds() - 1)
    assert await wait_for_handoffs(shop.services, sync_id, steps)
    clock.advance(1)
    assert not await wait_for_handoffs(shop.services, sync_id, steps)


async def test_pushes_a_burst_took_over_or_handed_back_are_waited_for(
    shop: Shop, clock: ManualClock
) -> None:
    """A burst takes pushes over (their jobs done) and sends them as one batch; what it could
    not confirm it hands back as pushes of their own, made after the wait began."""
    await start(shop)
    sync_id, installation_id = await _sync(shop)
    steps = Steps()
    async with shop.services.db.transaction() as session:
        batch = BurstBatch(
            installation_id=installation_id,
            channel_slug=CHANNEL,
            kind=EntityKind.ORDER,
            status=BurstStatus.SUBMITTED,
            leader_job_id=1,
            records={},
        )
        session.add(batch)
    assert await wait_for_handoffs(shop.services, sync_id, steps)
    clock.advance(LOOK_AGAIN)
    async with shop.services.db.transaction() as session:
        await session.delete(await session.get(BurstBatch, batch.id))
        await enqueue_push(
            session, installation_id, CHANNEL, EntityKind.ORDER, "T3JkZXI6Mw==", alone=True
        )
    assert await wait_for_handoffs(shop.services, sync_id, steps)
    await _done(shop, "T3JkZXI6Mw==")
    assert not await wait_for_handoffs(shop.services, sync_id, steps)


async def test_pushes_that_move_hold_the_flag_past_the_limit(
    shop: Shop, clock: ManualClock
) -> None:
    """A backlog taking longer than `HANDOFF_LIMIT` is waited for while one of them is done
    within each `HANDOFF_LIMIT`: cut off, the rest would go out with the automations on."""
    await start(shop)
    sync_id, installation_id = await _sync(shop)
    steps = Steps()
    orders = ["T3JkZXI6MQ==", "T3JkZXI6Mg==", "T3JkZXI6Mw=="]
    for order in orders:
        await _queue(shop, installation_id, order)
        await _failed_once(shop, order)  # tried: each waits for its retry
    assert await wait_for_handoffs(shop.services, sync_id, steps)
    clock.advance(HANDOFF_LIMIT.total_seconds() - 1)
    await _done(shop, orders[0])
    clock.advance(HANDOFF_LIMIT.total_seconds() - 1)
    assert await wait_for_handoffs(shop.services, sync_id, steps)  # 2 limits in, one moved
    await _done(shop, orders[1])
    clock.advance(HANDOFF_LIMIT.total_seconds() - 1)
    assert await wait_for_handoffs(shop.services, sync_id, steps)
    clock.advance(1)  # the last one failing, none done for the limit: a stall
    assert not await wait_for_handoffs(shop.services, sync_id, steps)


async def test_pushes_not_run_yet_hold_the_flag_up_to_the_cap(
    shop: Shop, clock: ManualClock
) -> None:
    """A push the worker has not reached yet is a backlog, not a failure; the wait still ends
    after `HANDOFF_CAP` in all."""
    await start(shop)
    sync_id, installation_id = await _sync(shop)
    steps = Steps()
    await _queue(shop, installation_id, "T3JkZXI6MQ==")
    assert await wait_for_handoffs(shop.services, sync_id, steps)
    clock.advance(HANDOFF_LIMIT.total_seconds() * 2)
    assert await wait_for_handoffs(shop.services, sync_id, steps)
    clock.advance((HANDOFF_CAP - 2 * HANDOFF_LIMIT).total_seconds() - 1)
    assert await wait_for_handoffs(shop.services, sync_id, steps)
    clock.advance(1)
    assert not await wait_for_handoffs(shop.services, sync_id, steps)


async def test_a_burst_at_mailchimp_holds_the_flag_while_it_may_still_run(
    shop: Shop, clock: ManualClock
) -> None:
    """As the sync's own batches (`batch_expected`): Mailchimp may run an account's batches
    long after their submission, one at a time."""
    await start(shop)
    sync_id, installation_id = await _sync(shop)
    steps = Steps()
    async with shop.services.db.transaction() as session:
        session.add(
            BurstBatch(
                installation_id=installation_id,
                channel_slug=CHANNEL,
                kind=EntityKind.ORDER,
                status=BurstStatus.SUBMITTED,
                leader_job_id=1,
                records={},
                submitted_at=utcnow(),
            )
        )
    assert await wait_for_handoffs(shop.services, sync_id, steps)
    wait = shop.services.settings.initial_sync_batch_wait_seconds
    clock.advance(wait)
    assert await wait_for_handoffs(shop.services, sync_id, steps)
    clock.advance(1)
    assert not await wait_for_handoffs(shop.services, sync_id, steps)
