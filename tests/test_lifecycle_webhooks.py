"""The app's lifecycle through Saleor's webhooks: a deactivation pauses the installation's work
and a reactivation resumes it, an older status event never undoes a newer one, an uninstall
erases the installation and its data; a delivery Saleor does not confirm, or one naming no app,
changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from addon.jobs.repository import JobRepository
from addon.jobs.worker import Worker
from addon.services import Services
from sandboxes.saleor import SaleorSandbox, SandboxApp
from tests.deliveries import _headers, _post, _status_body
from tests.factories import count_jobs, installation


async def test_deactivation_pauses_processing_and_reactivation_resumes(
    installed_app: SandboxApp, saleor: SaleorSandbox, services: Services
) -> None:
    from addon.jobs.schemas import ClaimedJob

    ran: list[int] = []

    async def record(job: ClaimedJob, _: Services) -> None:
        ran.append(job.id)

    services.handlers.register("test.record", record)
    stored = await installation(services)
    assert stored is not None
    await saleor.set_app_active(installed_app, False)
    async with services.db.transaction() as session:
        await JobRepository(session).enqueue(stored.id, "test.record", {})
    await Worker(services).run_until_idle()
    assert ran == []
    stored = await installation(services)
    assert stored is not None and not stored.is_active  # data kept
    await saleor.set_app_active(installed_app, True)
    await Worker(services).run_until_idle()
    assert len(ran) == 1


async def test_an_older_status_event_does_not_undo_a_newer_one(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    app_client: httpx.AsyncClient,
    services: Services,
) -> None:
    now = datetime.now(UTC)
    newer = _status_body(installed_app, False, now)
    older = _status_body(installed_app, True, now - timedelta(seconds=5))
    # Deactivated, then activated and deactivated again: the activation's delivery comes last.
    saleor.store.apps[installed_app.id].is_active = False
    assert (await _post(app_client, newer, _headers(saleor, newer))).status_code == 200
    saleor.store.apps[installed_app.id].is_active = True
    answer = await _post(app_client, older, _headers(saleor, older))
    assert answer.status_code == 200
    stored = await installation(services)
    assert stored is not None and not stored.is_active


@pytest.mark.parametrize(
    ("slug", "event", "active"),
    [("app-deleted", "APP_DELETED", True), ("app-status-changed", "APP_STATUS_CHANGED", False)],
)
async def test_a_lifecycle_delivery_saleor_does_not_confirm_changes_nothing(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    app_client: httpx.AsyncClient,
    services: Services,
    slug: str,
    event: str,
    active: bool,
) -> None:
    """A signed lifecycle body of an older document (no `__typename`), posted again: Saleor,
    asked, still accepts the app's token: the app is installed and active. (A status body
    posted as APP_DELETED is refused before asking: test_lifecycle_webhooks_event_type.py.)"""
    body = _status_body(installed_app, active)
    if event == "APP_DELETED":  # an APP_DELETED body selects no `isActive`
        body = json.dumps({**json.loads(body), "app": {"id": installed_app.global_id}}).encode()
    answer = await _post(app_client, body, _headers(saleor, body, **{"Saleor-Event": event}), slug)
    assert (answer.status_code, answer.json()["outcome"]) == (200, "ignored")
    stored = await installation(services)
    assert stored is not None and stored.is_active and stored.uninstalled_at is None


async def test_uninstall_erases_the_installation_and_its_data(
    installed_app: SandboxApp, saleor: SaleorSandbox, services: Services
) -> None:
    stored = await installation(services)
    assert stored is not None
    async with services.db.transaction() as session:
        await JobRepository(session).enqueue(stored.id, "test.record", {})
    [delivery] = await saleor.uninstall_app(installed_app)
    assert delivery.status_code == 200, delivery.response_body
    await Worker(services).run_until_idle()  # its last job: Mailchimp cleaned up, then erased
    assert await installation(services) is None
    assert await count_jobs(services) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"issuedAt": "2026-01-01T00:00:00+00:00"},  # another app's AppDeleted, without `app`
        {"user": {"id": "VXNlcjox", "email": "ann@example.com"}},  # any delivery's body
    ],
)
async def test_a_signed_body_naming_no_app_uninstalls_nothing(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    app_client: httpx.AsyncClient,
    services: Services,
    body: dict[str, object],
) -> None:
    """Saleor signs every app's deliveries with one key, over the body alone (not the
    `Saleor-Event` header): another delivery's body, posted as APP_DELETED, verifies."""
    raw = json.dumps(body).encode()
    headers = _headers(saleor, raw, **{"Saleor-Event": "APP_DELETED"})
    response = await _post(app_client, raw, headers, slug="app-deleted")
    assert (response.status_code, response.json()["error"]["code"]) == (400, "INVALID_BODY")
    stored = await installation(services)
    assert stored is not None and stored.uninstalled_at is None
