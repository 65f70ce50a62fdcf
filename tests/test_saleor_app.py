"""Installing from the manifest (and the registrations the app refuses), dashboard
authentication. Webhooks verified: tests/test_webhook_verification.py; the app's lifecycle
(deactivation, uninstall): tests/test_lifecycle_webhooks.py."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from addon.services import Services
from sandboxes.saleor import InstallationFailed, SaleorSandbox, SandboxApp, SigningKey
from tests.conftest import APP_URL, SALEOR_API_URL, RecordingTransport, dashboard_headers
from tests.factories import installation

# --- manifest and install ----------------------------------------------------------------


async def test_manifest_has_absolute_urls_and_the_webhooks(app_client: httpx.AsyncClient) -> None:
    manifest = (await app_client.get("/api/manifest")).json()
    for key in ("appUrl", "tokenTargetUrl", "dataPrivacyUrl", "homepageUrl", "supportUrl"):
        assert manifest[key].startswith(APP_URL + "/"), key
    assert manifest["brand"]["logo"]["default"].startswith(APP_URL)
    assert manifest["requiredSaleorVersion"] and manifest["author"]
    assert set(manifest["permissions"]) == {
        "MANAGE_USERS",
        "MANAGE_ORDERS",
        "MANAGE_CHECKOUTS",
        "MANAGE_PRODUCTS",
        "MANAGE_DISCOUNTS",  # vouchers as promo codes (docs/promo-codes.md)
    }
    hooks = {hook["name"]: hook for hook in manifest["webhooks"]}
    assert hooks["AppStatusChanged"]["asyncEvents"] == ["APP_STATUS_CHANGED"]
    assert hooks["AppDeleted"]["targetUrl"] == APP_URL + "/api/webhooks/app-deleted"
    assert all(hook["isActive"] and hook["query"].startswith("#") for hook in hooks.values())


async def test_install_through_the_sandbox(
    installed_app: SandboxApp, saleor: SaleorSandbox, services: Services
) -> None:
    stored = await installation(services)
    assert stored is not None
    assert stored.saleor_api_url == SALEOR_API_URL
    assert stored.app_id == installed_app.global_id
    assert stored.app_token.get_secret_value() == installed_app.auth_token
    assert stored.is_active
    assert [key["kid"] for key in stored.jwks["keys"]] == [saleor.kid]


async def test_reinstall_overwrites_the_record(
    installed_app: SandboxApp, saleor: SaleorSandbox, services: Services
) -> None:
    saleor.store.apps.pop(installed_app.id)  # deleted in Saleor, its APP_DELETED lost
    again = await saleor.install_app(f"{APP_URL}/api/manifest")
    stored = await installation(services)
    assert stored is not None and stored.app_id == again.global_id != installed_app.global_id
    assert stored.app_token.get_secret_value() == again.auth_token


async def test_register_from_a_prohibited_saleor_sends_nothing_out(
    app_client: httpx.AsyncClient, services: Services, outbound: RecordingTransport
) -> None:
    object.__setattr__(
        services.settings, "allowed_saleor_urls", [r"https://.*\.saleor\.cloud/graphql/"]
    )
    services.settings.__dict__.pop("saleor_url_patterns", None)
    response = await app_client.post(
        "/api/register",
        json={"auth_token": "whatever"},
        headers={"Saleor-Api-Url": "http://evil.test/graphql/", "Saleor-Domain": "evil.test"},
    )
    assert response.status_code == 403
    assert response.json() == {
        "success": False,
        "error": {"code": "SALEOR_URL_PROHIBITED", "message": response.json()["error"]["message"]},
    }
    assert "ALLOWED_SALEOR_URLS" in response.json()["error"]["message"]
    assert outbound.requests == []
    assert await installation(services) is None


async def test_the_installer_sees_why_a_prohibited_install_failed(
    app_client: httpx.AsyncClient, services: Services, saleor: SaleorSandbox
) -> None:
    object.__setattr__(
        services.settings, "allowed_saleor_urls", [r"https://shop\.example/graphql/"]
    )
    services.settings.__dict__.pop("saleor_url_patterns", None)
    with pytest.raises(InstallationFailed, match="does not accept installations"):
        await saleor.install_app(f"{APP_URL}/api/manifest")


async def test_register_rejects_a_token_saleor_does_not_confirm(
    app_client: httpx.AsyncClient, saleor: SaleorSandbox, services: Services
) -> None:
    response = await app_client.post(
        "/api/register",
        json={"auth_token": "not-a-real-token"},
        headers={"Saleor-Api-Url": SALEOR_API_URL, "Saleor-Domain": "saleor.test"},
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_APP_TOKEN"
    assert await installation(services) is None


@pytest.mark.parametrize(
    ("body", "headers", "code"),
    [
        ({"auth_token": "x"}, {}, "MISSING_SALEOR_API_URL"),
        ({"token": "x"}, {"Saleor-Api-Url": SALEOR_API_URL}, "INVALID_BODY"),
        ({"auth_token": ""}, {"Saleor-Api-Url": SALEOR_API_URL}, "INVALID_BODY"),
    ],
)
async def test_register_rejects_malformed_requests(
    app_client: httpx.AsyncClient, body: dict[str, str], headers: dict[str, str], code: str
) -> None:
    response = await app_client.post("/api/register", json=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


async def test_register_reports_an_unreachable_saleor(app_client: httpx.AsyncClient) -> None:
    response = await app_client.post(
        "/api/register",
        json={"auth_token": "x"},
        headers={"Saleor-Api-Url": "http://nowhere.test/graphql/"},
    )
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "SALEOR_UNREACHABLE"


async def test_no_plaintext_token_in_the_database(
    installed_app: SandboxApp, services: Services
) -> None:
    token = installed_app.auth_token
    assert token
    if services.db.is_sqlite:
        path = Path(services.db.engine.url.database or "")
        stored = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
        assert b"QXBwOj" in stored or installed_app.global_id.encode() in stored  # data is there
        assert token.encode() not in stored
    else:
        async with services.db.session() as session:
            rows = await session.execute(text("SELECT row_to_json(i)::text FROM installations i"))
            dumped = " ".join(row[0] for row in rows)
        assert installed_app.global_id in dumped and token not in dumped


# --- dashboard authentication ------------------------------------------------------------


async def test_a_dashboard_token_reads_the_installation(
    installed_app: SandboxApp, saleor: SaleorSandbox, app_client: httpx.AsyncClient
) -> None:
    response = await app_client.get(
        "/api/installation", headers=dashboard_headers(saleor, installed_app)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["app_id"] == installed_app.global_id and body["is_active"] is True
    assert body["user_email"] == "admin@example.com"
    assert installed_app.auth_token not in response.text
    assert "token" not in " ".join(body)


async def test_dashboard_tokens_that_must_be_refused(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    app_client: httpx.AsyncClient,
    stranger_key: SigningKey,
) -> None:
    async def status(headers: dict[str, str]) -> tuple[int, str]:
        response = await app_client.get("/api/installation", headers=headers)
        return response.status_code, response.json()["error"]["code"]

    good = dashboard_headers(saleor, installed_app)
    forged = dict(
        good,
        **{
            "authorization-bearer": SigningKey.from_pem(
                stranger_key.private_pem(), kid=saleor.kid
            ).encode_jwt(
                {
                    "iss": SALEOR_API_URL,
                    "exp": 4102444800,
                    "app": installed_app.global_id,
                    "user_permissions": ["MANAGE_APPS"],
                }
            )
        },
    )
    expired = dashboard_headers(saleor, installed_app, expires_in=-60)
    other_app = dashboard_headers(
        saleor, installed_app.model_copy(update={"id": installed_app.id + 100})
    )
    weak = dashboard_headers(saleor, installed_app, user_permissions=["MANAGE_ORDERS"])

    assert await status(forged) == (401, "INVALID_TOKEN")
    assert await status(expired) == (401, "TOKEN_EXPIRED")
    assert await status(other_app) == (401, "INVALID_TOKEN")
    assert await status(weak) == (403, "MISSING_PERMISSIONS")
    assert await status({}) == (401, "MISSING_AUTHENTICATION")
    assert await status(dict(good, **{"saleor-api-url": "http://other.test/graphql/"})) == (
        401,
        "UNKNOWN_INSTALLATION",
    )


async def test_a_dashboard_token_signed_after_a_key_rotation_is_accepted(
    installed_app: SandboxApp, saleor: SaleorSandbox, app_client: httpx.AsyncClient
) -> None:
    saleor.rotate_keys()
    response = await app_client.get(
        "/api/installation", headers=dashboard_headers(saleor, installed_app)
    )
    assert response.status_code == 200, response.text


async def test_a_token_from_another_saleor_is_refused(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    app_client: httpx.AsyncClient,
    saleor_signing_key: SigningKey,
) -> None:
    other = SaleorSandbox("http://other.test/graphql/", signing_key=saleor_signing_key)
    token = other.mint_dashboard_token(installed_app)  # same key, but iss is the other Saleor
    response = await app_client.get(
        "/api/installation",
        headers={"authorization-bearer": token, "saleor-api-url": SALEOR_API_URL},
    )
    assert response.status_code == 401
