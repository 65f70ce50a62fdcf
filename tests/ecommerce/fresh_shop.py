"""A fresh `Shop` for each Hypothesis example of the convergence property test.

Hypothesis runs every example of a test inside one call of the test function, so function-scoped
fixtures are shared by all of them: a `shop` fixture would carry one example's Saleor, Mailchimp
and database state into the next, and a failing example could not be replayed or shrunk alone.
This builds what the fixtures of tests/conftest.py and tests/ecommerce/conftest.py build (same
settings, same network wiring, same connection steps), once per example, and closes it after.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx

from addon.app import create_app
from addon.capabilities import create_services
from addon.config import Settings
from sandboxes.saleor import SaleorSandbox
from sandboxes.transport import HostRoutingTransport
from tests.conftest import (
    APP_URL,
    SALEOR_API_URL,
    RecordingTransport,
    _empty_tables,
    new_mailchimp,
)
from tests.ecommerce.conftest import CHANNEL, Shop, track_channel


@asynccontextmanager
async def fresh_shop(
    settings: Settings,
    signing_key: Any,
    contract: Callable[[HostRoutingTransport], httpx.AsyncBaseTransport],
) -> AsyncIterator[Shop]:
    """Empty tables, new sandboxes and app; channel `default-channel` tracked in a new account."""
    network = HostRoutingTransport()
    services = create_services(settings, transport=RecordingTransport(contract(network)))
    await _empty_tables(services)
    app = create_app(services, run_worker=False)
    network.add("app.test", app)
    saleor = SaleorSandbox(SALEOR_API_URL, transport=network, signing_key=signing_key)
    network.add("saleor.test", saleor.app)
    mailchimp = new_mailchimp(network)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=network, base_url=APP_URL) as client,
        ):
            installed = await saleor.install_app(f"{APP_URL}/api/manifest")
            await saleor.add_channel(CHANNEL, "Default Channel", "USD")
            account = mailchimp.create_account("Green Grocer", "owner@grocer.example", dc="us21")
            shop = Shop(client, services, saleor, installed, mailchimp, account)
            await track_channel(shop)
            yield shop
    finally:
        await mailchimp.aclose()
        await services.aclose()
