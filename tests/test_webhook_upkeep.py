"""An installation's webhooks kept as the app's current documents say (webhook_upkeep), on every
Saleor the manifest accepts: what an older version of the app installed is brought up to date at
the next lifecycle check, once; a moved APP_URL moves the webhooks; a change Saleor refuses is
tried again."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from addon.clock import ManualClock
from addon.installations.models import Installation
from addon.installations.webhook_upkeep import slug_of, webhooks_fingerprint
from addon.jobs.models import Job, JobStatus
from addon.jobs.worker import Worker
from addon.saleor import manifest
from addon.saleor.manifest import wanted_webhooks
from addon.saleor.versions import OLDEST_SUPPORTED, parse_version
from addon.services import Services
from sandboxes.saleor import SaleorSandbox, SandboxApp
from sandboxes.saleor.models import WebhookConfig
from tests.conftest import APP_URL, RecordingTransport
from tests.test_saleor_versions import (  # noqa: F401
    INTERVAL,
    legacy,
    lifecycle_settings,
    pass_time,
    saleor,
    stored,
)

MUTATIONS = (b"WebhookCreate", b"WebhookUpdate", b"WebhookDelete")
OLD_CUSTOMERS = "subscription { event { ... on CustomerUpdated { user { id } } } }"


def _mutations(outbound: RecordingTransport) -> list[str]:
    found = [m for r in outbound.requests for m in MUTATIONS if m in r.content]
    outbound.requests.clear()
    return [m.decode() for m in found]


def _by_slug(app: SandboxApp) -> dict[str | None, list[WebhookConfig]]:
    hooks: dict[str | None, list[WebhookConfig]] = {}
    for hook in app.webhooks:
        hooks.setdefault(slug_of(hook.target_url), []).append(hook)
    return hooks


def _assert_current(sandbox: SaleorSandbox, app: SandboxApp, app_url: str) -> None:
    hooks = _by_slug(app)
    for definition in wanted_webhooks(parse_version(sandbox.version)):
        [hook] = hooks.pop(definition.slug)
        assert hook.name == definition.name
        assert hook.target_url == app_url + definition.path
        assert hook.query == definition.query
        assert set(hook.async_events) == set(definition.events)
    assert not [slug for slug in hooks if slug is not None], "a retired document kept"


async def _fingerprint(services: Services) -> str | None:
    installation = await stored(services)
    assert installation is not None
    return installation.webhooks_fingerprint


def _hook(app: SandboxApp, slug: str) -> WebhookConfig:
    [hook] = _by_slug(app)[slug]
    return hook


async def test_an_installation_keeps_its_webhooks_and_is_not_read_again(
    saleor: SaleorSandbox,  # noqa: F811
    installed_app: SandboxApp,
    services: Services,
    outbound: RecordingTransport,
    clock: ManualClock,
) -> None:
    await Worker(services).run_until_idle()
    _assert_current(saleor, installed_app, APP_URL)
    # The manifest's are as Saleor made them; a newer Saleor gets the registered one too.
    assert _mutations(outbound) == ([] if legacy(saleor) else ["WebhookCreate"])
    version = parse_version(saleor.version)
    assert await _fingerprint(services) == webhooks_fingerprint(APP_URL, version)
    await pass_time(services, clock, INTERVAL)  # the next check: nothing changed since
    assert not [r for r in outbound.requests if b"AppWebhooks" in r.content]


async def test_what_an_older_app_installed_is_brought_to_the_current_documents(
    saleor: SaleorSandbox,  # noqa: F811
    installed_app: SandboxApp,
    services: Services,
    outbound: RecordingTransport,
    clock: ManualClock,
) -> None:
    await Worker(services).run_until_idle()
    app = installed_app
    # As an older version of the app left it: a document since changed (query and events),
    # one it did not have yet, another delivering twice, a retired one. Beside them a staff
    # member's webhook to another service, and one of the app's paused by staff.
    customers = _hook(app, "ecommerce-customers")
    customers.query, customers.async_events = OLD_CUSTOMERS, ["CUSTOMER_UPDATED"]
    app.webhooks.remove(_hook(app, "app-status-changed"))
    orders = _hook(app, "ecommerce-orders")
    twice = orders.model_copy(update={"id": saleor.store.next_id()})
    retired = orders.model_copy(
        update={"id": saleor.store.next_id(), "target_url": APP_URL + "/api/webhooks/retired"}
    )
    elsewhere = orders.model_copy(
        update={"id": saleor.store.next_id(), "target_url": "https://crm.example/hooks/orders"}
    )
    app.webhooks += [twice, retired, elsewhere]
    _hook(app, "ecommerce-products").is_active = False
    async with services.db.transaction() as session:  # as migration 0029 leaves it
        await session.execute(update(Installation).values(webhooks_fingerprint=None))
    _mutations(outbound)

    await pass_time(services, clock, INTERVAL)  # the lifecycle check queues the upkeep
    assert sorted(_mutations(outbound)) == [
        "WebhookCreate",
        "WebhookDelete",
        "WebhookDelete",
        "WebhookUpdate",
    ]
    _assert_current(saleor, app, APP_URL)
    assert twice not in app.webhooks and orders in app.webhooks and retired not in app.webhooks
    assert elsewhere in app.webhooks  # not the app's to remove
    assert _hook(app, "ecommerce-products").is_active is False  # staff's decision
    assert await _fingerprint(services) is not None
    await pass_time(services, clock, INTERVAL)
    assert _mutations(outbound) == []


async def test_a_moved_app_url_moves_the_webhooks(
    saleor: SaleorSandbox,  # noqa: F811
    installed_app: SandboxApp,
    services: Services,
    outbound: RecordingTransport,
    clock: ManualClock,
) -> None:
    await Worker(services).run_until_idle()
    before = await _fingerprint(services)
    moved = "https://mailchimp.shop.example/app"
    services.settings = services.settings.model_copy(update={"app_url": moved})
    await pass_time(services, clock, INTERVAL)
    _assert_current(saleor, installed_app, moved)
    assert await _fingerprint(services) not in (None, before)


async def test_a_change_saleor_refuses_is_tried_again(
    saleor: SaleorSandbox,  # noqa: F811
    installed_app: SandboxApp,
    services: Services,
    outbound: RecordingTransport,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Were the app to ask 3.20 for a subscription it lacks, Saleor refuses it; the upkeep
    records nothing done and the next check tries again."""
    if not legacy(saleor):
        pytest.skip("Saleor 3.20 lacks CustomerDeleted; newer ones accept it")
    await Worker(services).run_until_idle()
    done = await _fingerprint(services)
    monkeypatch.setitem(manifest.REGISTERED_SINCE, "erasure-customer-deleted", OLDEST_SUPPORTED)
    _mutations(outbound)
    await pass_time(services, clock, INTERVAL)
    assert _mutations(outbound) == ["WebhookCreate"]
    assert not _by_slug(installed_app).get("erasure-customer-deleted")
    assert await _fingerprint(services) == done  # what 3.20 has: not what is wanted now
    async with services.db.session() as session:
        pending = select(Job).where(
            Job.kind == "installation.webhooks", Job.status == JobStatus.PENDING
        )
        [job] = (await session.execute(pending)).scalars()
    assert "GRAPHQL_ERROR: Unknown type 'CustomerDeleted'" in (job.last_error or "")


def test_a_webhook_is_known_by_its_path_under_any_app_url() -> None:
    assert slug_of("https://shop.example/mailchimp/api/webhooks/ecommerce-orders") == (
        "ecommerce-orders"
    )
    assert slug_of("https://crm.example/hooks/orders") is None
    assert slug_of("https://shop.example/api/webhooks/a/b") is None
