"""The sandbox plays Saleor 3.20.119 or the current Saleor: lifecycle events, the install header,
`shop { version }` and the order filters differ as in Saleor (see sandboxes.saleor.versions)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from sandboxes.saleor import SaleorSandbox, SandboxApp, SigningKey
from sandboxes.saleor.versions import CURRENT_VERSION, OLDEST_VERSION
from sandboxes.transport import HostRoutingTransport

from .conftest import API_URL, SALEOR_HOST, FakeApp, default_manifest

MANAGER_HOST = "manager.test"


def _sandbox(network: HostRoutingTransport, key: SigningKey, version: str) -> SaleorSandbox:
    saleor = SaleorSandbox(api_url=API_URL, transport=network, signing_key=key, version=version)
    network.add(SALEOR_HOST, saleor.app)
    return saleor


async def _apps(
    saleor: SaleorSandbox, network: HostRoutingTransport, fake_app: FakeApp, *, manage_apps: bool
) -> tuple[SandboxApp, FakeApp]:
    """Our app (with or without MANAGE_APPS) and another app that holds MANAGE_APPS."""
    manifest = default_manifest()
    manager = FakeApp(
        manifest={
            **manifest,
            "id": "test.manager",
            "permissions": ["MANAGE_APPS"],
            "tokenTargetUrl": f"http://{MANAGER_HOST}/api/register",
            "webhooks": [
                {**manifest["webhooks"][0], "targetUrl": f"http://{MANAGER_HOST}/api/webhooks/x"}
            ],
        }
    )
    network.add(MANAGER_HOST, manager.asgi())
    await saleor.install_app(f"http://{MANAGER_HOST}/api/manifest")
    if manage_apps:
        fake_app.manifest["permissions"] = [*manifest["permissions"], "MANAGE_APPS"]
    app = await saleor.install_app("http://app.test/api/manifest")
    fake_app.webhooks.clear()
    manager.webhooks.clear()
    return app, manager


def _events(app: FakeApp) -> list[tuple[str, bool | None]]:
    return [
        (headers["saleor-event"], json.loads(body)["app"].get("isActive"))
        for headers, body in app.webhooks
    ]


@pytest.mark.parametrize("manage_apps", [False, True])
async def test_before_3_23_5_lifecycle_events_go_to_active_apps_with_manage_apps(
    network: HostRoutingTransport, signing_key: SigningKey, fake_app: FakeApp, manage_apps: bool
) -> None:
    saleor = _sandbox(network, signing_key, OLDEST_VERSION)
    app, manager = await _apps(saleor, network, fake_app, manage_apps=manage_apps)
    await saleor.set_app_active(app, False)
    await saleor.set_app_active(app, True)
    await saleor.uninstall_app(app)
    # appDeactivate and appDelete save is_active=False before firing: the app never hears.
    assert _events(fake_app) == ([("app_status_changed", True)] if manage_apps else [])
    assert _events(manager) == [
        ("app_status_changed", False),
        ("app_status_changed", True),
        ("app_deleted", None),
    ]


async def test_since_3_23_5_an_apps_lifecycle_events_go_to_that_app_only(
    network: HostRoutingTransport, signing_key: SigningKey, fake_app: FakeApp
) -> None:
    saleor = _sandbox(network, signing_key, CURRENT_VERSION)
    app, manager = await _apps(saleor, network, fake_app, manage_apps=False)
    await saleor.set_app_active(app, False)
    await saleor.set_app_active(app, True)
    await saleor.uninstall_app(app)
    assert _events(fake_app) == [
        ("app_status_changed", False),
        ("app_status_changed", True),
        ("app_deleted", None),
    ]
    assert _events(manager) == []  # MANAGE_APPS grants no events about other apps


@pytest.mark.parametrize(
    ("version", "header"), [(OLDEST_VERSION, "3.20"), (CURRENT_VERSION, "3.24")]
)
async def test_the_version_reported(
    network: HostRoutingTransport,
    signing_key: SigningKey,
    fake_app: FakeApp,
    version: str,
    header: str,
) -> None:
    saleor = _sandbox(network, signing_key, version)
    app = await saleor.install_app("http://app.test/api/manifest")
    [(headers, _)] = fake_app.registrations
    assert headers["saleor-schema-version"] == header  # major.minor, as Saleor sends it
    body = await saleor.execute("{ shop { version } }", app=app)
    assert body == {"data": {"shop": {"version": version}}}


def test_the_sandbox_plays_only_versions_it_knows(
    network: HostRoutingTransport, signing_key: SigningKey
) -> None:
    with pytest.raises(ValueError, match="plays Saleor"):
        SaleorSandbox(api_url=API_URL, transport=network, signing_key=signing_key, version="3.21.0")


@pytest.mark.parametrize("version", [OLDEST_VERSION, CURRENT_VERSION])
async def test_the_order_filters_of_each_version(
    network: HostRoutingTransport, signing_key: SigningKey, version: str
) -> None:
    saleor = _sandbox(network, signing_key, version)
    saleor.generate_store(products=3, customers=3, orders=6, seed=3)
    orders = sorted(saleor.store.orders.values(), key=lambda o: o.created)
    day = datetime(2026, 3, 10, tzinfo=UTC)
    for index, order in enumerate(orders):
        order.created = day + timedelta(hours=6 * index - 3)  # 21:00 the day before, then 03:00…
    app = SandboxApp(id=0, name="staff", identifier="x", version="1", permissions=["MANAGE_ORDERS"])
    by_day = await saleor.execute(
        "query($f: OrderFilterInput) { orders(filter: $f, first: 50) { totalCount } }",
        {"f": {"created": {"gte": "2026-03-10", "lte": "2026-03-10"}}},
        app=app,
    )
    assert by_day == {"data": {"orders": {"totalCount": 4}}}  # 03:00, 09:00, 15:00, 21:00
    where = await saleor.execute(
        "query($w: OrderWhereInput) { orders(where: $w, first: 50) { totalCount } }",
        {"w": {"createdAt": {"gte": "2026-03-10T09:00:00+00:00"}}},
        app=app,
    )
    if version == OLDEST_VERSION:  # invalid document: no `where` on 3.20
        assert "errors" in where and where.get("data") is None
    else:
        assert where == {"data": {"orders": {"totalCount": 4}}}  # 09:00 … 03:00 next day
        both = await saleor.execute(
            '{ orders(filter: {created: {gte: "2026-03-10"}}, '
            'where: {createdAt: {gte: "2026-03-10T00:00:00+00:00"}}, first: 1) { totalCount } }',
            app=app,
        )
        assert both["errors"][0]["message"] == (
            "Only one filtering argument (filter or where) can be specified."
        )
