"""The installation's delivery key on its lifecycle webhooks (addon/installations/delivery_key.py).

Saleor signs every app's deliveries with one key, over the body alone: another app of the same
Saleor can obtain a signed body shaped like this app's APP_DELETED and post it here. While the app
is deactivated, Saleor refuses its token as a deleted one's, so asking Saleor confirms the body.
The custom header Saleor sends with this app's own webhooks is what tells them apart.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from addon.clock import ManualClock
from addon.doctor import run_checks
from addon.installations.delivery_key import HEADER_NAME
from addon.installations.models import LifecycleSignal
from addon.jobs.models import Job, JobStatus
from addon.saleor.manifest import wanted_webhooks
from addon.saleor.versions import parse_version
from addon.services import Services
from sandboxes.saleor import SaleorSandbox, SandboxApp, WebhookConfig
from sandboxes.saleor.versions import CURRENT_VERSION
from sandboxes.transport import HostRoutingTransport
from tests.conftest import dashboard_headers
from tests.deliveries import _headers, _post
from tests.installations.test_lost_app_deleted import _api_unavailable, _paused_by_webhook
from tests.test_saleor_versions import INTERVAL, lifecycle_settings, pass_time, saleor, stored

__all__ = ["lifecycle_settings", "saleor"]  # the fixtures, imported

LIFECYCLE = {"app-deleted", "app-status-changed"}

pytestmark = pytest.mark.parametrize("saleor", [CURRENT_VERSION], indirect=True)


def _lifecycle_hooks(app: SandboxApp) -> list[WebhookConfig]:
    return [h for h in app.webhooks if h.target_url.rsplit("/", 1)[-1] in LIFECYCLE]


def _forged_app_deleted(app: SandboxApp) -> bytes:
    """What another app of the Saleor can have Saleor sign: its own subscription's body, aliased
    into the shape of this app's APP_DELETED (`issuingPrincipal` of a write this app made)."""
    issued = datetime.now(UTC).isoformat()
    return json.dumps({"issuedAt": issued, "app": {"id": app.global_id}}).encode()


async def _key(services: Services) -> str:
    installation = await stored(services)
    assert installation is not None and installation.webhook_key is not None
    return installation.webhook_key.get_secret_value()


async def _unkeyed_deliveries_pass(
    saleor: SaleorSandbox, app: SandboxApp, services: Services
) -> None:
    """No key confirmed: the app's own lifecycle deliveries, without one, are handled."""
    installation = await stored(services)
    assert installation is not None and installation.webhook_key_confirmed_at is None
    [delivery] = await saleor.set_app_active(app, False)
    assert delivery.ok, delivery.response_body


async def test_the_lifecycle_webhooks_are_given_the_installations_key(
    saleor: SaleorSandbox, installed_app: SandboxApp, services: Services, clock: ManualClock
) -> None:
    await pass_time(services, clock, 0)  # the installation's first upkeep
    key = await _key(services)
    hooks = _lifecycle_hooks(installed_app)
    assert {h.target_url.rsplit("/", 1)[-1] for h in hooks} == LIFECYCLE
    assert all(h.custom_headers == {HEADER_NAME: key} for h in hooks)
    others = [h for h in installed_app.webhooks if h not in hooks]
    assert others and not any(h.custom_headers for h in others)  # the others carry nothing
    installation = await stored(services)
    assert installation is not None and installation.webhook_key_confirmed_at is not None


async def test_a_forged_app_deleted_while_deactivated_erases_nothing(
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    services: Services,
    clock: ManualClock,
    app_client: httpx.AsyncClient,
) -> None:
    await pass_time(services, clock, 0)
    await _paused_by_webhook(saleor, installed_app, services, clock)
    body = _forged_app_deleted(installed_app)
    headers = _headers(saleor, body, **{"Saleor-Event": "APP_DELETED"})
    answer = await _post(app_client, body, headers, slug="app-deleted")
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "INVALID_DELIVERY_KEY")
    await pass_time(services, clock, INTERVAL)
    installation = await stored(services)
    assert installation is not None and installation.uninstalled_at is None
    assert not installation.is_active  # still the deactivation it was
    # The app's own APP_DELETED, which Saleor sends with the webhook's headers, still erases.
    [delivery] = await saleor.uninstall_app(installed_app)
    assert json.loads(delivery.response_body)["outcome"] == "uninstalled"


async def test_a_forged_app_deleted_while_saleor_is_out_of_reach_puts_nothing_in_doubt(
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    services: Services,
    clock: ManualClock,
    app_client: httpx.AsyncClient,
    network: HostRoutingTransport,
) -> None:
    """A doubt would start the uninstall grace: the forged body would erase a day later."""
    await pass_time(services, clock, 0)
    await _paused_by_webhook(saleor, installed_app, services, clock)
    network.add("saleor.test", _api_unavailable(saleor))
    body = _forged_app_deleted(installed_app)
    headers = _headers(saleor, body, **{"Saleor-Event": "APP_DELETED", HEADER_NAME: "guessed"})
    answer = await _post(app_client, body, headers, slug="app-deleted")
    assert answer.status_code == 401
    installation = await stored(services)
    assert installation is not None
    assert installation.token_refused_noticed_by is not LifecycleSignal.WEBHOOK_LOST


async def test_before_the_key_is_in_place_deliveries_are_checked_as_before(
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    services: Services,
    app_client: httpx.AsyncClient,
) -> None:
    """No upkeep yet: Saleor's webhooks carry no key, and the app's own deliveries must pass."""
    assert not any(h.custom_headers for h in _lifecycle_hooks(installed_app))
    await _unkeyed_deliveries_pass(saleor, installed_app, services)


async def test_a_staff_members_headers_are_kept_and_a_lost_key_is_put_back(
    saleor: SaleorSandbox, installed_app: SandboxApp, services: Services, clock: ManualClock
) -> None:
    await pass_time(services, clock, 0)
    key = await _key(services)
    deleted, status = sorted(_lifecycle_hooks(installed_app), key=lambda h: h.target_url)
    deleted.custom_headers = {"x-staff": "theirs"}  # a staff member's edit replaced them
    status.custom_headers = None  # a `customHeaders` Saleor could not parse
    await pass_time(services, clock, INTERVAL)  # the next lifecycle check, and its upkeep
    assert deleted.custom_headers == {"x-staff": "theirs", HEADER_NAME: key}
    assert status.custom_headers == {HEADER_NAME: key}
    installation = await stored(services)
    assert installation is not None and installation.webhook_key_confirmed_at is not None


async def test_a_key_saleor_did_not_keep_is_not_asked_for(
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    services: Services,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Saleor takes a `customHeaders` it cannot parse for none, without an error: until a
    reading shows the key, deliveries without it are the app's own."""
    from sandboxes.saleor import app_webhooks

    monkeypatch.setattr(app_webhooks, "_headers", lambda input: (None, None))
    await pass_time(services, clock, 0)
    await _unkeyed_deliveries_pass(saleor, installed_app, services)


async def test_a_reinstallation_has_a_key_of_its_own(
    saleor: SaleorSandbox, installed_app: SandboxApp, services: Services, clock: ManualClock
) -> None:
    await pass_time(services, clock, 0)
    first = await _key(services)
    [delivery] = await saleor.uninstall_app(installed_app)
    assert delivery.ok
    await pass_time(services, clock, 0)
    again = await saleor.install_app(installed_app.manifest_url or "")
    installation = await stored(services)
    assert installation is not None and installation.webhook_key_confirmed_at is None
    await pass_time(services, clock, 0)
    second = await _key(services)
    assert second != first
    assert all(h.custom_headers == {HEADER_NAME: second} for h in _lifecycle_hooks(again))


def test_only_the_lifecycle_documents_carry_the_key(saleor: SaleorSandbox) -> None:
    from addon.installations.delivery_key import carries_key

    carrying = {d.slug for d in wanted_webhooks(parse_version(saleor.version)) if carries_key(d)}
    assert carrying == LIFECYCLE


# Five headers of a staff member's own on a lifecycle webhook: Saleor takes no sixth
# (saleor/webhook/validators.py `custom_headers_validator`, HEADERS_NUMBER_LIMIT = 5).
FIVE = {f"x-staff-{n}": "theirs" for n in range(5)}


async def _upkeeps(services: Services) -> list[Job]:
    async with services.db.session() as session:
        found = await session.scalars(select(Job).where(Job.kind == "installation.webhooks"))
        return list(found)


async def _full(app: SandboxApp, services: Services, clock: ManualClock) -> WebhookConfig:
    """The app-deleted webhook, keyed, then given five headers by a staff member (an edit in
    the Dashboard replaces them all), and three lifecycle checks with their upkeeps."""
    await pass_time(services, clock, 0)
    deleted, _ = sorted(_lifecycle_hooks(app), key=lambda h: h.target_url)
    deleted.custom_headers = dict(FIVE)
    for _ in range(3):
        await pass_time(services, clock, INTERVAL)
    return deleted


async def test_a_lifecycle_webhook_with_five_headers_of_its_own_is_a_stable_outcome(
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    services: Services,
    clock: ManualClock,
    app_client: httpx.AsyncClient,
) -> None:
    """Once refused (INVALID_CUSTOM_HEADERS) and retried for ever, the key still taken as in
    place: the upkeep asks for no sixth header and ends, the key is unconfirmed (the checks of
    before), and the doctor and the Activity page say what the admin must do."""
    deleted = await _full(installed_app, services, clock)
    assert deleted.custom_headers == FIVE  # left as the staff member made them
    installation = await stored(services)
    assert installation is not None and installation.webhook_key_confirmed_at is None
    # Each upkeep ended: nothing refused, nothing retried.
    upkeeps = await _upkeeps(services)
    assert len(upkeeps) >= 3 and all(job.status is JobStatus.DONE for job in upkeeps)
    assert all(job.attempts == 1 and job.last_error is None for job in upkeeps)
    # The Activity page.
    activity = "/api/activity"
    answer = await app_client.get(activity, headers=dashboard_headers(saleor, installed_app))
    problem = answer.json()["delivery_key_problem"]
    assert "app-deleted" in problem and "remove one" in problem
    # The doctor.
    checks = {check.name: check async for check in run_checks(services)}
    [webhooks] = [c for n, c in checks.items() if n.startswith("Webhooks in")]
    assert webhooks.status.value == "warn"
    assert "app-deleted" in webhooks.detail and "remove one" in webhooks.detail
    assert "change(s)" not in webhooks.detail  # no change the upkeep would make
    # A header removed: the next upkeep gives the webhook the key.
    del deleted.custom_headers["x-staff-0"]
    await pass_time(services, clock, INTERVAL)
    key = await _key(services)
    kept = {name: body for name, body in FIVE.items() if name != "x-staff-0"}
    assert deleted.custom_headers == {**kept, HEADER_NAME: key}
    installation = await stored(services)
    assert installation is not None and installation.webhook_key_confirmed_at is not None
    answer = await app_client.get(activity, headers=dashboard_headers(saleor, installed_app))
    assert answer.json()["delivery_key_problem"] is None


async def test_the_apps_own_app_deleted_from_a_webhook_with_five_headers_still_erases(
    saleor: SaleorSandbox, installed_app: SandboxApp, services: Services, clock: ManualClock
) -> None:
    """Its key gone from that webhook, a key still taken as confirmed refused Saleor's own
    APP_DELETED (401): the app was never uninstalled."""
    await _full(installed_app, services, clock)
    [delivery] = await saleor.uninstall_app(installed_app)
    assert json.loads(delivery.response_body)["outcome"] == "uninstalled"
