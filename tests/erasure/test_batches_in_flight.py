"""An erasure asked while a Mailchimp batch carrying the customer waits there, or while a push of
theirs runs: it waits for them, then erases (`addon/erasure/in_flight.py`). Run first, it was
undone: the batch or the push wrote after it and created the customer in Mailchimp again."""

from __future__ import annotations

import zlib
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from addon.db.types import utcnow
from addon.ecommerce.burst_queue import BURST_JOB
from addon.ecommerce.models import PUSH_JOB, BurstBatch, BurstStatus
from addon.erasure import jobs as erasure_jobs
from addon.erasure.jobs import ERASE_JOB, ERASED_NOTE
from addon.erasure.schemas import ErasedCounts, EraseRequest, ErasureSource
from addon.initial_sync.models import BatchStatus, InitialSyncBatch
from addon.jobs.models import Job, JobStatus
from addon.jobs.repository import JobRepository
from addon.jobs.worker import Worker
from tests.ecommerce.conftest import Shop
from tests.ecommerce.test_burst import bursty, make_due
from tests.ecommerce.test_ledger_lock_order import pending
from tests.erasure.scan import rows_naming
from tests.erasure.test_erasure import _users_only
from tests.initial_sync.conftest import CHANNEL, finish, first_batch_held, small

__all__ = ["bursty", "small"]  # the fixtures, imported


async def _burst_held_by_mailchimp(shop: Shop) -> tuple[list[Any], Worker]:
    """Eight customers synced, then changed: their burst's batch sent, Mailchimp holding it."""
    customers = [
        await shop.saleor.create_customer(f"sage{i}@example.com", f"Sage{i}", "Lee")
        for i in range(8)
    ]
    worker = Worker(shop.services)
    await _settle(shop, worker)
    for customer in customers:
        await shop.saleor.update_customer(customer, last_name="Moss")
    shop.mailchimp.batches_paused = True
    await worker.run_until_idle()
    async with shop.services.db.session() as session:
        [row] = await session.scalars(select(BurstBatch))
        assert row.status is BurstStatus.SUBMITTED
    return customers, worker


async def _erase(shop: Shop, customer: Any) -> None:
    url = f"/api/erasure/customers/{customer.global_id}"
    response = await shop.client.post(url, headers=_users_only(shop))
    assert response.status_code == 202, response.text


async def _settle(shop: Shop, worker: Worker) -> None:
    """Run every job, the waiting ones made due, Mailchimp's batches run in between."""
    for _ in range(50):
        await worker.run_until_idle()
        await shop.mailchimp.drain_batches()
        if not await make_due(shop, (PUSH_JOB, BURST_JOB, ERASE_JOB)):
            return
    raise AssertionError("jobs still pending")


def _in_mailchimp(shop: Shop) -> dict[str, str]:
    return {
        c.email_address: c.last_name for c in shop.mailchimp.customers(shop.account, shop.store_id)
    }


async def _erasure_status(shop: Shop) -> JobStatus:
    async with shop.services.db.session() as session:
        [status] = await session.scalars(select(Job.status).where(Job.kind == ERASE_JOB))
    return status


async def test_an_erasure_waits_for_a_burst_batch_that_carries_the_customer(
    bursty: Shop,
) -> None:
    shop = bursty
    customers, worker = await _burst_held_by_mailchimp(shop)
    sage = customers[0]

    await _erase(shop, sage)
    await worker.run_until_idle()
    assert await _erasure_status(shop) is JobStatus.PENDING  # waits, Mailchimp untouched
    assert sage.email in _in_mailchimp(shop)

    shop.mailchimp.batches_paused = False
    await _settle(shop, worker)

    assert await _erasure_status(shop) is JobStatus.DONE
    assert _in_mailchimp(shop) == {c.email: "Moss" for c in customers[1:]}
    assert shop.mailchimp.member(shop.account, shop.list_id, sage.email) is None
    assert await rows_naming(shop.services, sage.email) == []


async def test_an_erasure_waits_no_longer_than_a_batch_may_wait(bursty: Shop) -> None:
    """A batch Mailchimp never finishes does not keep the customer there for ever."""
    shop = bursty
    customers, worker = await _burst_held_by_mailchimp(shop)
    sage = customers[0]
    await _erase(shop, sage)
    await worker.run_until_idle()
    assert await _erasure_status(shop) is JobStatus.PENDING

    wait = timedelta(seconds=shop.services.settings.initial_sync_batch_wait_seconds)
    async with shop.services.db.transaction() as session:
        await session.execute(
            update(Job)
            .where(Job.kind == ERASE_JOB)
            .values(created_at=utcnow() - wait, run_after=utcnow())
        )
    await worker.run_until_idle()

    assert await _erasure_status(shop) is JobStatus.DONE
    assert sage.email not in _in_mailchimp(shop)  # the batch still waits
    async with shop.services.db.session() as session:
        assert await session.scalar(select(Job.id).where(Job.kind == ERASED_NOTE)) is not None


@pytest.mark.parametrize("sync", ["running", "cancelled"])
async def test_an_erasure_waits_for_an_initial_sync_batch_that_names_the_customer(
    small: Shop, sync: str
) -> None:
    """Whatever became of the sync: a cancelled sync's batch still runs at Mailchimp."""
    shop = small
    shop.saleor.generate_store(products=0, customers=5, orders=0, seed=7)
    worker = await first_batch_held(shop)
    sage = list(shop.saleor.store.customers.values())[-1]  # the first is the staff user
    async with shop.services.db.session() as session:
        bodies = await session.scalars(
            select(InitialSyncBatch.bodies).where(InitialSyncBatch.status == BatchStatus.SUBMITTED)
        )
        assert any(b and sage.email in zlib.decompress(b).decode() for b in bodies)
    if sync == "cancelled":
        cancelled = await shop.api("DELETE", f"/api/ecommerce/channels/{CHANNEL}/initial-sync")
        assert cancelled.status_code == 200, cancelled.text

    await _erase(shop, sage)
    await worker.run_until_idle()
    assert await _erasure_status(shop) is JobStatus.PENDING

    shop.mailchimp.batches_paused = False
    if sync == "running":
        await finish(shop)
    await _settle(shop, worker)

    assert await _erasure_status(shop) is JobStatus.DONE
    assert sage.email not in _in_mailchimp(shop)
    assert await rows_naming(shop.services, sage.email) == []


async def _push_of_a_change(shop: Shop, **job: Any) -> tuple[Any, Worker]:
    """A customer synced, then changed: their push queued, its job row given `job`'s values."""
    sage = await shop.saleor.create_customer("sage@example.com", "Sage", "Lee")
    await shop.drain()
    await shop.saleor.update_customer(sage, last_name="Moss")
    worker = Worker(shop.services)
    while await pending(shop, "webhook.%"):
        assert await worker.run_once()
    async with shop.services.db.transaction() as session:
        changed = await session.execute(
            update(Job).where(Job.kind == PUSH_JOB, Job.status == JobStatus.PENDING).values(**job)
        )
        assert changed.rowcount == 1  # type: ignore[attr-defined]
    return sage, worker


async def test_an_erasure_waits_for_a_push_of_the_customer_running_meanwhile(shop: Shop) -> None:
    """The push read Saleor before the erasure: sent after it, it would create the customer in
    Mailchimp again and write their address back into its ledger record."""
    sage, worker = await _push_of_a_change(
        shop,
        status=JobStatus.RUNNING,  # another worker runs it
        locked_by="elsewhere",
        locked_until=utcnow() + timedelta(minutes=5),
    )

    await _erase(shop, sage)
    await worker.run_until_idle()
    assert await _erasure_status(shop) is JobStatus.PENDING

    async with shop.services.db.transaction() as session:
        await session.execute(  # its worker goes on: the push is sent
            update(Job)
            .where(Job.kind == PUSH_JOB, Job.status == JobStatus.RUNNING)
            .values(status=JobStatus.PENDING, locked_by=None, locked_until=None)
        )
    await _settle(shop, worker)

    assert await _erasure_status(shop) is JobStatus.DONE
    assert sage.email not in _in_mailchimp(shop)
    assert await rows_naming(shop.services, sage.email) == []


async def _make_all_due(shop: Shop) -> None:
    async with shop.services.db.transaction() as session:
        await session.execute(
            update(Job).where(Job.status == JobStatus.PENDING).values(run_after=utcnow())
        )


async def test_an_erasure_drops_the_customers_pushes_still_waiting(shop: Shop) -> None:
    """A push waiting (backing off, say) would send the customer to Mailchimp again once they
    are erased: the erasure drops it (its payload names the record, not the address)."""
    sage, worker = await _push_of_a_change(shop, run_after=utcnow() + timedelta(minutes=5))

    await _erase(shop, sage)
    await worker.run_until_idle()
    assert await _erasure_status(shop) is JobStatus.DONE
    await _make_all_due(shop)
    await worker.run_until_idle()

    assert sage.email not in _in_mailchimp(shop)
    assert await rows_naming(shop.services, sage.email) == []


async def test_an_erasure_leaves_what_names_a_longer_address_alone(shop: Shop) -> None:
    """Erasing ann@example.com neither drops nor rewrites a job about joann@example.com (a
    longer address holding it), such as her own erasure waiting its turn."""
    ann = await shop.saleor.create_customer("ann@example.com", "Ann", "Lee")
    await shop.drain()
    async with shop.services.db.transaction() as session:
        installation_id = await session.scalar(select(Job.installation_id).limit(1))
        assert installation_id is not None
        joann_job = await JobRepository(session).enqueue(
            installation_id,
            "subscriptions.sync_contact",
            {"email": "joann@example.com", "note": "for joann@example.com.au too"},
            run_after=utcnow() + timedelta(hours=1),
        )

    await _erase(shop, ann)
    await shop.drain()

    async with shop.services.db.session() as session:
        joann = await session.get(Job, joann_job)
    assert joann is not None and joann.status is JobStatus.PENDING
    assert joann.payload == {"email": "joann@example.com", "note": "for joann@example.com.au too"}
    assert await _erasure_status(shop) is JobStatus.DONE
    assert ann.email not in _in_mailchimp(shop)


@pytest.mark.parametrize("seen_by", ["the look after erasing", "the last look, locked"])
async def test_a_push_sent_while_mailchimp_is_erased_makes_the_erasure_erase_again(
    shop: Shop, monkeypatch: pytest.MonkeyPatch, seen_by: str
) -> None:
    """A change queued just after the erasure looked, its push sent while the erasure deletes
    in Mailchimp: the erasure sees its record written since, and erases again once more (by
    the look after erasing, or, had the push ended just after that, by the last look)."""
    sage, worker = await _push_of_a_change(shop, run_after=utcnow() + timedelta(hours=1))
    erase_in_mailchimp = erasure_jobs.erase_in_mailchimp
    pushed_meanwhile: list[bool] = []

    async def with_a_push_meanwhile(*args: Any) -> Any:
        erased = await erase_in_mailchimp(*args)
        if not pushed_meanwhile:  # the push, queued after the drop, runs to its end now
            pushed_meanwhile.append(True)
            # Of a change made since the erasure began (an older one is held back:
            # `ecommerce/erased.py`).
            shop.saleor.store.update_customer(sage, last_name="Rowan")
            async with shop.services.db.transaction() as session:
                await session.execute(
                    update(Job)
                    .where(Job.kind == PUSH_JOB, Job.status == JobStatus.DONE)
                    .values(status=JobStatus.PENDING, finished_at=None, run_after=utcnow())
                )
            assert await Worker(shop.services).run_once()
            assert sage.email in _in_mailchimp(shop)
            # And the customer is erased again from the panel meanwhile: a new job of the same
            # erasure, which this one merges into (what it erased carried along).
            await _erase(shop, sage)
        return erased

    monkeypatch.setattr(erasure_jobs, "erase_in_mailchimp", with_a_push_meanwhile)
    if seen_by == "the last look, locked":
        must_wait = erasure_jobs._must_wait

        async def sees_nothing_since(*args: Any, since: Any = None) -> bool:
            return False if since is not None else await must_wait(*args)

        monkeypatch.setattr(erasure_jobs, "_must_wait", sees_nothing_since)
    await _erase(shop, sage)
    await _settle(shop, worker)

    async with shop.services.db.session() as session:
        statuses = list(await session.scalars(select(Job.status).where(Job.kind == ERASE_JOB)))
        notes = list(await session.scalars(select(Job.last_error).where(Job.kind == ERASED_NOTE)))
    assert pushed_meanwhile and statuses == [JobStatus.DONE, JobStatus.DONE], statuses
    assert sage.email not in _in_mailchimp(shop)
    assert await rows_naming(shop.services, sage.email) == []
    [note] = notes  # one erasure, run until done (the one asked again merged into it)
    # Both runs' deletions: the customer, then the customer the push sent again.
    assert note is not None and "2 customer record(s)" in note, note


async def test_an_erasure_asked_again_while_it_waits_keeps_what_it_erased(shop: Shop) -> None:
    """The newest request replaces a waiting erasure's payload (one erasure per address): what
    its earlier runs erased (for the Activity note) and the Saleor user it knew stay."""
    sage = await shop.saleor.create_customer("sage@example.com", "Sage", "Lee")
    await _erase(shop, sage)
    kept = ErasedCounts(members=1, customers=2, carts=1)
    async with shop.services.db.transaction() as session:
        [job] = await session.scalars(select(Job).where(Job.kind == ERASE_JOB))
        asked = EraseRequest.model_validate(job.payload)
        assert asked.saleor_user_id == sage.global_id
        job.payload = asked.model_copy(update={"erased": kept}).model_dump(mode="json")
        installation_id = job.installation_id
    async with shop.services.db.transaction() as session:
        again = EraseRequest(email=sage.email, source=ErasureSource.ACCOUNT_DELETED)
        await erasure_jobs.enqueue_erasure(session, installation_id, again)
    async with shop.services.db.session() as session:
        [payload] = await session.scalars(select(Job.payload).where(Job.kind == ERASE_JOB))
    now = EraseRequest.model_validate(payload)
    assert now.erased == kept and now.saleor_user_id == sage.global_id
    assert now.source is ErasureSource.ACCOUNT_DELETED
