"""A burst's records when its leader or its polls fail: a rerun of a push job that led a burst
(its worker died mid-burst, or its lease was lost) hands the records it had taken over back,
even when no burst applies any more; a batch whose polls give up holds its records until it
has run."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from addon.db.types import utcnow
from addon.ecommerce.burst_queue import BURST_JOB
from addon.ecommerce.models import PUSH_JOB, BurstBatch, BurstStatus, EntityKind
from addon.ecommerce.push_queue import enqueue_push
from addon.ecommerce.repository import LedgerRepository
from addon.jobs.models import Job, JobStatus
from addon.jobs.worker import Worker
from addon.mailchimp import MailchimpClient, TransientError
from tests.ecommerce.conftest import Shop
from tests.ecommerce.test_burst import (
    batch_calls,
    bursty,
    direct_writes,
    make_due,
    reading_batch,
    settle,
)
from tests.ecommerce.test_burst_unknown import held_rows

__all__ = ["bursty"]  # the fixture, imported


async def led_by(
    shop: Shop, prefix: str, leader_index: int = 0
) -> tuple[list[Any], tuple[int, str, EntityKind], Job]:
    """Three customers synced, then the first one's (`leader_index`'s) push taken as the leader
    of a burst of all three, which it read and never submitted (its row waits in `reading`,
    the others' records pending as their taken-over pushes left them); answers the customers,
    their scope and the leader's job (its row, for the test to say how the leader ended)."""
    customers = [
        await shop.saleor.create_customer(f"{prefix}{i}@example.com", f"{prefix}{i}", "Last")
        for i in range(3)
    ]
    await settle(shop)
    first = await shop.record(EntityKind.CUSTOMER, customers[0].global_id)
    assert first is not None
    scope = (first.installation_id, "default-channel", EntityKind.CUSTOMER)
    async with shop.services.db.transaction() as session:
        await enqueue_push(session, *scope, customers[leader_index].global_id)
    async with shop.services.db.transaction() as session:
        leader = await session.scalar(
            select(Job).where(Job.kind == PUSH_JOB, Job.status == JobStatus.PENDING)
        )
        assert leader is not None
        ids = [c.global_id for c in customers]
        session.add(
            reading_batch(first.installation_id, EntityKind.CUSTOMER, leader.id, ids, utcnow())
        )
        for i, customer in enumerate(customers):
            if i != leader_index:
                await LedgerRepository(session).mark_pending(*scope, customer.global_id)
    return customers, scope, leader


async def out_of_lapses(shop: Shop, job_id: int) -> None:
    """The job's runs never ended (each killed its worker, say): the next claim quarantines it."""
    async with shop.services.db.transaction() as session:
        await session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(
                status=JobStatus.RUNNING,
                attempts=2,
                lapses=shop.services.settings.worker_max_lapses - 1,
                locked_by="dead",
                locked_until=utcnow() - timedelta(seconds=1),
            )
        )


async def assert_handed_back(shop: Shop, customers: list[Any]) -> None:
    async with shop.services.db.session() as session:
        assert list(await session.scalars(select(BurstBatch))) == []
    for customer in customers[1:]:
        record = await shop.record(EntityKind.CUSTOMER, customer.global_id)
        assert record is not None and record.status.value == "synced"


async def test_a_rerun_of_a_crashed_leader_hands_its_records_back_with_no_backlog_left(
    bursty: Shop,
) -> None:
    """Before, only a rerun that led a burst again looked for what its first run had taken:
    with the backlog drained meanwhile by other workers, it pushed its own record alone and
    the others stayed in the burst's row, pending, with no job left to push them."""
    shop = bursty
    customers, _, leader = await led_by(shop, "r")
    async with shop.services.db.transaction() as session:
        # Claimed once: its worker died while it led the burst.
        await session.execute(update(Job).where(Job.id == leader.id).values(attempts=1))
    leader_id = leader.id

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


async def test_a_batch_whose_polls_give_up_holds_its_records_until_it_has_run(
    bursty: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mailchimp fails every look at a batch it still holds: before, once polling gave up the
    records went back to a push each at once, and the batch, run later, left its older
    content in Mailchimp while the ledger said the newer one was synced."""
    shop = bursty
    products = [await shop.product(f"Dill {i}", "2.00", "3.00") for i in range(5)]
    await settle(shop)
    shop.mailchimp.batches_paused = True  # Mailchimp runs it later
    for i, product in enumerate(products):
        await shop.saleor.update_product(product, name=f"Dill {i} v2")

    async def unavailable(self: MailchimpClient, batch_id: str) -> Any:
        raise TransientError("Mailchimp is unavailable", status=503)

    monkeypatch.setattr(MailchimpClient, "get_batch", unavailable)
    worker = Worker(shop.services)
    start = len(shop.mailchimp.requests)
    for _ in range(shop.services.settings.ecommerce_max_attempts + 1):
        await worker.run_until_idle()
        await make_due(shop, (BURST_JOB,))
    assert batch_calls(shop, start) == 1 and direct_writes(shop, start) == []
    [held] = await held_rows(shop)  # polling gave up: held, not handed back
    assert held.status is BurstStatus.SUBMITTED and held.mailchimp_batch_id is None

    # Meanwhile the first product changes again and is pushed on its own.
    first = products[0]
    await shop.saleor.update_product(first, name="Dill 0 v3")
    await worker.run_until_idle()
    assert shop.products()[str(first.id)].title == "Dill 0 v3"
    # Mailchimp runs the batch (v2 over v3); once it lists none unfinished, each record is
    # pushed again and the newest state wins.
    monkeypatch.undo()
    shop.mailchimp.batches_paused = False
    await shop.mailchimp.drain_batches()
    await settle(shop)
    held_titles = {pid: p.title for pid, p in shop.products().items()}
    assert held_titles[str(first.id)] == "Dill 0 v3"
    assert all(held_titles[str(p.id)] == f"Dill {i} v2" for i, p in enumerate(products) if i)
    assert await held_rows(shop) == []


async def test_a_leader_that_ran_out_of_lapses_hands_its_records_back_when_quarantined(
    bursty: Shop,
) -> None:
    """Its runs never ended (each killed its worker, say): quarantined instead of claimed
    again, so no rerun would ever hand back what it took over."""
    shop = bursty
    customers, _, leader = await led_by(shop, "lapsed")
    await out_of_lapses(shop, leader.id)

    await Worker(shop.services).run_until_idle()

    async with shop.services.db.session() as session:
        quarantined = await session.get(Job, leader.id)
        assert quarantined is not None and quarantined.status is JobStatus.QUARANTINED
    leaders = await shop.record(EntityKind.CUSTOMER, customers[0].global_id)
    assert leaders is not None and leaders.status.value == "quarantined"
    await assert_handed_back(shop, customers)


async def test_the_orphaned_burst_of_a_leader_that_will_not_run_again_is_handed_back(
    bursty: Shop,
) -> None:
    """Its retry merged into a newer push of its record (which runs under its own id), so the
    leader is done with its burst unsent: the next rerun (or burst) of the installation hands
    the records back, but the rerun's own (it is pushing it: a push queued for it as well
    would send it twice)."""
    shop = bursty
    customers, scope, leader = await led_by(shop, "merged")
    async with shop.services.db.transaction() as session:
        await session.execute(
            update(Job)
            .where(Job.id == leader.id)
            .values(status=JobStatus.DONE, finished_at=utcnow(), coalesce_key=None)
        )
        await enqueue_push(session, *scope, customers[0].global_id)
        await session.execute(  # the merged retry: a rerun
            update(Job).where(Job.status == JobStatus.PENDING).values(attempts=1)
        )

    await Worker(shop.services).run_until_idle()
    await assert_handed_back(shop, customers)
    async with shop.services.db.session() as session:
        pushes = await session.scalars(
            select(Job.payload).where(Job.kind == PUSH_JOB, Job.id > leader.id)
        )
        pushed = [payload["saleor_id"] for payload in pushes]
    assert pushed.count(customers[0].global_id) == 1  # the rerun itself


async def test_an_orphaned_burst_of_another_channel_hands_back_the_rerun_s_record_too(
    bursty: Shop,
) -> None:
    """The rerun's own record is kept out of its own burst's hand-back (its job is running),
    not out of another scope's: there the same Saleor id is another record, which would be
    left with no job."""
    shop = bursty
    customers, scope, leader = await led_by(shop, "elsewhere")
    async with shop.services.db.transaction() as session:
        await session.execute(
            update(BurstBatch).values(channel_slug="other-channel")
        )  # fmt: skip
        await session.execute(
            update(Job)
            .where(Job.id == leader.id)
            .values(status=JobStatus.DONE, finished_at=utcnow(), coalesce_key=None)
        )
        await enqueue_push(session, *scope, customers[0].global_id)
        await session.execute(update(Job).where(Job.status == JobStatus.PENDING).values(attempts=1))

    await Worker(shop.services).run_until_idle()

    async with shop.services.db.session() as session:
        assert list(await session.scalars(select(BurstBatch))) == []
        pushed = {
            (job.payload["channel"], job.payload["saleor_id"])
            for job in await session.scalars(select(Job).where(Job.kind == PUSH_JOB))
        }
    assert {("other-channel", c.global_id) for c in customers} <= pushed
