"""An uninstall's last job: clean up in Mailchimp, then erase the installation.

The app's carts in Mailchimp go on acting for the store after an uninstall: Mailchimp's
abandoned-cart automations keep e-mailing their shoppers, with restore links nobody can exchange
once the installation's keys are erased (`addon.ecommerce.restore_tokens`). Mailchimp for
WooCommerce deletes its store when it is uninstalled (`uninstall.php`, `deleteStore`); this app
deletes the carts and keeps the store's products, customers and orders, the store's revenue
history and what segments and reports are built on. What is removed is the answer of
`MAILCHIMP_FAREWELL` (the e-commerce capability's), recorded with the erasure
(`InstallationErasure`).

A customer's erasure still waiting (`ERASURE_KINDS`: the shopper deleted their account, staff
deleted them or pressed "Erase from Mailchimp") is carried out first, since it needs Mailchimp
only; the uninstall kept it when it dropped the other waiting work.

Mailchimp failing (down, throttling) is retried with the worker's backoff for up to
`FAREWELL_HOURS`; then the installation is erased anyway: an uninstall always ends in its
erasure. Jobs still running when the uninstall was noticed are waited for first, so that no
push of theirs creates a cart after the cleanup.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select

from addon.db.types import utcnow
from addon.installations.models import Installation, MailchimpCleanup
from addon.installations.repository import InstallationRepository
from addon.installations.schemas import Farewell
from addon.installations.service import ERASURE_KINDS, UNINSTALL_JOB, InstallationService
from addon.jobs.completion import running
from addon.jobs.models import Job, JobStatus
from addon.jobs.registry import HandlerRegistry
from addon.jobs.repository import JobRepository
from addon.jobs.retry import backoff_delay
from addon.jobs.schemas import ClaimedJob, NoPayload, PermanentFailure, RetryLater
from addon.services import Port

if TYPE_CHECKING:
    from addon.services import Services

logger = logging.getLogger(__name__)

# How long Mailchimp may fail before the installation is erased without its cleanup.
FAREWELL_HOURS = 24

MAILCHIMP_FAREWELL = Port[Callable[["Services", int], Awaitable[Farewell]]](
    "what an uninstalled installation removes from Mailchimp"
)


async def uninstall_job(job: ClaimedJob, _: NoPayload, services: Services) -> None:
    """Never given up: whatever fails (Mailchimp, the database) is tried again with the
    worker's backoff, and the erasure goes ahead without Mailchimp after `FAREWELL_HOURS`."""
    try:
        await _farewell_then_erase(job, services)
    except RetryLater:
        raise
    except Exception as exc:
        settings = services.settings
        delay = backoff_delay(
            job.attempts, settings.worker_backoff_base_seconds, settings.worker_backoff_max_seconds
        )
        raise RetryLater(
            f"The uninstalled app's last job failed: {exc}", delay, counted=True
        ) from exc


async def _farewell_then_erase(job: ClaimedJob, services: Services) -> None:
    async with services.db.session() as session:
        installation = await InstallationRepository(session).get(job.installation_id)
        if installation is None or installation.uninstalled_at is None:
            return  # erased already
        uninstalled_at = installation.uninstalled_at
        still_running = await session.scalar(
            select(func.count(Job.id)).where(
                Job.installation_id == job.installation_id,
                Job.status == JobStatus.RUNNING,
                Job.locked_until > utcnow(),
                Job.id != job.id,
            )
        )
    if still_running:
        raise RetryLater(
            f"waits for {still_running} running job(s) of the uninstalled app to end",
            services.settings.worker_lease_seconds,
        )
    deadline = uninstalled_at + timedelta(hours=FAREWELL_HOURS)
    try:
        await _carry_out_erasures(job.installation_id, services)
    except Exception as exc:
        if utcnow() < deadline:
            raise
        logger.warning(
            "Customer erasures not carried out within %s hours of the uninstall: %s",
            FAREWELL_HOURS,
            exc,
        )
    try:
        farewell = await services.ports[MAILCHIMP_FAREWELL](services, job.installation_id)
    except Exception as exc:
        if utcnow() < deadline:
            raise
        logger.warning(
            "Mailchimp was not cleaned up within %s hours of the uninstall: %s", FAREWELL_HOURS, exc
        )
        farewell = Farewell(cleanup=MailchimpCleanup.GAVE_UP)
    async with services.db.transaction() as session:
        installation = await InstallationRepository(session).get(
            job.installation_id, for_update=True
        )
        if installation is None or installation.uninstalled_at is None:
            return
        await InstallationService(session, services.settings, services.saleor).erase(
            installation, farewell
        )


async def _carry_out_erasures(installation_id: int, services: Services) -> None:
    """The customers' erasures the uninstall kept (`ERASURE_KINDS`), oldest first, each run by
    its kind's handler as the worker would run it, and removed once done: a deletion's webhook
    queues its erasure, run next. The worker claims none of them (the installation is not
    active), so only this job runs them. One that waits or fails (`RetryLater`, Mailchimp
    down) makes this job try again later; one whose payload cannot be read is dropped."""
    while (pending := await _next_erasure(services, installation_id)) is not None:
        registration = services.handlers.registration(pending.kind)
        if registration is not None:
            # Run as a job of its own: its `complete_in` must not complete this one.
            outer = running.set(None)
            try:
                await registration.run(pending, services)
            except PermanentFailure as exc:
                logger.error("Dropped an erasure of the uninstalled app: %s", exc)
            finally:
                running.reset(outer)
        async with services.db.transaction() as session:
            await session.execute(delete(Job).where(Job.id == pending.id))


async def _next_erasure(services: Services, installation_id: int) -> ClaimedJob | None:
    async with services.db.session() as session:
        found = await session.scalar(
            select(Job)
            .where(
                Job.installation_id == installation_id,
                Job.status == JobStatus.PENDING,
                Job.kind.in_(ERASURE_KINDS),
            )
            .order_by(Job.id)
            .limit(1)
        )
        return ClaimedJob.model_validate(found) if found is not None else None


async def still_uninstalled(services: Services, installation_id: int) -> bool:
    """The installation waits for its erasure (not erased, nor replaced by a new installation
    that took its id): the cleanup may go on."""
    async with services.db.session() as session:
        installation = await InstallationRepository(session).get(installation_id)
        return installation is not None and installation.uninstalled_at is not None


async def queue_unfinished_uninstalls(services: Services) -> None:
    """At a process's start: an uninstalled installation whose last job is not waiting (lost
    to a crash, say) gets it again, so none keeps its secrets for good."""
    async with services.db.transaction() as session:
        ids = await session.scalars(
            select(Installation.id).where(Installation.uninstalled_at.is_not(None))
        )
        jobs = JobRepository(session)
        for installation_id in ids:
            await jobs.enqueue(
                installation_id, UNINSTALL_JOB, {}, coalesce_key=UNINSTALL_JOB, lane=UNINSTALL_JOB
            )


def register(registry: HandlerRegistry[Services]) -> None:
    registry.register(UNINSTALL_JOB, uninstall_job, payload=NoPayload)
