"""A rerun of a push job that led a burst (its worker died mid-burst, or its lease was lost)
hands the records it had taken over back, even when no burst applies any more."""

from __future__ import annotations

from sqlalchemy import select

from addon.db.types import utcnow
from addon.ecommerce.models import PUSH_JOB, BurstBatch, EntityKind
from addon.ecommerce.push_queue import enqueue_push
from addon.ecommerce.repository import LedgerRepository
from addon.jobs.models import Job, JobStatus
from addon.jobs.worker import Worker
from tests.ecommerce.conftest import Shop
from tests.ecommerce.test_burst import bursty, reading_batch, settle

__all__ = ["bursty"]  # the fixture, imported


async def test_a_rerun_of_a_crashed_leader_hands_its_records_back_with_no_backlog_left(
    bursty: Shop,
) -> None:
    """Before, only a rerun that led a burst again looked for what its first run had taken:
    with the backlog drained meanwhile by other workers, it pushed its own record alone and
    the others stayed in the burst's row, pending, with no job left to push them."""
    shop = bursty
    customers = [
        await shop.saleor.create_customer(f"r{i}@example.com", f"R{i}", "Last") for i in range(3)
    ]
    await settle(shop)
    first = await shop.record(EntityKind.CUSTOMER, customers[0].global_id)
    assert first is not None
    scope = (first.installation_id, "default-channel", EntityKind.CUSTOMER)
    async with shop.services.db.transaction() as session:
        await enqueue_push(session, *scope, customers[0].global_id)
    async with shop.services.db.transaction() as session:
        leader = await session.scalar(
            select(Job).where(Job.kind == PUSH_JOB, Job.status == JobStatus.PENDING)
        )
        assert leader is not None and leader.payload["saleor_id"] == customers[0].global_id
        leader.attempts = 1  # claimed once: its worker died while it led the burst below
        ids = [c.global_id for c in customers]
        session.add(
            reading_batch(first.installation_id, EntityKind.CUSTOMER, leader.id, ids, utcnow())
        )
        leader_id = leader.id
    async with shop.services.db.transaction() as session:  # as their pushes, taken over, left them
        for customer in customers[1:]:
            await LedgerRepository(session).mark_pending(*scope, customer.global_id)

    await Worker(shop.services).run_until_idle()

    async with shop.services.db.session() as session:
        assert list(await session.scalars(select(BurstBatch))) == []
        pushed = {
            job.payload["saleor_id"]
            for job in await session.scalars(
                select(Job).where(Job.kind == PUSH_JOB, Job.id > leader_id)
            )
        }
    assert pushed == {c.global_id for c in customers[1:]}
    for customer in customers:
        record = await shop.record(EntityKind.CUSTOMER, customer.global_id)
        assert record is not None and record.status.value == "synced"
