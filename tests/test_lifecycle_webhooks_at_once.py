"""A lifecycle webhook (APP_STATUS_CHANGED) received while a lifecycle check writes the
installation, or erases it (PostgreSQL; SQLite's writers take turns).

The webhook's transaction now reads the installation locked, as the checks do, so it decides
on what they committed. Before, it read the row unlocked: a check's newer observation committed
meanwhile was overwritten by the webhook's older one (the app paused though Saleor had since
said active), and an erasure committed meanwhile failed its record of the delivery on the
jobs' foreign key (an IntegrityError: a 500, and Saleor retrying). Each test holds the check's
transaction open, lets the webhook run into it (`tests.transactions_at_once`: no sleep), then
commits the check.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from addon.installations.models import Installation, LifecycleSignal, MailchimpCleanup
from addon.installations.repository import InstallationRepository
from addon.installations.schemas import Farewell
from addon.installations.service import InstallationService
from addon.jobs.repository import JobRepository
from addon.services import Services
from sandboxes.saleor import SaleorSandbox, SandboxApp
from tests.conftest import webhook_headers
from tests.factories import make_installation
from tests.transactions_at_once import second_runs_into_first


@pytest.fixture(autouse=True)
def postgresql_only(services: Services) -> None:
    if services.db.is_sqlite:
        pytest.skip("concurrent transactions: PostgreSQL (SQLite's writers take turns)")


async def _deliver(
    client: httpx.AsyncClient, saleor: SaleorSandbox, app: SandboxApp, issued: datetime
) -> httpx.Response:
    """Saleor's APP_STATUS_CHANGED saying the app was deactivated at `issued` (Saleor, asked,
    confirms it: the app token is refused)."""
    saleor.store.apps[app.id].is_active = False
    body = json.dumps(
        {"issuedAt": issued.isoformat(), "app": {"id": app.global_id, "isActive": False}}
    ).encode()
    headers = webhook_headers(saleor, saleor.sign(body), "app_status_changed")
    return await client.post("/api/webhooks/app-status-changed", content=body, headers=headers)


async def _locked(session: AsyncSession) -> Installation:
    """The installation as a lifecycle check takes it (`lifecycle.check_job`)."""
    return (await session.scalars(select(Installation).with_for_update())).one()


async def test_a_webhook_older_than_a_check_committed_meanwhile_is_stale(
    services: Services,
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    app_client: httpx.AsyncClient,
) -> None:
    issued = datetime.now(UTC)
    observed = issued + timedelta(seconds=5)  # the check asked Saleor after the webhook's event

    async def check(session: AsyncSession) -> None:
        service = InstallationService(session, services.settings, services.saleor)
        await service.set_active(
            await _locked(session), True, observed, LifecycleSignal.PERIODIC_CHECK
        )

    async def webhook(_: AsyncSession) -> httpx.Response:
        return await _deliver(app_client, saleor, installed_app, issued)

    answer = await second_runs_into_first(services, check, webhook)

    assert answer.status_code == 200, answer.text
    async with services.db.session() as session:
        stored = (await session.scalars(select(Installation))).one()
    assert stored.is_active
    assert stored.status_changed_at == observed


async def test_a_webhook_for_an_installation_erased_meanwhile_is_refused(
    services: Services,
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    app_client: httpx.AsyncClient,
) -> None:
    async def erase(session: AsyncSession) -> None:
        service = InstallationService(session, services.settings, services.saleor)
        # The uninstall's last job (`addon/installations/uninstall.py`), Mailchimp cleaned up.
        await service.erase(await _locked(session), Farewell(cleanup=MailchimpCleanup.DONE))

    async def webhook(_: AsyncSession) -> httpx.Response:
        return await _deliver(app_client, saleor, installed_app, datetime.now(UTC))

    answer = await second_runs_into_first(services, erase, webhook)

    assert answer.status_code == 401, answer.text
    assert answer.json()["error"]["code"] == "UNKNOWN_INSTALLATION"


async def test_a_job_is_queued_for_the_installation_while_a_writer_holds_its_row(
    services: Services,
) -> None:
    """Writers of the installation's row (checks, lifecycle webhooks, registrations) lock it
    `FOR NO KEY UPDATE`: a job inserted for the installation meanwhile (its foreign key takes
    `KEY SHARE`) does not wait for them. With `FOR UPDATE` it waited: a registration holding
    the row while queueing its check, and a refused call holding that check's key while
    queueing it, waited for each other. (`lock_timeout` turns a wait into a failure here.)"""
    installation_id = await make_installation(services)
    async with services.db.transaction() as holder:
        assert await InstallationRepository(holder).get(installation_id, for_update=True)
        async with services.db.transaction() as other:
            await other.execute(text("SET LOCAL lock_timeout = '100ms'"))
            job = await JobRepository(other).enqueue(installation_id, "test.queued", {})
    assert job is not None
