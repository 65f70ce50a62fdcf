"""An installation's webhooks kept as the app's current documents say (webhook_upkeep, at every
lifecycle check, and at start-up), on every Saleor the manifest accepts: what an older version
of the app installed is brought up to date; a webhook a staff member deleted is made again, one
they paused is left paused; a moved APP_URL moves the webhooks; a change Saleor refuses is tried
again; which webhooks the plan changes. Paused webhooks shown and turned back on when the admin
asks are in tests/test_webhook_upkeep_paused.py, which imports this module's site."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from addon.capabilities import start_up
from addon.clock import ManualClock
from addon.config import AppEnv
from addon.installations import webhook_catch_up
from addon.installations.repository import InstallationRepository
from addon.installations.webhook_plan import InstalledWebhook, plan, slug_of
from addon.jobs.models import Job, JobStatus
from addon.jobs.worker import Worker
from addon.saleor import manifest
from addon.saleor.manifest import (
    registered_webhook_definitions,
    wanted_webhooks,
    webhook_by_slug,
    webhooks_digest,
)
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


async def paused_slugs(services: Services) -> list[str] | None:
    installation = await stored(services)
    assert installation is not None and installation.webhooks_checked_at is not None
    return installation.webhooks_paused


def webhook_of(app: SandboxApp, slug: str) -> WebhookConfig:
    [hook] = _by_slug(app)[slug]
    return hook


@dataclass
class Site:
    """The app installed into the Saleor sandbox (each version), its first upkeep done."""

    saleor: SaleorSandbox
    app: SandboxApp
    services: Services
    outbound: RecordingTransport
    clock: ManualClock

    reads: int = 0  # of the app's webhooks, by the last `next_check`

    async def next_check(self) -> list[str]:
        """The next lifecycle check (and the upkeep it queues); the mutations it sent."""
        _mutations(self.outbound)
        await pass_time(self.services, self.clock, INTERVAL)
        self.reads = sum(b"AppWebhooks" in r.content for r in self.outbound.requests)
        return _mutations(self.outbound)

    def assert_current(self, app_url: str = APP_URL) -> None:
        _assert_current(self.saleor, self.app, app_url)


@pytest.fixture
async def site(
    saleor: SaleorSandbox,  # noqa: F811
    installed_app: SandboxApp,
    services: Services,
    outbound: RecordingTransport,
    clock: ManualClock,
) -> Site:
    await Worker(services).run_until_idle()
    return Site(saleor, installed_app, services, outbound, clock)


async def test_an_installation_keeps_its_webhooks(site: Site) -> None:
    site.assert_current()
    # The manifest's are as Saleor made them, but for the lifecycle ones, given the delivery
    # key (`delivery_key`); a newer Saleor gets the registered ones too.
    registered = ["WebhookCreate"] * len(registered_webhook_definitions())
    keyed = ["WebhookUpdate"] * 2
    assert _mutations(site.outbound) == ([] if legacy(site.saleor) else registered) + keyed
    assert await paused_slugs(site.services) == []
    assert await site.next_check() == [] and site.reads == 1  # read again: no change


async def test_what_an_older_app_installed_is_brought_to_the_current_documents(
    site: Site,
) -> None:
    app = site.app
    # As an older version of the app left it: a document since changed (query and events),
    # one it did not have yet, another delivering twice, a retired one. Beside them a staff
    # member's webhook to another service, and one of the app's paused by staff.
    customers = webhook_of(app, "ecommerce-customers")
    customers.query, customers.async_events = OLD_CUSTOMERS, ["CUSTOMER_UPDATED"]
    app.webhooks.remove(webhook_of(app, "app-status-changed"))
    orders = webhook_of(app, "ecommerce-orders")
    new_id = site.saleor.store.next_id
    twice = orders.model_copy(update={"id": new_id()})
    retired = orders.model_copy(
        update={"id": new_id(), "target_url": APP_URL + "/api/webhooks/retired"}
    )
    elsewhere = orders.model_copy(
        update={"id": new_id(), "target_url": "https://crm.example/hooks/orders"}
    )
    app.webhooks += [twice, retired, elsewhere]
    webhook_of(app, "ecommerce-products").is_active = False

    assert sorted(await site.next_check()) == [
        "WebhookCreate",
        "WebhookDelete",
        "WebhookDelete",
        "WebhookUpdate",
    ]
    site.assert_current()
    assert twice not in app.webhooks and orders in app.webhooks and retired not in app.webhooks
    assert elsewhere in app.webhooks  # not the app's to remove
    assert webhook_of(app, "ecommerce-products").is_active is False  # staff's decision
    assert await paused_slugs(site.services) == ["ecommerce-products"]
    assert await site.next_check() == []


async def test_a_moved_app_url_moves_the_webhooks(site: Site) -> None:
    moved = "https://mailchimp.shop.example/app"
    site.services.settings = site.services.settings.model_copy(update={"app_url": moved})
    await site.next_check()
    site.assert_current(moved)


async def _upkeeps_pending(services: Services) -> int:
    async with services.db.session() as session:
        pending = select(Job).where(
            Job.kind == "installation.webhooks", Job.status == JobStatus.PENDING
        )
        return len((await session.execute(pending)).scalars().all())


async def _record_digest(services: Services, digest: str | None, *, active: bool = True) -> None:
    async with services.db.transaction() as session:
        [installation] = await InstallationRepository(session).list_all()
        installation.webhooks_digest = digest
        installation.is_active = active


async def test_a_restart_of_the_same_version_asks_saleor_nothing(site: Site) -> None:
    installation = await stored(site.services)
    assert installation is not None
    wanted = wanted_webhooks(parse_version(installation.saleor_version))
    assert installation.webhooks_digest == webhooks_digest(wanted, APP_URL)
    await start_up(site.services)
    assert await _upkeeps_pending(site.services) == 0


@pytest.mark.parametrize("recorded", ["older documents", "none (before migration 0030)"])
async def test_an_upgraded_app_brings_the_webhooks_up_to_date_when_it_starts(
    site: Site, recorded: str
) -> None:
    """As an older version of the app left them: its first start queues the upkeep, which runs
    at once, not at the next lifecycle check (no time passes here: none is due)."""
    customers = webhook_of(site.app, "ecommerce-customers")
    customers.query, customers.async_events = OLD_CUSTOMERS, ["CUSTOMER_UPDATED"]
    installation = await stored(site.services)
    assert installation is not None
    older = tuple(
        d.model_copy(update={"query": OLD_CUSTOMERS, "events": ("CUSTOMER_UPDATED",)})
        if d.slug == "ecommerce-customers"
        else d
        for d in wanted_webhooks(parse_version(installation.saleor_version))
    )
    digest = webhooks_digest(older, APP_URL) if recorded == "older documents" else None
    await _record_digest(site.services, digest)
    _mutations(site.outbound)
    await start_up(site.services)
    await Worker(site.services).run_until_idle()
    assert _mutations(site.outbound) == ["WebhookUpdate"]
    site.assert_current()
    await start_up(site.services)  # the next start: up to date
    assert await _upkeeps_pending(site.services) == 0


async def test_a_moved_app_url_moves_the_webhooks_when_the_app_starts(site: Site) -> None:
    moved = "https://mailchimp.shop.example/app"
    site.services.settings = site.services.settings.model_copy(update={"app_url": moved})
    await start_up(site.services)
    await Worker(site.services).run_until_idle()
    site.assert_current(moved)


async def test_a_reinstallation_knows_nothing_of_its_webhooks(
    site: Site,
    saleor: SaleorSandbox,  # noqa: F811
) -> None:
    """The new app in Saleor has the manifest's webhooks only (the registered ones are made by
    the upkeep): a failed first upkeep is tried again at the next start."""
    # Deleted in Saleor first (which refuses a second app of one identifier), its APP_DELETED
    # lost: the registration meets the recorded installation.
    saleor.store.apps.pop(site.app.id)
    await saleor.install_app(f"{APP_URL}/api/manifest")
    installation = await stored(site.services)
    assert installation is not None
    assert installation.webhooks_digest is None and installation.webhooks_checked_at is None
    assert await _upkeeps_pending(site.services) == 1


async def test_a_failure_at_start_up_is_logged_and_the_process_starts(
    services: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The lifecycle check catches up anyway: no reason to keep the app from starting."""

    async def broken(_: Services) -> int:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(webhook_catch_up, "queue_outdated_upkeeps", broken)
    await start_up(services)
    assert "Could not queue the webhook upkeep at start-up" in caplog.text


async def test_an_inactive_installation_waits_for_its_activation(site: Site) -> None:
    """Saleor refuses a deactivated app's token: the lifecycle check that sees it active again
    queues the upkeep."""
    await _record_digest(site.services, None, active=False)
    await start_up(site.services)
    assert await _upkeeps_pending(site.services) == 0


async def test_a_change_saleor_refuses_is_tried_again(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were the app to ask 3.20 for a subscription it lacks, Saleor refuses it; the upkeep
    is retried (and runs again at the next check)."""
    if not legacy(site.saleor):
        pytest.skip("Saleor 3.20 lacks CustomerDeleted; newer ones accept it")
    monkeypatch.setitem(manifest.REGISTERED_SINCE, "erasure-customer-deleted", OLDEST_SUPPORTED)
    assert await site.next_check() == ["WebhookCreate"]
    assert not _by_slug(site.app).get("erasure-customer-deleted")
    async with site.services.db.session() as session:
        pending = select(Job).where(
            Job.kind == "installation.webhooks", Job.status == JobStatus.PENDING
        )
        [job] = (await session.execute(pending)).scalars()
    assert "GRAPHQL_ERROR: Unknown type 'CustomerDeleted'" in (job.last_error or "")


async def test_a_webhook_a_staff_member_deleted_is_made_again_at_the_next_check(
    site: Site,
) -> None:
    """Deleted, its events would reach the app never again (pausing is how to hold them)."""
    site.app.webhooks.remove(webhook_of(site.app, "ecommerce-orders"))
    assert await site.next_check() == ["WebhookCreate"]
    site.assert_current()


def test_a_webhook_is_known_by_its_path_under_any_app_url() -> None:
    assert slug_of("https://shop.example/mailchimp/api/webhooks/ecommerce-orders") == (
        "ecommerce-orders"
    )
    assert slug_of("https://crm.example/hooks/orders") is None
    assert slug_of("https://shop.example/api/webhooks/a/b") is None


def _installed(hook_id: int, url: str, *, active: bool = True) -> InstalledWebhook:
    definition = webhook_by_slug("ecommerce-orders")
    assert definition is not None
    return InstalledWebhook(
        id=base64.b64encode(f"Webhook:{hook_id}".encode()).decode(),
        name=definition.name,
        target_url=url,
        is_active=active,
        subscription_query=definition.query,
        async_events=[{"eventType": e} for e in definition.events],
    )


def test_a_staff_members_copy_elsewhere_is_left_alone_beside_the_apps_own_paused_one() -> None:
    """Theirs delivers to the same path on another host: not the app's to move or delete,
    and the app's own stays paused (whoever paused it meant it)."""
    own = _installed(1, APP_URL + "/api/webhooks/ecommerce-orders", active=False)
    copy = _installed(2, "https://staging.example/api/webhooks/ecommerce-orders")
    wanted = tuple(d for d in wanted_webhooks(None) if d.slug == "ecommerce-orders")
    assert plan([own, copy], wanted, APP_URL) == []


def test_of_two_webhooks_of_one_document_the_older_is_kept() -> None:
    """Saleor's ids are base64 (`Webhook:10` sorts before `Webhook:2` as text)."""
    url = APP_URL + "/api/webhooks/ecommerce-orders"
    older, newer = _installed(2, url), _installed(10, url)  # as text, "...azox" < "...azoy"
    wanted = tuple(d for d in wanted_webhooks(None) if d.slug == "ecommerce-orders")
    [change] = plan([newer, older], wanted, APP_URL)
    assert (change.action, change.webhook_id) == ("delete", newer.id)


async def test_in_production_a_development_app_url_changes_no_webhook(site: Site) -> None:
    """A worker started without its APP_URL (the default is http://127.0.0.1:8000) would
    move every webhook there: it reads and changes none."""
    site.services.settings = site.services.settings.model_copy(
        update={"app_env": AppEnv.PRODUCTION, "app_url": "http://127.0.0.1:8000"}
    )
    assert await site.next_check() == [] and site.reads == 0
    site.assert_current()
