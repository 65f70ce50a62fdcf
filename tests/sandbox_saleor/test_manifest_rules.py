"""The sandbox refuses an app manifest Saleor refuses at installation, with Saleor's message and
error code (saleor/app/manifest_validations.py, see sandboxes.saleor.manifest_rules), in the
version it plays: 3.20.119 (the oldest the app supports) or the current Saleor."""

from __future__ import annotations

from typing import Any

import pytest

from addon.saleor.manifest import build_manifest
from sandboxes.saleor import InstallationFailed, SaleorSandbox
from sandboxes.saleor.keys import SigningKey
from sandboxes.saleor.manifest_errors import UNKNOWN_ERROR
from sandboxes.saleor.manifest_rules import (
    check_manifest,
    refuses_duplicate_identifier,
    version_satisfies,
)
from sandboxes.saleor.versions import CURRENT_VERSION, OLDEST_VERSION
from sandboxes.transport import HostRoutingTransport

from .conftest import API_URL, APP_HOST, SALEOR_HOST, FakeApp, default_manifest

MANIFEST_URL = f"http://{APP_HOST}/api/manifest"
BOTH = pytest.mark.parametrize("version", [OLDEST_VERSION, CURRENT_VERSION])


def _playing(version: str, network: HostRoutingTransport, key: SigningKey) -> SaleorSandbox:
    saleor = SaleorSandbox(api_url=API_URL, transport=network, signing_key=key, version=version)
    network.add(SALEOR_HOST, saleor.app)
    return saleor


@pytest.fixture
def oldest(network: HostRoutingTransport, signing_key: SigningKey) -> SaleorSandbox:
    return _playing(OLDEST_VERSION, network, signing_key)


@pytest.fixture
def current(network: HostRoutingTransport, signing_key: SigningKey) -> SaleorSandbox:
    return _playing(CURRENT_VERSION, network, signing_key)


@pytest.fixture
def saleor(version: str, network: HostRoutingTransport, signing_key: SigningKey) -> SaleorSandbox:
    return _playing(version, network, signing_key)


async def _refused(
    saleor: SaleorSandbox, fake_app: FakeApp, code: str | None, message: str | None = None
) -> InstallationFailed:
    with pytest.raises(InstallationFailed) as failed:
        await saleor.install_app(MANIFEST_URL)
    assert (failed.value.code, failed.value.message) == (code, message or failed.value.message)
    assert saleor.store.apps == {} and fake_app.registrations == []
    return failed.value


def _extension(**fields: Any) -> dict[str, Any]:
    return {
        "label": "Newsletter",
        "mount": "CUSTOMER_DETAILS_MORE_ACTIONS",
        "target": "POPUP",
        "permissions": ["MANAGE_USERS"],
        "url": f"http://{APP_HOST}/panel",
        **fields,
    }


# -- the project's manifest -----------------------------------------------------------------------


@BOTH
async def test_the_projects_manifest_installs(saleor: SaleorSandbox, fake_app: FakeApp) -> None:
    fake_app.manifest = build_manifest(f"http://{APP_HOST}")
    app = await saleor.install_app(MANIFEST_URL)
    assert app.identifier == "saleor.app.mailchimp"
    assert [hook.name for hook in app.webhooks] == [
        hook["name"] for hook in fake_app.manifest["webhooks"]
    ]


async def test_the_projects_extension_needs_manage_users_granted(
    oldest: SaleorSandbox, fake_app: FakeApp
) -> None:
    fake_app.manifest = build_manifest(f"http://{APP_HOST}")
    with pytest.raises(InstallationFailed) as failed:
        await oldest.install_app(MANIFEST_URL, permissions=["MANAGE_ORDERS"])
    assert failed.value.code == "OUT_OF_SCOPE_PERMISSION"


# -- extensions -----------------------------------------------------------------------------------


async def test_extension_mount_must_be_saleors_before_3_23(
    oldest: SaleorSandbox, current: SaleorSandbox, fake_app: FakeApp
) -> None:
    for mount in ("NOWHERE", "customer_details_more_actions"):  # upper-case names only
        fake_app.manifest["extensions"] = [_extension(mount=mount)]
        await _refused(oldest, fake_app, "INVALID", "Incorrect value for field: mount")
    # Since 3.23 (ManifestSchema) a mount is any string, stored lower-cased.
    assert await current.install_app(MANIFEST_URL)


async def test_extension_target_must_be_saleors_before_3_23(
    oldest: SaleorSandbox, current: SaleorSandbox, fake_app: FakeApp
) -> None:
    fake_app.manifest["extensions"] = [_extension(target="NEW_TAB")]
    await _refused(oldest, fake_app, "INVALID", "Incorrect value for field: target")
    assert await current.install_app(MANIFEST_URL)


@BOTH
async def test_extension_permissions_must_be_the_apps(
    saleor: SaleorSandbox, fake_app: FakeApp
) -> None:
    fake_app.manifest["extensions"] = [_extension(permissions=["MANAGE_DISCOUNTS"])]
    message = "Extension permission must be listed in App's permissions."
    await _refused(saleor, fake_app, "OUT_OF_SCOPE_PERMISSION", message)
    fake_app.manifest["extensions"] = [_extension(permissions=["MANAGE_EVERYTHING"])]
    await _refused(saleor, fake_app, "INVALID_PERMISSION")


@BOTH
async def test_extension_url_must_be_valid(saleor: SaleorSandbox, fake_app: FakeApp) -> None:
    fake_app.manifest["extensions"] = [_extension(url="http://app.test:1/panel")]
    await _refused(saleor, fake_app, "INVALID_URL_FORMAT", "Incorrect value for field: url.")
    # A path is relative to appUrl: without one it is refused.
    del fake_app.manifest["appUrl"]
    fake_app.manifest["extensions"] = [_extension(url="/panel")]
    await _refused(saleor, fake_app, "INVALID_URL_FORMAT", "Incorrect value for field: url.")


async def test_app_page_extension_takes_a_path_only_before_3_23(
    oldest: SaleorSandbox, current: SaleorSandbox, fake_app: FakeApp
) -> None:
    fake_app.manifest["extensions"] = [_extension(target="APP_PAGE")]
    await _refused(oldest, fake_app, "INVALID_URL_FORMAT", "Incorrect value for field: url.")
    assert await current.install_app(MANIFEST_URL)


@BOTH
async def test_extension_needs_label_url_and_mount(
    saleor: SaleorSandbox, fake_app: FakeApp
) -> None:
    extension = _extension()
    del extension["mount"], extension["label"]
    fake_app.manifest["extensions"] = [extension]
    message = "Missing required fields for app extension: label, mount."
    await _refused(saleor, fake_app, "REQUIRED", message)


async def test_extension_identifiers_are_unique_since_3_23_19(
    oldest: SaleorSandbox, current: SaleorSandbox, fake_app: FakeApp
) -> None:
    fake_app.manifest["extensions"] = [_extension(identifier="panel")] * 2
    message = "Duplicate extension identifier: panel."
    await _refused(current, fake_app, "DUPLICATED_EXTENSION_IDENTIFIER", message)
    assert await oldest.install_app(MANIFEST_URL)


# -- app fields -----------------------------------------------------------------------------------


@BOTH
async def test_brand_logo_must_be_a_png_url(saleor: SaleorSandbox, fake_app: FakeApp) -> None:
    for logo, message in [
        (f"http://{APP_HOST}/logo.svg", "Invalid file type for field: logo.default."),
        # the type is read from everything after the scheme: a query hides it
        (f"http://{APP_HOST}/logo.png?v=2", "Invalid file type for field: logo.default."),
        ("/static/logo.png", "Incorrect value for field: logo.default."),
    ]:
        fake_app.manifest["brand"] = {"logo": {"default": logo}}
        await _refused(saleor, fake_app, "INVALID_URL_FORMAT", message)
    fake_app.manifest["brand"] = {"logo": {}}
    await _refused(saleor, fake_app, "REQUIRED", "Missing required field: logo.default.")
    fake_app.manifest["brand"] = {"logo": {"default": f"http://{APP_HOST}/static/LOGO.PNG"}}
    assert await saleor.install_app(MANIFEST_URL)


@BOTH
async def test_unsatisfied_required_saleor_version(
    saleor: SaleorSandbox, fake_app: FakeApp, version: str
) -> None:
    fake_app.manifest["requiredSaleorVersion"] = ">=3.21" if version == OLDEST_VERSION else "<3.24"
    message = f"Saleor version {version} is not supported by the app."
    await _refused(saleor, fake_app, "UNSUPPORTED_SALEOR_VERSION", message)
    fake_app.manifest["requiredSaleorVersion"] = "3.20 or later"
    await _refused(saleor, fake_app, "INVALID", "Incorrect value for required Saleor version.")
    fake_app.manifest["requiredSaleorVersion"] = ">=3.20"
    assert await saleor.install_app(MANIFEST_URL)


def test_required_saleor_version_ranges_compare_pre_releases_naturally() -> None:
    assert version_satisfies(">=3.20", "3.24.0-a.0")
    assert version_satisfies("^3.20", "3.24.0-a.0")
    assert not version_satisfies("<3.24", "3.24.0-a.0")  # natural, not "same patch"
    assert version_satisfies(">=3.24.0-a.0", "3.24.0-a.0")
    assert version_satisfies("3.20.x || >=3.23.5", "3.20.119")
    assert not version_satisfies("3.21 - 3.23", "3.20.119")
    assert version_satisfies("3.21 - 3.24", "3.24.0-a.0")
    assert not version_satisfies("~3.20.120", "3.20.119")


@BOTH
async def test_blank_author(saleor: SaleorSandbox, fake_app: FakeApp) -> None:
    fake_app.manifest["author"] = "   "
    await _refused(saleor, fake_app, "INVALID", "Incorrect value for field: author")
    fake_app.manifest["author"] = "  Acme  "
    assert (await saleor.install_app(MANIFEST_URL)).author == "Acme"


@BOTH
async def test_token_target_url_must_be_a_valid_url(
    saleor: SaleorSandbox, fake_app: FakeApp, version: str
) -> None:
    message = "Incorrect format." if version == OLDEST_VERSION else "Invalid target url."
    for url in (f"{APP_HOST}/api/register", f"http://{APP_HOST}:1/api/register", "http://a b/"):
        fake_app.manifest["tokenTargetUrl"] = url
        failed = await _refused(saleor, fake_app, "INVALID_URL_FORMAT", message)
        assert failed.field == "tokenTargetUrl"


@BOTH
async def test_manifest_field_types(saleor: SaleorSandbox, fake_app: FakeApp) -> None:
    fake_app.manifest["version"] = 1
    await _refused(saleor, fake_app, "INVALID", "Input should be a valid string")


async def test_null_extensions_fail_before_3_23(
    oldest: SaleorSandbox, current: SaleorSandbox, fake_app: FakeApp
) -> None:
    fake_app.manifest["extensions"] = None
    await _refused(oldest, fake_app, "INVALID", "Input should be a valid list")
    assert await current.install_app(MANIFEST_URL)  # `DefaultIfNone`


@BOTH
async def test_values_longer_than_saleors_columns(saleor: SaleorSandbox, fake_app: FakeApp) -> None:
    fake_app.manifest["author"] = "A" * 61
    assert (await _refused(saleor, fake_app, None, UNKNOWN_ERROR)).field == "author"
    fake_app.manifest["author"] = "A" * 60
    fake_app.manifest["name"] = "N" * 61
    message = "Ensure this value has at most 60 characters (it has 61)."
    await _refused(saleor, fake_app, "INVALID", message)


async def test_gift_card_gateway_identifier_is_reserved_since_3_23(
    oldest: SaleorSandbox, current: SaleorSandbox, fake_app: FakeApp
) -> None:
    fake_app.manifest["id"] = "saleor.io.gift-card-payment-gateway"
    await _refused(current, fake_app, "UNIQUE", "App with this identifier cannot be installed")
    assert await oldest.install_app(MANIFEST_URL)


@BOTH
async def test_an_installed_identifier_is_refused(
    saleor: SaleorSandbox, fake_app: FakeApp, version: str
) -> None:
    """saleor/app/manifest_validations.py @3.20.1 (and every later tag), `clean_manifest_data`:
    both versions the sandbox plays refuse it, by default."""
    first = await saleor.install_app(MANIFEST_URL)
    fake_app.registrations.clear()
    with pytest.raises(InstallationFailed) as failed:
        await saleor.install_app(MANIFEST_URL)
    message = "App with the same identifier is already installed: Test App"
    code = None if version == OLDEST_VERSION else "UNIQUE"  # the code came with 3.22.2
    assert (failed.value.message, failed.value.code) == (message, code)
    assert failed.value.field == "identifier"
    assert list(saleor.store.apps) == [first.id] and fake_app.registrations == []

    other = await saleor.install_app(f"{MANIFEST_URL}/other")  # another `id`: another app
    assert other.identifier == "test.mailchimp.other"
    await saleor.uninstall_app(first)  # removed, its identifier is free again
    again = await saleor.install_app(MANIFEST_URL)
    assert set(saleor.store.apps) == {other.id, again.id} and again.id != first.id


@pytest.mark.parametrize(
    ("version", "refused"),
    [
        ("3.18.74", False),
        ("3.19.60", False),
        ("3.19.61", True),  # the backport (saleor/saleor#16272)
        ("3.19.102", True),
        ("3.20.0-a.1", False),
        ("3.20.0", False),
        ("3.20.1", True),  # first tagged
        ("3.22.1", True),
        (OLDEST_VERSION, True),
        ("3.23.28", True),
        (CURRENT_VERSION, True),
    ],
)
def test_the_identifier_check_in_the_versions_that_have_it(version: str, refused: bool) -> None:
    """Read at each tag of saleor/app/manifest_validations.py: 3.19.61 ... 3.19.102 and 3.20.1
    onwards hold the check; 3.18, 3.19.0 ... 3.19.60 and 3.20.0 do not."""
    manifest = default_manifest()
    installed = {"test.mailchimp": "Test App"}
    assert refuses_duplicate_identifier(version) is refused
    if refused:
        with pytest.raises(InstallationFailed, match="same identifier is already installed"):
            check_manifest(manifest, version=version, granted=[], installed=installed)
    else:
        check_manifest(manifest, version=version, granted=[], installed=installed)
    check_manifest(manifest, version=version, granted=[], installed={"other.app": "Other"})


async def test_a_saleor_without_the_identifier_check_is_played_on_request(
    oldest: SaleorSandbox, fake_app: FakeApp
) -> None:
    """`refuses_duplicate_identifiers = False` plays a Saleor before it (3.20.0 and older)."""
    oldest.refuses_duplicate_identifiers = False
    first, second = await oldest.install_app(MANIFEST_URL), await oldest.install_app(MANIFEST_URL)
    assert first.identifier == second.identifier and first.id != second.id


async def test_manage_apps_when_asked(
    oldest: SaleorSandbox, current: SaleorSandbox, fake_app: FakeApp
) -> None:
    for saleor in (oldest, current):
        saleor.refuses_manage_apps = True
    fake_app.manifest["permissions"] = ["MANAGE_USERS", "MANAGE_APPS"]
    message = "MANAGE_APPS permission cannot be granted to an app."
    await _refused(current, fake_app, "OUT_OF_SCOPE_PERMISSION", message)
    assert await oldest.install_app(MANIFEST_URL)


# -- webhooks -------------------------------------------------------------------------------------


@BOTH
async def test_webhook_events_must_be_saleors(saleor: SaleorSandbox, fake_app: FakeApp) -> None:
    [hook, _] = fake_app.manifest["webhooks"]
    hook["asyncEvents"] = ["APP_STATUS_CHANGED", "APP_EXPLODED"]
    await _refused(saleor, fake_app, "INVALID", "Invalid asynchronous event.")
    hook["asyncEvents"] = ["APP_STATUS_CHANGED"]
    hook["syncEvents"] = ["ORDER_CREATED"]  # an asynchronous one
    await _refused(saleor, fake_app, "INVALID", "Invalid synchronous event.")


async def test_webhook_events_of_the_version(
    oldest: SaleorSandbox, current: SaleorSandbox, fake_app: FakeApp
) -> None:
    fake_app.manifest["webhooks"][0]["asyncEvents"] = ["PRODUCT_TYPE_CREATED"]
    await _refused(oldest, fake_app, "INVALID", "Invalid asynchronous event.")
    assert await current.install_app(MANIFEST_URL)


@BOTH
async def test_webhook_is_active_must_be_a_boolean(
    saleor: SaleorSandbox, fake_app: FakeApp
) -> None:
    fake_app.manifest["webhooks"][0]["isActive"] = "true"
    await _refused(saleor, fake_app, "INVALID", "Incorrect value for field: isActive.")


@BOTH
async def test_webhook_target_url_must_be_valid(saleor: SaleorSandbox, fake_app: FakeApp) -> None:
    fake_app.manifest["webhooks"][0]["targetUrl"] = "ftp://app.test/hook"  # not a webhook scheme
    await _refused(saleor, fake_app, "INVALID_URL_FORMAT", "Invalid target url.")


@BOTH
async def test_webhook_needs_name_target_url_and_query(
    saleor: SaleorSandbox, fake_app: FakeApp
) -> None:
    del fake_app.manifest["webhooks"][0]["query"]
    await _refused(saleor, fake_app, "REQUIRED", "Missing required fields for webhook: query.")


@BOTH
async def test_webhook_custom_headers(saleor: SaleorSandbox, fake_app: FakeApp) -> None:
    fake_app.manifest["webhooks"][0]["customHeaders"] = {"Token": "secret"}
    message = (
        'Invalid custom headers: "Token" does not match allowed key pattern: '
        '"X-*", "Authorization*", or "BrokerProperties".'
    )
    await _refused(saleor, fake_app, "INVALID_CUSTOM_HEADERS", message)
    fake_app.manifest["webhooks"][0]["customHeaders"] = {"X-Token": "secret"}
    app = await saleor.install_app(MANIFEST_URL)
    assert app.webhooks[0].custom_headers == {"x-token": "secret"}


async def test_webhook_identifiers_are_unique_since_3_23_23(
    oldest: SaleorSandbox, current: SaleorSandbox, fake_app: FakeApp
) -> None:
    for hook in fake_app.manifest["webhooks"]:
        hook["identifier"] = "hook"
    message = "Duplicate webhook identifier: hook."
    await _refused(current, fake_app, "DUPLICATED_WEBHOOK_IDENTIFIER", message)
    assert await oldest.install_app(MANIFEST_URL)
