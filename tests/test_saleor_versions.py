"""Every Saleor the manifest accepts: the sandbox plays Saleor 3.20 (no lifecycle webhooks to the
app, no `orders(where:)`) and the current Saleor, and each test runs against both.

Uninstall and deactivation are noticed through the lifecycle webhooks where Saleor sends them
(3.23.5+), and by the periodic lifecycle check where it does not; time passes only through the
test's clock.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from addon.clock import ManualClock
from addon.config import load_settings
from addon.ecommerce.channel_state import RunStatus
from addon.installations.models import Installation, InstallationErasure, LifecycleSignal
from addon.jobs.models import Job
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob
from addon.jobs.worker import Worker
from addon.services import Services
from sandboxes.devstack import create_dev_app
from sandboxes.saleor import SaleorSandbox, SandboxApp
from sandboxes.saleor.versions import CURRENT_VERSION, OLDEST_VERSION, PLAYABLE_VERSIONS
from sandboxes.transport import HostRoutingTransport
from tests.conftest import SALEOR_API_URL, RecordingTransport, dashboard_headers
from tests.ecommerce.conftest import Shop, shop  # noqa: F401
from tests.initial_sync.conftest import finish, progress, small, start  # noqa: F401

INTERVAL = 3600.0
CONFIRM = 60.0
GRACE_HOURS = 24.0
GRACE = GRACE_HOURS * 3600


@pytest.fixture(params=PLAYABLE_VERSIONS, ids=lambda version: f"saleor-{version}")
def saleor(
    request: pytest.FixtureRequest,
    network: HostRoutingTransport,
    saleor_signing_key: Any,
    clock: ManualClock,
) -> SaleorSandbox:
    """The Saleor sandbox playing each version (the clock is the test's from the start)."""
    sandbox = SaleorSandbox(
        SALEOR_API_URL, transport=network, signing_key=saleor_signing_key, version=request.param
    )
    network.add("saleor.test", sandbox.app)
    return sandbox


@pytest.fixture(autouse=True)
def lifecycle_settings(services: Services) -> None:
    services.settings = services.settings.model_copy(
        update={
            "installation_check_interval_seconds": INTERVAL,
            "installation_check_confirm_seconds": CONFIRM,
            "uninstall_grace_hours": GRACE_HOURS,
        }
    )


def legacy(saleor: SaleorSandbox) -> bool:
    """Saleor before 3.23.5: no lifecycle webhooks reach the app."""
    return saleor.version == OLDEST_VERSION


async def stored(services: Services) -> Installation | None:
    async with services.db.session() as session:
        return (await session.execute(select(Installation))).scalar_one_or_none()


async def erasures(services: Services) -> list[InstallationErasure]:
    async with services.db.session() as session:
        return list((await session.execute(select(InstallationErasure))).scalars())


async def count_jobs(services: Services) -> int:
    async with services.db.session() as session:
        return int((await session.execute(select(func.count()).select_from(Job))).scalar_one())


async def pass_time(services: Services, clock: ManualClock, seconds: float) -> None:
    """Move the clock, then let the worker run whatever became due."""
    clock.advance(seconds)
    await Worker(services).run_until_idle()
    await services.saleor.settle()


@pytest.fixture
def recorded(services: Services) -> Iterator[list[int]]:
    """Ids of `test.record` jobs the worker ran (work that a pause holds back)."""
    ran: list[int] = []

    async def record(job: ClaimedJob, _: Services) -> None:
        ran.append(job.id)

    services.handlers.register("test.record", record)
    yield ran


async def queue_work(services: Services) -> None:
    installation = await stored(services)
    assert installation is not None
    async with services.db.transaction() as session:
        await JobRepository(session).enqueue(installation.id, "test.record", {})


# --- the version -------------------------------------------------------------------------------


async def test_the_installation_knows_its_saleor_version(
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    services: Services,
    app_client: httpx.AsyncClient,
    outbound: RecordingTransport,
) -> None:
    installation = await stored(services)
    assert installation is not None and installation.saleor_version == saleor.version
    # Read with `shop { version }` (the full version; the install header is major.minor only).
    [check] = [r for r in outbound.requests if b"InstallationCheck" in r.content]
    assert b"shop" in check.content
    response = await app_client.get(
        "/api/installation", headers=dashboard_headers(saleor, installed_app)
    )
    assert response.json()["saleor_version"] == saleor.version


# --- uninstall ---------------------------------------------------------------------------------


async def test_an_uninstall_erases_the_installation_after_confirmation(
    saleor: SaleorSandbox, installed_app: SandboxApp, services: Services, clock: ManualClock
) -> None:
    deliveries = await saleor.uninstall_app(installed_app)  # appDelete: the token stops working
    if legacy(saleor):
        assert deliveries == []  # Saleor 3.20 sends APP_DELETED to nobody it concerns
        await pass_time(services, clock, INTERVAL)  # the periodic check: token refused
        installation = await stored(services)
        assert installation is not None and installation.is_active  # not on one refusal
        assert installation.token_refused_at is not None
        await pass_time(services, clock, CONFIRM)  # confirmed: paused at once
        installation = await stored(services)
        assert installation is not None and not installation.is_active
        assert installation.status_noticed_by is LifecycleSignal.PERIODIC_CHECK
        await pass_time(services, clock, GRACE)  # still refused after the grace period
    else:
        [delivery] = deliveries
        assert json.loads(delivery.response_body)["outcome"] == "uninstalled"
        installation = await stored(services)
        assert installation is not None and installation.uninstalled_at is not None
        await pass_time(services, clock, 0)  # its last job: Mailchimp cleaned up, then erased
    assert await stored(services) is None
    assert await count_jobs(services) == 0
    [erasure] = await erasures(services)
    assert erasure.app_id == installed_app.global_id
    assert erasure.noticed_by is (
        LifecycleSignal.PERIODIC_CHECK if legacy(saleor) else LifecycleSignal.WEBHOOK
    )


async def test_without_a_grace_period_the_confirmation_erases(
    saleor: SaleorSandbox, installed_app: SandboxApp, services: Services, clock: ManualClock
) -> None:
    services.settings = services.settings.model_copy(update={"uninstall_grace_hours": 0})
    await saleor.uninstall_app(installed_app)
    await pass_time(services, clock, INTERVAL)
    if legacy(saleor):
        assert await stored(services) is not None  # one refusal erases nothing
        await pass_time(services, clock, CONFIRM)
    assert await stored(services) is None


def _refusing_saleor() -> Starlette:
    """A Saleor that answers once as to a token it does not know (a transient refusal)."""

    async def graphql(_: Request) -> Response:
        error = {
            "message": "To access this path, you need one of the following permissions: "
            "AUTHENTICATED_STAFF_USER, AUTHENTICATED_APP",
            "extensions": {"exception": {"code": "PermissionDenied"}},
        }
        return JSONResponse({"data": {"app": None, "shop": None}, "errors": [error]})

    return Starlette(routes=[Route("/graphql/", graphql, methods=["POST"])])


def _unavailable_saleor() -> Starlette:
    async def graphql(_: Request) -> Response:
        return Response("Service Unavailable", status_code=503)

    return Starlette(routes=[Route("/graphql/", graphql, methods=["POST"])])


async def test_a_transient_saleor_error_never_erases_nor_pauses(
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    services: Services,
    clock: ManualClock,
    network: HostRoutingTransport,
    recorded: list[int],
) -> None:
    # Saleor unreachable for longer than the grace period: nothing is decided.
    network.add("saleor.test", _unavailable_saleor())
    for _ in range(int(GRACE // INTERVAL) + 2):
        await pass_time(services, clock, INTERVAL)
    installation = await stored(services)
    assert installation is not None and installation.is_active
    assert installation.token_refused_at is None
    # One refusal, then Saleor accepts the token again: confirmed by nothing, so nothing.
    network.add("saleor.test", _refusing_saleor())
    await pass_time(services, clock, INTERVAL)
    installation = await stored(services)
    assert installation is not None and installation.token_refused_at is not None
    network.add("saleor.test", saleor.app)
    await pass_time(services, clock, CONFIRM)
    installation = await stored(services)
    assert installation is not None and installation.is_active
    assert installation.token_refused_at is None and installation.status_noticed_by is None
    await queue_work(services)
    await Worker(services).run_until_idle()
    assert len(recorded) == 1
    assert await erasures(services) == []


# --- orders since a date -----------------------------------------------------------------------


async def test_orders_since_a_date_works_on_every_version(
    small: Shop,  # noqa: F811
    outbound: RecordingTransport,
) -> None:
    tracked = small
    tracked.saleor.generate_store(products=10, customers=10, orders=40, seed=11)
    orders = sorted(tracked.saleor.store.orders.values(), key=lambda o: o.created)
    since = orders[25].created
    # An order of the same day, placed earlier: a day filter lets it through.
    earlier = since.replace(hour=0, minute=0, second=0, microsecond=0)
    assert earlier < since
    orders[24].created = earlier
    await start(tracked, {"orders_since": since.isoformat()})
    assert (await finish(tracked)).status is RunStatus.SUCCEEDED
    assert set(tracked.orders()) == {str(o.id) for o in orders if o.created >= since}

    pages = [
        json.loads(r.content)
        for r in outbound.requests
        if b"InitialSyncOrdersSince" in r.content and r.url.host == "saleor.test"
    ]
    assert pages
    kinds = {k["kind"]: k for k in (await progress(tracked))["kinds"]}
    newer = len([o for o in orders if o.created >= since])
    if legacy(tracked.saleor):  # `filter: {created: {gte: day}}`, the first day cut by the app
        assert all("query InitialSyncOrdersSinceDay(" in p["query"] for p in pages)
        # Read in slices of days (initial_sync.slices): the first starts on the day of `since`.
        firsts = {p["variables"]["filter"]["created"].get("gte") for p in pages}
        assert min(firsts) == since.date().isoformat()
        same_day = len([o for o in orders if since > o.created >= earlier])
        assert kinds["order"]["read"] == newer + same_day
        assert kinds["order"]["skipped"] == same_day
    else:  # `where: {createdAt: {gte}}`: Saleor filters to the second
        assert all("query InitialSyncOrdersSince(" in p["query"] for p in pages)
        assert kinds["order"]["read"] == newer and kinds["order"]["skipped"] == 0
    assert kinds["order"]["confirmed"] == newer


async def test_the_sandbox_plays_each_version(
    saleor: SaleorSandbox, installed_app: SandboxApp
) -> None:
    answer = await saleor.execute("{ shop { version } }", app=installed_app)
    assert answer == {"data": {"shop": {"version": saleor.version}}}
    anonymous = await saleor.execute("{ shop { version } }")
    assert anonymous["errors"][0]["extensions"]["exception"]["code"] == "PermissionDenied"
    query = "query($w: OrderWhereInput) { orders(where: $w, first: 1) { totalCount } }"
    where = await saleor.execute(query, app=installed_app)
    if legacy(saleor):  # neither `where` nor OrderWhereInput exist before 3.22
        messages = " ".join(e["message"] for e in where["errors"])
        assert "OrderWhereInput" in messages and "where" in messages
    else:
        assert where == {"data": {"orders": {"totalCount": 0}}}
    assert saleor.version in (OLDEST_VERSION, CURRENT_VERSION)


@pytest.mark.parametrize(("setting", "version"), [("3.20", OLDEST_VERSION), ("current", None)])
def test_the_dev_stack_plays_the_saleor_asked_for(
    tmp_path: Path, setting: str, version: str | None
) -> None:
    settings = load_settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'dev.db'}",
        secret_key_file=tmp_path / ".secret_key",
    )
    stack = create_dev_app(settings, saleor_version=setting, run_worker=False).state.devstack
    assert stack.saleor.version == (version or CURRENT_VERSION)
