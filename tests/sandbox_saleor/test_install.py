"""Installing an app the way Saleor does: manifest, token handshake, webhooks."""

from __future__ import annotations

import httpx
import pytest

from sandboxes.saleor import InstallationFailed, SaleorSandbox
from sandboxes.saleor.documents import ORDER_CREATED_SUBSCRIPTION

from .conftest import API_URL, APP_HOST, FakeApp

MANIFEST_URL = f"http://{APP_HOST}/api/manifest"


async def test_install_posts_token_with_saleor_headers(sandbox: SaleorSandbox, fake_app: FakeApp):
    app = await sandbox.install_app(MANIFEST_URL)

    assert app.global_id == "QXBwOjE="  # base64("App:1"), as in Saleor
    assert app.name == "Test App" and app.identifier == "test.mailchimp"
    assert app.permissions == fake_app.manifest["permissions"]
    assert app.is_active
    [(headers, body)] = fake_app.registrations
    assert body == {"auth_token": app.auth_token}
    assert headers["saleor-api-url"] == API_URL
    assert headers["saleor-domain"] == "saleor.test"
    assert headers["content-type"] == "application/json"
    assert sandbox.get_app(app.global_id) is app


async def test_webhooks_are_created_from_the_manifest(sandbox: SaleorSandbox, fake_app: FakeApp):
    app = await sandbox.install_app(MANIFEST_URL)
    assert [(w.name, w.async_events) for w in app.webhooks] == [
        ("Lifecycle", ["APP_STATUS_CHANGED", "APP_DELETED"]),
        ("Order created", ["ORDER_CREATED"]),
    ]
    hook = app.webhooks[1]
    assert hook.target_url == f"http://{APP_HOST}/api/webhooks/order-created"
    assert hook.query == ORDER_CREATED_SUBSCRIPTION and hook.is_active


async def test_events_are_derived_from_the_query_when_not_listed(
    sandbox: SaleorSandbox, fake_app: FakeApp
):
    fake_app.manifest["webhooks"] = [
        {
            "name": "derived",
            "query": "subscription { event { ... on CustomerCreated { user { id } } } }",
            "targetUrl": f"http://{APP_HOST}/api/webhooks/derived",
        }
    ]
    app = await sandbox.install_app(MANIFEST_URL)
    assert app.webhooks[0].async_events == ["CUSTOMER_CREATED"]


async def test_the_app_can_call_the_api_with_its_token_while_registering(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
):
    fake_app.saleor_client = client
    app = await sandbox.install_app(MANIFEST_URL)
    assert fake_app.app_id_seen_during_register == {"data": {"app": {"id": app.global_id}}}


async def test_permissions_can_be_overridden(sandbox: SaleorSandbox, fake_app: FakeApp):
    app = await sandbox.install_app(MANIFEST_URL, permissions=["MANAGE_USERS"])
    assert app.permissions == ["MANAGE_USERS"]


async def test_rejected_token_fails_the_installation(sandbox: SaleorSandbox, fake_app: FakeApp):
    fake_app.register_status = 403
    fake_app.register_error = {"code": "FORBIDDEN", "message": "This Saleor is not allowed"}
    with pytest.raises(InstallationFailed) as failure:
        await sandbox.install_app(MANIFEST_URL)
    assert failure.value.message == "This Saleor is not allowed"
    assert failure.value.status_code == 403 and failure.value.code == "FORBIDDEN"
    assert sandbox.store.apps == {}


async def test_error_without_json_body_still_fails(sandbox: SaleorSandbox, fake_app: FakeApp):
    fake_app.register_status = 500
    with pytest.raises(InstallationFailed):
        await sandbox.install_app(MANIFEST_URL)
    assert sandbox.store.apps == {}


async def test_missing_manifest_or_bad_fields(sandbox: SaleorSandbox, fake_app: FakeApp):
    with pytest.raises(InstallationFailed, match="manifest"):
        await sandbox.install_app(f"http://{APP_HOST}/nope")
    with pytest.raises(InstallationFailed):
        await sandbox.install_app("http://unknown.test/api/manifest")
    fake_app.manifest["permissions"] = ["MANAGE_EVERYTHING"]
    with pytest.raises(InstallationFailed, match="MANAGE_EVERYTHING"):
        await sandbox.install_app(MANIFEST_URL)
    del fake_app.manifest["tokenTargetUrl"]
    with pytest.raises(InstallationFailed, match="tokenTargetUrl"):
        await sandbox.install_app(MANIFEST_URL)
    assert fake_app.registrations == []
