"""The app with both sandboxes on one origin: what `make run` serves (`sandboxes serve`).

    {APP_URL}/                         the app (manifest at /api/manifest, pages at /app/)
    {APP_URL}/sandbox/dashboard/       a stand-in for the Saleor dashboard, app in an iframe
    {APP_URL}/sandbox/saleor/graphql/  the Saleor sandbox's API (JWKS at /.well-known/jwks.json)
    {APP_URL}/sandbox/mailchimp/       the Mailchimp sandbox (API, OAuth pages, sign-up)

On start-up the app installs itself into the Saleor sandbox, exactly as a real Saleor would
(manifest, token, webhooks), and a demo Mailchimp account is ready to connect. Everything the
sandboxes hold lives in memory; the app's own database keeps its data as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

import httpx
from fastapi import FastAPI
from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import JSONResponse

from addon.app import create_app
from addon.capabilities import create_services
from addon.config import Settings
from sandboxes.dashboard import dashboard_app
from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount
from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.versions import CURRENT_VERSION, OLDEST_VERSION

logger = logging.getLogger(__name__)

SALEOR_PATH = "/sandbox/saleor"
MAILCHIMP_PATH = "/sandbox/mailchimp"
DASHBOARD_PATH = "/sandbox/dashboard"
# A public OAuth client of the Mailchimp sandbox; it means nothing anywhere else.
SANDBOX_CLIENT_ID = "sandbox-client"
SANDBOX_CLIENT_SECRET = "sandbox-client-secret"  # noqa: S105


@dataclass
class DevStack:
    saleor: SaleorSandbox
    mailchimp: MailchimpSandbox
    demo_account: SandboxAccount
    settings: Settings

    @property
    def dashboard_url(self) -> str:
        return f"{self.settings.app_url}{DASHBOARD_PATH}/"


# Settings that go together: the sandbox stands in for a group only when none of its settings
# was given (environment, .env or arguments). OAuth's client only works with its own login
# server, so a client id given for another Mailchimp keeps that Mailchimp's login URL too.
API_SETTINGS = ("mailchimp_api_url_template",)
OAUTH_SETTINGS = (
    "mailchimp_login_url",
    "mailchimp_signup_url",
    "mailchimp_client_id",
    "mailchimp_client_secret",
)


def sandbox_settings(settings: Settings) -> Settings:
    """Point Mailchimp at the sandbox, with its OAuth client, except where a setting was given
    explicitly (e.g. ``MAILCHIMP_API_URL_TEMPLATE`` of a validating proxy or a staging account):
    an explicit setting wins over the sandbox default."""
    base = settings.app_url + MAILCHIMP_PATH
    given = settings.model_fields_set
    update: dict[str, object] = {}
    if not given.intersection(API_SETTINGS):
        update["mailchimp_api_url_template"] = base + "/{dc}/3.0"
    if not given.intersection(OAUTH_SETTINGS):
        update["mailchimp_login_url"] = base
        update["mailchimp_signup_url"] = base + "/signup/"
        update["mailchimp_client_id"] = SANDBOX_CLIENT_ID
        update["mailchimp_client_secret"] = SecretStr(SANDBOX_CLIENT_SECRET)
    if "webhook_outage_seconds" not in given:
        # The Saleor sandbox starts empty at every start while the app's database is kept: a
        # catch-up after a restart would find every customer the app knows gone.
        update["webhook_outage_seconds"] = 0.0
    return settings.model_copy(update=update)


def sandbox_environment(settings: Settings) -> dict[str, str]:
    """The environment variables that give another process (`addon worker`, `addon sync`) the
    Mailchimp of `sandbox_settings`: the sandbox's where nothing was set explicitly."""
    chosen = sandbox_settings(settings)
    env: dict[str, str] = {}
    for name in (*API_SETTINGS, *OAUTH_SETTINGS):
        if name in settings.model_fields_set:
            continue
        value = getattr(chosen, name)
        env[name.upper()] = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
    return env


def describe_mailchimp(settings: Settings) -> str:
    """The start-up line's account of which Mailchimp the app talks to."""
    sandbox = settings.app_url + MAILCHIMP_PATH

    def where(url: str) -> str:
        return f"the Mailchimp sandbox ({url})" if url.startswith(sandbox) else url

    api = where(settings.mailchimp_api_url_template)
    if not settings.oauth_configured:
        return f"Mailchimp API: {api}; OAuth off (no MAILCHIMP_CLIENT_ID/SECRET)"
    return f"Mailchimp API: {api}; OAuth login: {where(settings.mailchimp_login_url)}"


SaleorVersion = Literal["3.20", "current"]


def create_dev_app(
    settings: Settings, *, saleor_version: SaleorVersion = "current", run_worker: bool = True
) -> FastAPI:
    """The app with the sandboxes mounted; refuses production settings.

    `saleor_version`: the Saleor the sandbox plays, the oldest the manifest accepts (no
    lifecycle webhooks to the app, no `orders(where:)`) or the current one."""
    if settings.is_production:
        raise RuntimeError("The sandboxes are for development: APP_ENV=production has none")
    settings = sandbox_settings(settings)
    saleor = SaleorSandbox(
        f"{settings.app_url}{SALEOR_PATH}/graphql/",
        version=OLDEST_VERSION if saleor_version == "3.20" else CURRENT_VERSION,
    )
    saleor.store.default_channel()  # a sales channel (USD) to track on the E-commerce page
    mailchimp = MailchimpSandbox(public_base_url=settings.app_url + MAILCHIMP_PATH)
    mailchimp.register_oauth_client(
        SANDBOX_CLIENT_ID,
        SANDBOX_CLIENT_SECRET,
        redirect_uri=f"{settings.app_url}/api/connection/oauth/callback",
    )
    # The sandbox's RNG is seeded, so this key is the same at every start.
    demo = mailchimp.create_account("Demo Store", "owner@demo-store.example", role="owner")
    stack = DevStack(saleor=saleor, mailchimp=mailchimp, demo_account=demo, settings=settings)

    app = create_app(create_services(settings), run_worker=run_worker)
    app.state.devstack = stack
    app.state.sandbox_dashboard_url = stack.dashboard_url  # the app's home page links to it
    app.mount(SALEOR_PATH, saleor.app)
    app.mount(MAILCHIMP_PATH, mailchimp.app)

    async def jwks(_: Request) -> JSONResponse:
        # Saleor serves its keys at the origin's root; the sandbox shares the app's origin.
        return JSONResponse(saleor.jwks())

    app.add_route("/.well-known/jwks.json", jwks, methods=["GET"])
    app.mount(DASHBOARD_PATH, dashboard_app(saleor, settings.app_url))

    outer = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(asgi: FastAPI) -> AsyncIterator[None]:
        async with outer(asgi):
            task = asyncio.create_task(_install_when_serving(stack))
            try:
                yield
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                await mailchimp.aclose()

    app.router.lifespan_context = lifespan
    return app


async def _install_when_serving(stack: DevStack) -> None:
    """Install the app into the Saleor sandbox once the server answers."""
    url = stack.settings.app_url
    async with httpx.AsyncClient(timeout=5) as client:
        for _ in range(200):
            try:
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.05)
    try:
        await stack.saleor.install_app(f"{url}/api/manifest")
    except Exception:
        logger.exception("Could not install the app into the Saleor sandbox")
        return
    logger.info("Installed the app into the Saleor sandbox")
