"""Webhooks a staff member paused (webhook_upkeep; the site and fixtures of
tests/test_webhook_upkeep.py, on every Saleor the manifest accepts): the app's own are shown
and turned back on when the admin asks, with an error when Saleor does not answer; a staff
member's copies delivering elsewhere are neither shown nor touched; a reading older than the
one recorded records nothing."""

from __future__ import annotations

from datetime import timedelta

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from addon.installations.webhook_upkeep import record_reading
from sandboxes.transport import HostRoutingTransport
from tests.conftest import dashboard_headers
from tests.test_saleor_versions import lifecycle_settings, saleor, stored
from tests.test_webhook_upkeep import OLD_CUSTOMERS, Site, paused_slugs, site, webhook_of

__all__ = ["lifecycle_settings", "saleor", "site"]  # the fixtures, imported


async def test_paused_webhooks_are_shown_and_turned_back_on_when_the_admin_asks(
    site: Site, app_client: httpx.AsyncClient
) -> None:
    orders, products = (webhook_of(site.app, s) for s in ("ecommerce-orders", "ecommerce-products"))
    orders.is_active = products.is_active = False
    products.query = OLD_CUSTOMERS.replace("CustomerUpdated { user", "ProductUpdated { product")
    await site.next_check()
    headers = dashboard_headers(site.saleor, site.app)
    activity = (await app_client.get("/api/activity", headers=headers)).json()
    paused = activity["paused_webhooks"]
    assert [p["slug"] for p in paused] == ["ecommerce-orders", "ecommerce-products"]
    assert "PRODUCT_UPDATED" in paused[1]["events"] and "ORDER_CREATED" in paused[0]["events"]

    answer = await app_client.post("/api/installation/webhooks/resume", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["paused"] == []
    assert orders.is_active and products.is_active
    site.assert_current()  # with its current document too
    activity = (await app_client.get("/api/activity", headers=headers)).json()
    assert activity["paused_webhooks"] == []


async def test_turning_webhooks_back_on_says_when_saleor_does_not_answer(
    site: Site, app_client: httpx.AsyncClient, network: HostRoutingTransport
) -> None:
    headers = dashboard_headers(site.saleor, site.app)  # minted while Saleor answers
    network.add("saleor.test", _unavailable())
    answer = await app_client.post("/api/installation/webhooks/resume", headers=headers)
    assert answer.status_code == 502
    assert answer.json()["error"]["code"] == "SALEOR_UNAVAILABLE"


def _unavailable() -> Starlette:
    async def graphql(_: Request) -> Response:
        return Response("Service Unavailable", status_code=503)

    return Starlette(routes=[Route("/graphql/", graphql, methods=["POST"])])


async def test_only_the_apps_own_paused_webhook_is_shown_and_turned_back_on(
    site: Site, app_client: httpx.AsyncClient
) -> None:
    """Beside it, a staff member's copies delivering elsewhere, one active and one paused: the
    active one does not make the app's own look active, and neither copy is touched."""
    own = webhook_of(site.app, "ecommerce-orders")
    own.is_active = False
    new_id = site.saleor.store.next_id
    active_copy, paused_copy = (
        own.model_copy(
            update={"id": new_id(), "target_url": url, "is_active": url.startswith("https://a")}
        )
        for url in (
            "https://a.example/api/webhooks/ecommerce-orders",
            "https://b.example/api/webhooks/ecommerce-orders",
        )
    )
    site.app.webhooks += [active_copy, paused_copy]
    assert await site.next_check() == []
    assert await paused_slugs(site.services) == ["ecommerce-orders"]
    headers = dashboard_headers(site.saleor, site.app)
    answer = await app_client.post("/api/installation/webhooks/resume", headers=headers)
    assert answer.json()["paused"] == []
    assert own.is_active and not paused_copy.is_active
    assert paused_copy.target_url.startswith("https://b.example")


async def test_a_reading_older_than_the_one_recorded_records_nothing(site: Site) -> None:
    """The upkeep read the webhooks before the admin turned them back on: its finding (paused)
    is older than the one recorded (none), and kept out."""
    installation = await stored(site.services)
    assert installation is not None and installation.webhooks_checked_at is not None
    before = installation.webhooks_checked_at - timedelta(seconds=1)
    await record_reading(site.services, installation.id, before, ["ecommerce-orders"])
    assert await paused_slugs(site.services) == []
