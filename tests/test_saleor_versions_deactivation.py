"""A deactivated app, on every Saleor the manifest accepts (the versions and fixtures of
tests/test_saleor_versions.py): processing pauses until the activation, a long deactivation is
erased only where Saleor sends no lifecycle webhooks, and Saleor 3.20's deactivation is
noticed through a refused Saleor call or a dashboard load as well as the periodic check."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from addon.clock import ManualClock
from addon.installations.models import LifecycleSignal
from addon.jobs.worker import Worker
from addon.saleor.client import SaleorPermissionDenied
from addon.services import Services
from sandboxes.saleor import SaleorSandbox, SandboxApp
from sandboxes.saleor.versions import OLDEST_VERSION
from tests.conftest import RecordingTransport, dashboard_headers
from tests.test_saleor_versions import (
    CONFIRM,
    GRACE,
    INTERVAL,
    legacy,
    lifecycle_settings,
    pass_time,
    queue_work,
    recorded,
    saleor,
    stored,
)

__all__ = ["lifecycle_settings", "recorded", "saleor"]  # the fixtures, imported


async def test_a_deactivation_pauses_processing_and_an_activation_resumes_it(
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    services: Services,
    clock: ManualClock,
    recorded: list[int],
) -> None:
    deliveries = await saleor.set_app_active(installed_app, False)  # appDeactivate
    assert (deliveries == []) is legacy(saleor)
    await pass_time(services, clock, INTERVAL)
    await pass_time(services, clock, CONFIRM)
    installation = await stored(services)
    assert installation is not None and not installation.is_active  # paused, data kept
    noticed = LifecycleSignal.PERIODIC_CHECK if legacy(saleor) else LifecycleSignal.WEBHOOK
    assert installation.status_noticed_by is noticed
    await queue_work(services)
    await Worker(services).run_until_idle()
    assert recorded == []

    # appActivate: Saleor 3.20 sends APP_STATUS_CHANGED only to apps holding MANAGE_APPS.
    deliveries = await saleor.set_app_active(installed_app, True)
    assert (deliveries == []) is legacy(saleor)
    await pass_time(services, clock, INTERVAL)
    installation = await stored(services)
    assert installation is not None and installation.is_active
    assert installation.status_noticed_by is noticed and installation.token_refused_at is None
    assert len(recorded) == 1


async def test_a_long_deactivation(
    saleor: SaleorSandbox, installed_app: SandboxApp, services: Services, clock: ManualClock
) -> None:
    """With the webhooks a deactivation is known for one and never erased. Without them Saleor
    refuses a deactivated app's token exactly like a deleted app's: past the grace period the
    app takes it for an uninstall (documented in the README)."""
    await saleor.set_app_active(installed_app, False)
    await pass_time(services, clock, INTERVAL)
    await pass_time(services, clock, CONFIRM)
    await pass_time(services, clock, GRACE)
    await pass_time(services, clock, INTERVAL)
    installation = await stored(services)
    if legacy(saleor):
        assert installation is None
    else:
        assert installation is not None and not installation.is_active


@pytest.mark.parametrize("saleor", [OLDEST_VERSION], indirect=True)
async def test_a_refused_saleor_call_starts_the_check(
    saleor: SaleorSandbox, installed_app: SandboxApp, services: Services, clock: ManualClock
) -> None:
    await saleor.set_app_active(installed_app, False)
    installation = await stored(services)
    assert installation is not None
    with pytest.raises(SaleorPermissionDenied):  # any call the app makes anyway
        await services.saleor.execute(
            installation.saleor_api_url, installation.app_token, "ecommerce_channels"
        )
    await services.saleor.settle()
    await Worker(services).run_until_idle()  # the check, now: no interval to wait for
    installation = await stored(services)
    assert installation is not None and installation.token_refused_at == clock.now()
    await pass_time(services, clock, CONFIRM)
    installation = await stored(services)
    assert installation is not None and not installation.is_active
    assert installation.status_noticed_by is LifecycleSignal.SALEOR_CALL


@pytest.mark.parametrize("saleor", [OLDEST_VERSION], indirect=True)
async def test_a_dashboard_load_reads_whether_the_app_is_active(
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    services: Services,
    app_client: httpx.AsyncClient,
    clock: ManualClock,
) -> None:
    async def load() -> dict[str, Any]:
        response = await app_client.get(
            "/api/installation", headers=dashboard_headers(saleor, installed_app)
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    await saleor.set_app_active(installed_app, False)
    body = await load()  # the dashboard's token works while the app is deactivated
    assert body["is_active"] is False and body["status_noticed_by"] == "dashboard"
    await saleor.set_app_active(installed_app, True)
    clock.advance(30)
    assert (await load())["is_active"] is False  # read at most once a minute
    clock.advance(30)
    body = await load()
    assert body["is_active"] is True and body["status_noticed_by"] == "dashboard"


async def test_the_current_saleor_needs_no_dashboard_check(
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    app_client: httpx.AsyncClient,
    outbound: RecordingTransport,
) -> None:
    before = len(outbound.requests)
    response = await app_client.get(
        "/api/installation", headers=dashboard_headers(saleor, installed_app)
    )
    assert response.status_code == 200
    asked = [r for r in outbound.requests[before:] if b"AppStatus" in r.content]
    assert bool(asked) is legacy(saleor)
