"""Dashboard (app) tokens and customer access tokens, as Saleor mints them."""

from __future__ import annotations

import httpx
import jwt
from jwt import PyJWK

from sandboxes.saleor import DEFAULT_MANAGE_PERMISSIONS, SaleorSandbox

from .conftest import API_URL, APP_HOST, FakeApp, gql


def decode(sandbox: SaleorSandbox, token: str) -> dict[str, object]:
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in sandbox.jwks()["keys"] if k["kid"] == kid)
    claims: dict[str, object] = jwt.decode(
        token, PyJWK(key).key, algorithms=["RS256"], issuer=API_URL
    )
    return claims


async def test_dashboard_token_claims(sandbox: SaleorSandbox, fake_app: FakeApp):
    app = await sandbox.install_app(f"http://{APP_HOST}/api/manifest")
    token = sandbox.mint_dashboard_token(app, expires_in=60)
    assert jwt.get_unverified_header(token)["kid"] == sandbox.kid
    claims = decode(sandbox, token)
    assert claims["owner"] == "saleor" and claims["type"] == "thirdparty"
    assert claims["iss"] == API_URL
    assert claims["app"] == app.global_id
    assert claims["permissions"] == app.permissions
    assert claims["user_permissions"] == list(DEFAULT_MANAGE_PERMISSIONS)
    assert claims["email"] == "admin@example.com" and claims["is_staff"] is True
    assert str(claims["user_id"]).startswith("VXNlcj")  # base64("User:")
    assert isinstance(claims["token"], str)
    assert claims["exp"] == claims["iat"] + 60  # type: ignore[operator]


async def test_dashboard_token_authenticates_staff_with_intersected_permissions(
    sandbox: SaleorSandbox, fake_app: FakeApp, client: httpx.AsyncClient
):
    app = await sandbox.install_app(f"http://{APP_HOST}/api/manifest")
    sandbox.store.create_customer("ann@example.com")
    token = sandbox.mint_dashboard_token(app, user_permissions=["MANAGE_USERS"])
    body = await gql(client, "{ customers(first: 5) { totalCount } }", token=token)
    assert body["data"]["customers"]["totalCount"] == 1
    body = await gql(client, "{ orders(first: 5) { totalCount } }", token=token)
    assert body["errors"][0]["extensions"]["exception"]["code"] == "PermissionDenied"


async def test_customer_token(sandbox: SaleorSandbox, client: httpx.AsyncClient):
    customer = sandbox.store.create_customer("ann@example.com", "Ann")
    token = sandbox.mint_customer_token(customer)
    claims = decode(sandbox, token)
    assert claims["type"] == "access" and claims["email"] == "ann@example.com"
    assert claims["user_id"] == customer.global_id
    assert claims["is_staff"] is False and claims["permissions"] == []
    body = await gql(client, "{ me { id email firstName } }", token=token)
    assert body == {
        "data": {"me": {"id": customer.global_id, "email": "ann@example.com", "firstName": "Ann"}}
    }


async def test_expired_or_foreign_tokens_are_anonymous(
    sandbox: SaleorSandbox, client: httpx.AsyncClient
):
    customer = sandbox.store.create_customer("ann@example.com")
    expired = sandbox.mint_customer_token(customer, expires_in=-10)
    assert (await gql(client, "{ me { id } }", token=expired))["data"] == {"me": None}
    old = sandbox.mint_customer_token(customer)
    sandbox.rotate_keys()
    assert (await gql(client, "{ me { id } }", token=old))["data"] == {"me": None}
