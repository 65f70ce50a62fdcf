"""A burst whose `POST /batches` has an unknown outcome (a 503, an answer lost after Mailchimp
accepted it): sent once, its records held until Mailchimp lists no unfinished batch it may have
created, then pushed one by one, so newest state wins even when the lost batch runs late."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from addon.db.types import utcnow
from addon.ecommerce import burst
from addon.ecommerce.burst_queue import BURST_JOB
from addon.ecommerce.burst_release import release_unsent
from addon.ecommerce.models import (
    PUSH_JOB,
    BurstBatch,
    BurstStatus,
    EntityKind,
    SyncRecord,
    SyncStatus,
)
from addon.ecommerce.push_request import PushRequest
from addon.jobs.models import Job, JobStatus
from addon.jobs.schemas import ClaimedJob
from addon.jobs.worker import Worker
from tests.conftest import RecordingTransport
from tests.ecommerce.batch_faults import BatchFaults
from tests.ecommerce.conftest import Shop
from tests.ecommerce.test_burst import (
    batch_calls,
    bursty,
    direct_writes,
    make_due,
    reading_batch,
    settle,
)

__all__ = ["bursty"]  # the fixture, imported


CHANNEL = "default-channel"


def rerun_of(leader_job_id: int, installation_id: int) -> ClaimedJob:
    """A rerun of the push job that led a burst (as `release_unsent` is given it)."""
    return ClaimedJob(
        id=leader_job_id, installation_id=installation_id, kind=PUSH_JOB, payload={}, attempts=2
    )


async def held_rows(shop: Shop) -> list[BurstBatch]:
    async with shop.services.db.session() as session:
        return list(await session.scalars(select(BurstBatch)))


async def held_by_a_rerun(shop: Shop, prefix: str, leader_job_id: int) -> list[Any]:
    """Three synced customers in a batch being sent by push job `leader_job_id`, which a rerun
    of that job (its worker died, or its lease was lost) then holds; the customers."""
    name = prefix.upper()
    customers = [
        await shop.saleor.create_customer(f"{prefix}{i}@example.com", f"{name}{i}", "Last")
        for i in range(3)
    ]
    await settle(shop)
    first = await shop.record(EntityKind.CUSTOMER, customers[0].global_id)
    assert first is not None
    sent_at = utcnow() - timedelta(seconds=5)
    ids = [c.global_id for c in customers]
    async with shop.services.db.transaction() as session:
        kind = EntityKind.CUSTOMER
        session.add(
            reading_batch(first.installation_id, kind, leader_job_id, ids, sent_at, sent_at)
        )
    leader = rerun_of(leader_job_id, first.installation_id)
    own = PushRequest(channel=CHANNEL, kind=EntityKind.CUSTOMER, saleor_id=customers[0].global_id)
    await release_unsent(shop.services, leader, keep=own)
    return customers


async def test_a_503_to_post_batches_is_sent_once_and_its_records_held_then_pushed(
    bursty: Shop, outbound: RecordingTransport
) -> None:
    shop = bursty
    faults = BatchFaults.install(outbound, shop.mailchimp, shop.account)
    customers = [
        await shop.saleor.create_customer(f"u{i}@example.com", f"U{i}", "Last") for i in range(5)
    ]
    faults.mode = "503"
    start = len(shop.mailchimp.requests)
    await Worker(shop.services).run_until_idle()

    # Sent once; Mailchimp may have acted on it: the records are held, nothing pushed yet.
    assert faults.posts == 1 and batch_calls(shop, start) == 1
    assert shop.mailchimp.batches(shop.account) == []  # the 503 created none
    assert direct_writes(shop, start) == []
    [row] = await held_rows(shop)
    assert row.status is BurstStatus.SUBMITTED and row.mailchimp_batch_id is None
    assert set(row.records) == {c.global_id for c in customers}
    # The Activity page counts them as records in batches; nothing failed.
    activity = (await shop.api("GET", "/api/activity")).json()
    assert activity["backlog"]["in_batches"] == 5
    async with shop.services.db.session() as session:
        failed = await session.scalar(
            select(func.count()).select_from(Job).where(Job.last_error.is_not(None))
        )
    assert failed == 0

    # Mailchimp lists no unfinished batch: each record is pushed on its own.
    await settle(shop)
    assert faults.posts == 1
    assert sorted(direct_writes(shop, start)) == sorted(f"PUT customers/{c.id}" for c in customers)
    for customer in customers:
        record = await shop.record(EntityKind.CUSTOMER, customer.global_id)
        assert record is not None and record.status is SyncStatus.SYNCED
    assert await held_rows(shop) == []


@pytest.mark.parametrize("status", [400, None], ids=["400", "never-connected"])
async def test_a_refused_post_batches_hands_its_records_back_at_once(
    bursty: Shop, outbound: RecordingTransport, status: int | None
) -> None:
    """A 400, or a connection never made through all of the HTTP layer's attempts, created no
    batch: nothing to wait for. Fails before the fix: the records were held, then pushed after
    a look 30 s later."""
    shop = bursty
    times = 1 if status == 400 else shop.services.settings.mailchimp_max_attempts
    faults = BatchFaults.install(outbound, shop.mailchimp, shop.account)
    customers = [
        await shop.saleor.create_customer(f"r{i}@example.com", f"R{i}", "Last") for i in range(5)
    ]
    faults.refuse(status, times)
    start = len(shop.mailchimp.requests)
    await Worker(shop.services).run_until_idle()

    assert faults.posts == times and faults.refusals == []  # one submission, every attempt
    assert shop.mailchimp.batches(shop.account) == []
    assert await held_rows(shop) == []
    async with shop.services.db.session() as session:
        looks = await session.scalar(
            select(func.count()).select_from(Job).where(Job.kind == BURST_JOB)
        )
    assert looks == 0
    # The records but the leader's (the worker retries its job) are pushed at once, each alone.
    pushed = direct_writes(shop, start)
    assert len(pushed) == len(customers) - 1
    assert set(pushed) < {f"PUT customers/{c.id}" for c in customers}

    await settle(shop)
    assert sorted(direct_writes(shop, start)) == sorted(f"PUT customers/{c.id}" for c in customers)
    for customer in customers:
        record = await shop.record(EntityKind.CUSTOMER, customer.global_id)
        assert record is not None and record.status is SyncStatus.SYNCED
    assert faults.posts == times  # each record pushed alone: no batch sent again


@pytest.mark.parametrize(("asked", "poll_max"), [(None, None), ("864000", None), (None, 7200.0)])
async def test_a_throttled_post_batches_sends_its_records_again_after_the_wait(
    bursty: Shop, outbound: RecordingTransport, asked: str | None, poll_max: float | None
) -> None:
    """A 429 through all of the HTTP layer's attempts (too many pending batches on the
    account, say) created no batch either, but pushing each record at once would only be
    throttled in turn: their pushes, one each, wait as the initial sync waits out a 429
    (Retry-After, else `INITIAL_SYNC_POLL_MAX_SECONDS`). Before, each was pushed at once.
    Alone still: a batch again could be throttled again and again, no record's attempts
    counted. A Retry-After of days, or an `INITIAL_SYNC_POLL_MAX_SECONDS` longer than the
    worker's longest backoff, is waited out as that backoff (before, as long as it said)."""
    shop = bursty
    # The worker's own backoff as in production (the tests' is an hour): the leader's retry
    # waits as long as the others all the same.
    shop.services.settings = shop.services.settings.model_copy(
        update={"worker_backoff_base_seconds": 2.0}
        | ({"initial_sync_poll_max_seconds": poll_max} if poll_max else {})
    )
    times = shop.services.settings.mailchimp_max_attempts
    faults = BatchFaults.install(outbound, shop.mailchimp, shop.account)
    customers = [
        await shop.saleor.create_customer(f"t{i}@example.com", f"T{i}", "Last") for i in range(5)
    ]
    faults.refuse(429, times, retry_after=asked)
    start = len(shop.mailchimp.requests)
    before = utcnow()
    await Worker(shop.services).run_until_idle()
    after = utcnow()

    assert faults.posts == times and faults.refusals == []
    assert direct_writes(shop, start) == [] and await held_rows(shop) == []
    settings = shop.services.settings
    seconds = settings.initial_sync_poll_max_seconds if asked is None else math.inf
    wait = timedelta(seconds=min(seconds, settings.worker_backoff_max_seconds))
    await assert_pushes_wait(shop, customers, before + wait, after + wait)

    await settle(shop)
    assert faults.posts == times  # no batch sent again
    assert sorted(direct_writes(shop, start)) == sorted(f"PUT customers/{c.id}" for c in customers)
    for customer in customers:
        record = await shop.record(EntityKind.CUSTOMER, customer.global_id)
        assert record is not None and record.status is SyncStatus.SYNCED


async def assert_pushes_wait(
    shop: Shop, customers: list[Any], earliest: datetime, latest: datetime
) -> None:
    """The throttled burst's records wait, a push each, from `earliest` to `latest`; the
    leader's job is the worker's to retry, as late."""
    async with shop.services.db.session() as session:
        waiting = list(
            await session.scalars(
                select(Job).where(Job.kind == PUSH_JOB, Job.status == JobStatus.PENDING)
            )
        )
    [leader] = [job for job in waiting if job.last_error]  # retried on its own schedule
    others = [job for job in waiting if not job.last_error]
    assert {job.payload["saleor_id"] for job in [leader, *others]} == {
        customer.global_id for customer in customers
    }
    assert all(earliest <= job.run_after <= latest and job.payload["alone"] for job in others)
    assert min(job.run_after for job in others) <= leader.run_after <= latest


async def test_a_burst_whose_store_check_is_throttled_waits_as_well(
    bursty: Shop, outbound: RecordingTransport
) -> None:
    """The store pushed again before the batch (its ledger record not synced) and throttled
    through every HTTP attempt: before, the records went back to a push each at once, into
    the throttle, and the leader retried after its own backoff."""
    shop = bursty
    shop.services.settings = shop.services.settings.model_copy(
        update={"worker_backoff_base_seconds": 2.0}
    )
    customers = [
        await shop.saleor.create_customer(f"s{i}@example.com", f"S{i}", "Last") for i in range(5)
    ]
    async with shop.services.db.transaction() as session:
        await session.execute(
            update(SyncRecord)
            .where(SyncRecord.kind == EntityKind.STORE)
            .values(status=SyncStatus.PENDING)
        )
    shop.mailchimp.faults.fail_next(
        shop.services.settings.mailchimp_max_attempts, 429, account=shop.account
    )
    start = len(shop.mailchimp.requests)
    before = utcnow()
    await Worker(shop.services).run_until_idle()
    after = utcnow()

    assert direct_writes(shop, start) == [] and batch_calls(shop, start) == 0
    wait = timedelta(seconds=shop.services.settings.initial_sync_poll_max_seconds)
    await assert_pushes_wait(shop, customers, before + wait, after + wait)
    await settle(shop)
    for customer in customers:
        record = await shop.record(EntityKind.CUSTOMER, customer.global_id)
        assert record is not None and record.status is SyncStatus.SYNCED


async def test_a_lost_batch_running_late_does_not_leave_older_content_in_mailchimp(
    bursty: Shop, outbound: RecordingTransport
) -> None:
    """Fails before the fix: the HTTP layer sent POST /batches again, each try created a batch
    whose id was lost, the burst handed its records back, their pushes sent v2 and v3, and the
    lost batches ran later and left v2 in Mailchimp while the ledger said v3 was synced."""
    shop = bursty
    faults = BatchFaults.install(outbound, shop.mailchimp, shop.account)
    products = [await shop.product(f"Mint {i}", "2.00", "3.00") for i in range(5)]
    await settle(shop)
    assert {p.title for p in shop.products().values()} == {p.name for p in products}

    shop.mailchimp.batches_paused = True  # Mailchimp runs it later
    faults.mode, faults.posts = "lose", 0
    for i, product in enumerate(products):
        await shop.saleor.update_product(product, name=f"Mint {i} v2")
    worker = Worker(shop.services)
    await worker.run_until_idle()
    assert faults.posts == 1  # never sent again
    assert len([b for b in shop.mailchimp.batches(shop.account) if b.status != "finished"]) == 1
    faults.mode = "off"

    # Meanwhile the first product changes again; its push lands at once.
    first = products[0]
    await shop.saleor.update_product(first, name="Mint 0 v3")
    await make_due(shop)
    await worker.run_until_idle()
    assert shop.products()[str(first.id)].title == "Mint 0 v3"
    # While the lost batch may run, its records stay held (the look finds it unfinished).
    await make_due(shop)
    await worker.run_until_idle()
    assert len(await held_rows(shop)) == 1

    # Mailchimp runs the lost batch now: v2 lands over v3 ...
    shop.mailchimp.batches_paused = False
    await shop.mailchimp.drain_batches()
    assert shop.products()[str(first.id)].title == "Mint 0 v2"
    # ... and the held records are pushed once it has finished: the newest state wins.
    await settle(shop)
    held = shop.products()
    assert held[str(first.id)].title == "Mint 0 v3"
    for i, product in enumerate(products[1:], start=1):
        assert held[str(product.id)].title == f"Mint {i} v2"
    for product, title in zip(products, ["Mint 0 v3", *(f"Mint {i} v2" for i in range(1, 5))]):
        record = await shop.record(EntityKind.PRODUCT, product.global_id)
        assert record is not None and record.status is SyncStatus.SYNCED
        assert record.label == title and record.content_hash is not None
    assert faults.posts == 1 and await held_rows(shop) == []
    # The ledger holds what Mailchimp holds: nothing is sent again.
    before = len(shop.mailchimp.requests)
    await shop.saleor.update_product(first, name="Mint 0 v3")
    await settle(shop)
    assert direct_writes(shop, before) == [] and batch_calls(shop, before) == 0


async def test_a_push_job_that_crashed_while_sending_its_batch_holds_the_records(
    bursty: Shop,
) -> None:
    """A rerun finds the batch marked as being sent (its worker died before it recorded the
    answer): the records are held as an unknown outcome, not pushed straight away."""
    shop = bursty
    customers = await held_by_a_rerun(shop, "k", 424242)
    [held] = await held_rows(shop)
    assert held.status is BurstStatus.SUBMITTED and held.mailchimp_batch_id is None
    async with shop.services.db.session() as session:
        looks = await session.scalar(
            select(func.count())
            .select_from(Job)
            .where(Job.kind == BURST_JOB, Job.status == JobStatus.PENDING)
        )
    assert looks == 1
    start = len(shop.mailchimp.requests)
    await settle(shop)
    # Nothing unfinished at Mailchimp: each is pushed again in full (what it holds forgotten).
    assert sorted(direct_writes(shop, start)) == sorted(f"PUT customers/{c.id}" for c in customers)
    assert await held_rows(shop) == []


@pytest.mark.parametrize("refused", [False, True], ids=["failed", "refused"])
async def test_a_failure_of_a_send_a_rerun_held_keeps_the_hold_unless_refused(
    bursty: Shop, refused: bool
) -> None:
    """A rerun of the push job (its lease lost) held the batch while the first run was still
    sending it; that send then fails. Failed (a crash, a cancel), it may still have reached
    Mailchimp: the hold stands. Refused, nothing was created: the records go back at once.
    Fails before the fix for a failure: the held row was deleted and its records pushed."""
    shop = bursty
    customers = await held_by_a_rerun(shop, "h", 434343)
    [held] = await held_rows(shop)

    await burst.release(shop.services, held.id, keep=customers[0].global_id, refused=refused)

    async with shop.services.db.session() as session:
        pushes = await session.scalar(
            select(func.count())
            .select_from(Job)
            .where(Job.kind == PUSH_JOB, Job.status == JobStatus.PENDING)
        )
    if refused:
        assert await held_rows(shop) == []
        assert pushes == len(customers) - 1  # all but the first run's own record
    else:
        [still] = await held_rows(shop)
        assert still.status is BurstStatus.SUBMITTED and still.mailchimp_batch_id is None
        assert pushes == 0


async def test_a_batch_a_rerun_held_while_it_was_sent_is_polled_once_its_id_is_known(
    bursty: Shop, outbound: RecordingTransport
) -> None:
    """A rerun of the push job (its lease lost) holds the batch while the first run is still
    sending it; Mailchimp then accepts it and answers its id: the batch is polled and its
    results applied. Fails before the fix: the id was dropped, the hold waited for the batch
    to finish, then every record was pushed again on its own."""
    shop = bursty
    faults = BatchFaults.install(outbound, shop.mailchimp, shop.account)
    customers = [
        await shop.saleor.create_customer(f"l{i}@example.com", f"L{i}", "Last") for i in range(5)
    ]

    async def rerun() -> None:
        async with shop.services.db.session() as session:
            row = (await session.scalars(select(BurstBatch))).one()
        own = PushRequest(channel=CHANNEL, kind=EntityKind.CUSTOMER, saleor_id="")
        await release_unsent(
            shop.services, rerun_of(row.leader_job_id, row.installation_id), keep=own
        )

    faults.while_sending = rerun
    start = len(shop.mailchimp.requests)
    await settle(shop)

    assert faults.posts == 1 and faults.while_sending is None
    assert direct_writes(shop, start) == []  # each record confirmed by the batch
    for customer in customers:
        record = await shop.record(EntityKind.CUSTOMER, customer.global_id)
        assert record is not None and record.status is SyncStatus.SYNCED
    assert await held_rows(shop) == []
