"""A lifecycle body acts only as the event it was made for. Saleor signs the body alone, not the
`Saleor-Event` header, and refuses a deactivated app's token as a deleted one's: a
deactivation's signed body re-posted to the app-deleted endpoint verified, Saleor "agreed", and
an installation only deactivated (README: deactivating keeps all data) was uninstalled and
erased. The documents now select `__typename`; a body of an older document (none) keeps the
checks it had, but one naming `isActive` is never an APP_DELETED."""

from __future__ import annotations

import json

import httpx
import pytest

from addon.jobs.worker import Worker
from addon.services import Services
from sandboxes.saleor import SaleorSandbox, SandboxApp
from tests.deliveries import _status_body, post_signed
from tests.factories import installation


async def _deactivation_body(
    client: httpx.AsyncClient, saleor: SaleorSandbox, app: SandboxApp, current_document: bool
) -> bytes:
    """The body Saleor signed and delivered for the app's deactivation: its current document's,
    or an older document's (no `__typename`)."""
    if not current_document:
        saleor.store.apps[app.id].is_active = False  # appDeactivate
        body = _status_body(app, False)
        event = "APP_STATUS_CHANGED"
        delivered = await post_signed(client, saleor, "app-status-changed", event, body)
        assert delivered.json()["outcome"] == "applied", delivered.text
        return body
    [delivery] = await saleor.set_app_active(app, False)
    assert delivery.status_code == 200, delivery.response_body
    assert json.loads(delivery.body)["__typename"] == "AppStatusChanged"
    return delivery.body


@pytest.mark.parametrize("current_document", [True, False])
async def test_a_deactivation_body_posted_as_app_deleted_erases_nothing(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    app_client: httpx.AsyncClient,
    services: Services,
    current_document: bool,
) -> None:
    body = await _deactivation_body(app_client, saleor, installed_app, current_document)
    replay = await post_signed(app_client, saleor, "app-deleted", "APP_DELETED", body)
    assert replay.status_code == 400, replay.text
    assert replay.json()["error"]["code"] == "WRONG_EVENT"
    await Worker(services).run_until_idle()
    stored = await installation(services)
    assert stored is not None and stored.uninstalled_at is None and not stored.is_active


async def test_an_app_deleted_body_of_an_older_document_still_uninstalls(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    app_client: httpx.AsyncClient,
    services: Services,
) -> None:
    """Delivered after the upgrade, signed for the webhook's document before the app updated it
    (or an installation whose webhooks the app cannot update)."""
    saleor.store.apps.pop(installed_app.id)  # appDelete
    body = json.dumps(
        {"issuedAt": "2026-01-02T03:04:05+00:00", "app": {"id": installed_app.global_id}}
    ).encode()
    answer = await post_signed(app_client, saleor, "app-deleted", "APP_DELETED", body)
    assert (answer.status_code, answer.json()["outcome"]) == (200, "uninstalled"), answer.text
    await Worker(services).run_until_idle()
    assert await installation(services) is None


async def test_an_app_deleted_body_posted_as_a_status_change_changes_nothing(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    app_client: httpx.AsyncClient,
    services: Services,
) -> None:
    saleor.store.apps[installed_app.id].is_active = False
    body = json.dumps(
        {
            "__typename": "AppDeleted",
            "issuedAt": "2026-01-02T03:04:05+00:00",
            "app": {"id": installed_app.global_id},
        }
    ).encode()
    answer = await post_signed(app_client, saleor, "app-status-changed", "APP_STATUS_CHANGED", body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "WRONG_EVENT"
    stored = await installation(services)
    assert stored is not None and stored.is_active
