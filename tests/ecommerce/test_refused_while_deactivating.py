"""Saleor refusals while the app's token is in doubt wait for the lifecycle check, uncounted
(`addon.installations.token_doubt`, through `HandlerRegistry.defer_failures`).

Before Saleor 3.23.5 (no APP_STATUS_CHANGED) a deactivation shows only as the app's token
refused, and processing pauses after a confirming check `INSTALLATION_CHECK_CONFIRM_SECONDS`
(60 s) later. Each refused call counted as a failed attempt: with the production backoff (2 s
base) the store's pushes were quarantined within that minute (an initial sync failed:
`tests/initial_sync/test_deactivated_mid_sync.py`).
A refusal while Saleor accepts the token is a missing permission: counted, as before.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from addon.clock import ManualClock
from addon.db.types import utcnow
from addon.ecommerce.models import EntityKind, SyncStatus
from addon.ecommerce.promo_sync import NO_PERMISSION
from addon.ecommerce.sync import PUSH_JOB
from addon.installations.models import Installation
from addon.jobs.models import Job, JobStatus
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob
from addon.jobs.worker import Worker
from addon.saleor.client import SaleorPermissionDenied
from addon.services import Services
from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.versions import OLDEST_VERSION
from sandboxes.transport import HostRoutingTransport
from tests.conftest import SALEOR_API_URL, RecordingTransport
from tests.ecommerce.conftest import CHANNEL, Shop, choose, rules

# Production's backoff: the suite's settings stretch it to an hour.
PRODUCTION_BACKOFF = {"worker_backoff_base_seconds": 2.0, "worker_backoff_max_seconds": 3600.0}
REFUSED_KIND = "test.refused"


@pytest.fixture
def saleor(
    network: HostRoutingTransport, saleor_signing_key: Any, clock: ManualClock
) -> SaleorSandbox:
    """Saleor 3.20: no APP_STATUS_CHANGED, a deactivation is seen as a refused token only."""
    sandbox = SaleorSandbox(
        SALEOR_API_URL, transport=network, signing_key=saleor_signing_key, version=OLDEST_VERSION
    )
    network.add("saleor.test", sandbox.app)
    return sandbox


async def _installation(services: Services) -> Installation:
    async with services.db.session() as session:
        return (await session.execute(select(Installation))).scalar_one()


async def _run_for(shop: Shop, clock: ManualClock, seconds: int, worker: Worker) -> None:
    """The worker, two seconds at a time (the backoff's base)."""
    for _ in range(seconds // 2):
        await shop.mailchimp.drain_batches()
        await worker.run_until_idle()
        await shop.services.saleor.settle()
        clock.advance(2)


async def test_pushes_refused_before_a_deactivation_is_confirmed_wait_and_sync_after_it(
    shop: Shop, clock: ManualClock
) -> None:
    services = shop.services
    services.settings = services.settings.model_copy(update=PRODUCTION_BACKOFF)
    products = [await shop.product(f"Fruit{i}", "3.00") for i in range(3)]  # webhooks queued
    await shop.saleor.set_app_active(shop.app, False)
    worker = Worker(services)
    await _run_for(shop, clock, 80, worker)  # the confirmation (60 s) comes within
    assert (await _installation(services)).is_active is False  # paused
    async with services.db.session() as session:
        pushes = list(await session.scalars(select(Job).where(Job.kind == PUSH_JOB)))
    # Waiting, their attempts not counted (the store's own push ran before).
    waiting = {(j.status, j.attempts) for j in pushes if j.payload["kind"] == "product"}
    assert waiting == {(JobStatus.PENDING, 0)}

    await shop.saleor.set_app_active(shop.app, True)
    for _ in range(3):
        clock.advance(3600)  # the next lifecycle check sees the token accepted: resumed
        await worker.run_until_idle()
        await services.saleor.settle()
    async with services.db.session() as session:
        quarantined = await session.scalar(
            select(Job.id).where(Job.status == JobStatus.QUARANTINED).limit(1)
        )
    assert quarantined is None
    for product in products:
        record = await shop.record(EntityKind.PRODUCT, product.global_id)
        assert record is not None and record.status is SyncStatus.SYNCED


async def _refused_job(shop: Shop) -> int:
    """A job whose every run Saleor refuses for lack of a permission."""

    async def refused(job: ClaimedJob, _: Services) -> None:
        raise SaleorPermissionDenied("You need MANAGE_STAFF", [], None)

    shop.services.handlers.register(REFUSED_KIND, refused)
    installation = await _installation(shop.services)
    async with shop.services.db.transaction() as session:
        job_id = await JobRepository(session).enqueue(installation.id, REFUSED_KIND, {})
    assert job_id is not None
    return job_id


async def _job(services: Services, job_id: int) -> Job:
    async with services.db.session() as session:
        job = await session.get(Job, job_id)
    assert job is not None
    return job


async def test_a_refusal_while_saleor_accepts_the_token_is_a_failure_as_before(
    shop: Shop, clock: ManualClock
) -> None:
    """A missing permission: Saleor, asked then, accepts the app's token."""
    job_id = await _refused_job(shop)
    worker = Worker(shop.services)
    for _ in range(shop.services.settings.worker_max_attempts):
        await worker.run_until_idle()
        clock.advance(3600)
    job = await _job(shop.services, job_id)
    assert (job.status, job.attempts) == (JobStatus.QUARANTINED, 3)
    assert job.last_error == "SaleorPermissionDenied: You need MANAGE_STAFF"
    assert (await _installation(shop.services)).token_refused_at is None


async def test_a_refusal_after_a_check_saw_the_token_refused_waits_for_its_confirmation(
    shop: Shop, clock: ManualClock, outbound: RecordingTransport
) -> None:
    """Once a check recorded the refusal, Saleor is not asked again: the job waits until the
    confirming check is due, uncounted."""
    job_id = await _refused_job(shop)
    refused_at = utcnow() - timedelta(seconds=20)
    async with shop.services.db.transaction() as session:
        await session.execute(update(Installation).values(token_refused_at=refused_at))
    asked = len(outbound.requests)
    await Worker(shop.services).run_until_idle()
    job = await _job(shop.services, job_id)
    assert (job.status, job.attempts) == (JobStatus.PENDING, 0)
    confirm = shop.services.settings.installation_check_confirm_seconds
    assert job.run_after == refused_at + timedelta(seconds=confirm)
    assert "waiting for the lifecycle check" in (job.last_error or "")
    assert len(outbound.requests) == asked  # the job's own call is the handler's: none here


async def test_a_voucher_refused_before_a_deactivation_is_confirmed_is_not_taken_as_denied(
    shop: Shop, clock: ManualClock
) -> None:
    """Its push, refused, is no missing MANAGE_DISCOUNTS (said on the page, the voucher left
    out until an hourly look): it waits, and goes once the app is active again."""
    services = shop.services
    services.settings = services.settings.model_copy(update=PRODUCTION_BACKOFF)
    await choose(shop, "all")
    voucher = await shop.saleor.vouchers.create("Soon", ["SOON"], channels={CHANNEL: 2})
    await shop.saleor.set_app_active(shop.app, False)
    worker = Worker(services)
    await _run_for(shop, clock, 80, worker)
    assert (await _installation(services)).is_active is False  # paused
    record = await shop.record(EntityKind.PROMO_RULE, voucher.global_id)
    assert record is None or record.last_error != NO_PERMISSION

    await shop.saleor.set_app_active(shop.app, True)
    clock.advance(3600)  # the next lifecycle check sees the token accepted: resumed
    await worker.run_until_idle()
    await services.saleor.settle()
    await worker.run_until_idle()
    assert set(await rules(shop)) == {str(voucher.id)}
