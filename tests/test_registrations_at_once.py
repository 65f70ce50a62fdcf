"""A second registration of the same Saleor while the first runs takes its turn (PostgreSQL;
SQLite's writers take turns): Saleor retrying a slow `tokenTargetUrl` call writes the same
app's credentials into the first's row; a second app of this app's identifier (Saleor before
3.20.1 installed one twice) is refused, since the first's token was never proven gone.

Before, it inserted the row too and failed on the unique `saleor_api_url` once the first
committed (an IntegrityError, a 500 to Saleor). The tests hold the first registration's
transaction open, let the second run into it (`tests.transactions_at_once`: no sleep), commit
the first, and find one installation, with one job of each kind the registration queues
(merged into the first's by their coalesce keys).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from addon.errors import Conflict
from addon.installations.checks import CHECK_KIND
from addon.installations.models import Installation
from addon.installations.repository import InstallationRepository
from addon.installations.service import WEBHOOK_UPKEEP, InstallationService
from addon.jobs.models import Job
from addon.services import Services
from sandboxes.saleor import SaleorSandbox, SandboxApp
from sandboxes.transport import HostRoutingTransport
from tests.conftest import APP_URL, SALEOR_API_URL
from tests.factories import make_installation
from tests.transactions_at_once import second_runs_into_first

Register = Callable[[AsyncSession], Awaitable[Installation]]


def serve_manifest_variant(network: HostRoutingTransport, identifier: str) -> str:
    """The URL of the app's manifest under another ``id``: another app for Saleor (which refuses
    a second app of an installed identifier since 3.20.1), this app behind it (its token target
    and webhooks are the app's own)."""

    async def manifest(request: Request) -> Response:
        async with httpx.AsyncClient(transport=network) as client:
            response = await client.get(f"{APP_URL}/api/manifest")
        response.raise_for_status()
        return JSONResponse({**response.json(), "id": identifier})

    network.add("variant.test", Starlette(routes=[Route("/api/manifest", manifest)]))
    return "http://variant.test/api/manifest"


def registering(services: Services, app: SandboxApp) -> Register:
    """Saleor's call of `tokenTargetUrl` for `app`, as the register endpoint makes it."""

    async def register(session: AsyncSession) -> Installation:
        service = InstallationService(session, services.settings, services.saleor)
        return await service.register(SALEOR_API_URL, "saleor.test", app.auth_token)

    return register


async def _forget_installations(services: Services) -> None:
    async with services.db.transaction() as session:
        await session.execute(delete(Installation))


async def test_two_registrations_of_one_saleor_at_once_make_one_installation(
    services: Services, saleor: SaleorSandbox, installed_app: SandboxApp
) -> None:
    if services.db.is_sqlite:
        pytest.skip("concurrent transactions: PostgreSQL (SQLite's writers take turns)")
    # Saleor handing the token over again while the first handover still runs (a slow answer
    # it retried), and no installation yet in the app.
    await _forget_installations(services)

    registered = await second_runs_into_first(
        services, registering(services, installed_app), registering(services, installed_app)
    )

    async with services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Installation)) == 1
        row = await session.get(Installation, registered.id)
        assert row is not None and row.is_active
        assert row.app_id == installed_app.global_id
        assert row.app_token.get_secret_value() == installed_app.auth_token
        kinds = await session.execute(
            select(Job.kind, func.count()).where(Job.installation_id == row.id).group_by(Job.kind)
        )
        assert {kind: count for kind, count in kinds} == {CHECK_KIND: 1, WEBHOOK_UPKEEP: 1}


async def test_a_second_app_registering_at_once_is_refused_not_a_500(
    services: Services,
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    network: HostRoutingTransport,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two apps of this app's identifier registering at once (Saleor before 3.20.1 installed
    one twice; here a variant of the manifest, taken for this app's): the first wins, the
    second is refused (its token never proven to replace the first's), one installation."""
    if services.db.is_sqlite:
        pytest.skip("concurrent transactions: PostgreSQL (SQLite's writers take turns)")
    ours = {installed_app.identifier, "saleor.app.mailchimp.b"}
    monkeypatch.setattr("addon.installations.service.is_this_app", lambda found: found in ours)
    await _forget_installations(services)  # so that the variant's own handover is taken
    again = await saleor.install_app(serve_manifest_variant(network, "saleor.app.mailchimp.b"))
    await _forget_installations(services)  # two apps Saleor knows, no installation in the app

    with pytest.raises(Conflict):
        await second_runs_into_first(
            services, registering(services, installed_app), registering(services, again)
        )

    async with services.db.session() as session:
        [row] = (await session.scalars(select(Installation))).all()
        assert row.app_id == installed_app.global_id  # the first's, untouched


async def test_a_registration_whose_rivals_row_is_deleted_before_it_reads_it_makes_its_own(
    services: Services,
) -> None:
    """Its INSERT skipped the row another registration committed meanwhile, and an uninstall
    deleted that row before this one read it: the URL is free again, so it inserts its own
    (before, a LookupError: a 500 to Saleor). `find` plays the two others' timing."""
    await make_installation(services, SALEOR_API_URL)  # the rival's, app "QXBwOjE="
    ours = {
        "saleor_api_url": SALEOR_API_URL,
        "saleor_domain": "saleor.test",
        "app_id": "QXBwOjI=",
        "app_token": SecretStr("our-token"),
        "jwks": {"keys": []},
    }
    async with services.db.transaction() as session:
        repository = InstallationRepository(session)
        reads = 0

        async def find() -> Installation | None:
            nonlocal reads
            reads += 1
            if reads == 1:
                return None  # read before the rival committed
            row = await repository.get_by_api_url(SALEOR_API_URL, for_update=True)
            if reads == 2 and row is not None:
                await repository.delete(row)  # the uninstall, committed before this read
                return None
            return row

        made = await repository.get_or_insert(Installation, find, ours, key=("saleor_api_url",))
        assert made.app_id == "QXBwOjI=" and reads == 4  # ours, not the rival's
