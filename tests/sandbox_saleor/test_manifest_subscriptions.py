"""Saleor validates an app's webhook subscriptions against its own schema at installation
(saleor/app/manifest_validations.py): the sandbox refuses a manifest naming a type the version
it plays lacks, or a subscription that does not parse."""

from __future__ import annotations

import pytest

from sandboxes.saleor import InstallationFailed, SaleorSandbox
from sandboxes.saleor.keys import SigningKey
from sandboxes.saleor.versions import CURRENT_VERSION, OLDEST_VERSION
from sandboxes.transport import HostRoutingTransport

from .conftest import API_URL, APP_HOST, SALEOR_HOST, FakeApp

MANIFEST_URL = f"http://{APP_HOST}/api/manifest"

CUSTOMER_DELETED = "subscription { event { ... on CustomerDeleted { user { id email } } } }"


def _playing(version: str, network: HostRoutingTransport, key: SigningKey) -> SaleorSandbox:
    saleor = SaleorSandbox(api_url=API_URL, transport=network, signing_key=key, version=version)
    network.add(SALEOR_HOST, saleor.app)
    return saleor


def _subscribe(fake_app: FakeApp, query: str) -> None:
    fake_app.manifest["webhooks"] = [
        {"name": "Deleted", "query": query, "targetUrl": f"http://{APP_HOST}/api/webhooks/x"}
    ]


async def test_a_type_the_version_lacks_fails_the_installation(
    network: HostRoutingTransport, signing_key: SigningKey, fake_app: FakeApp
) -> None:
    _subscribe(fake_app, CUSTOMER_DELETED)
    oldest = _playing(OLDEST_VERSION, network, signing_key)
    with pytest.raises(InstallationFailed, match="Subscription query is not valid") as failed:
        await oldest.install_app(MANIFEST_URL)
    assert failed.value.code == "INVALID"
    assert oldest.store.apps == {} and fake_app.registrations == []
    current = _playing(CURRENT_VERSION, network, signing_key)
    app = await current.install_app(MANIFEST_URL)
    assert app.webhooks[0].async_events == ["CUSTOMER_DELETED"]


async def test_a_subscription_that_does_not_parse_fails_the_installation(
    sandbox: SaleorSandbox, fake_app: FakeApp
) -> None:
    _subscribe(fake_app, "subscription { event {")
    with pytest.raises(InstallationFailed, match="Subscription query is not valid"):
        await sandbox.install_app(MANIFEST_URL)
    assert sandbox.store.apps == {}
