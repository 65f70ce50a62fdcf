"""Forged requests to the endpoints Saleor and the dashboard call: every one is refused and
changes nothing. What Saleor signs is RS256 only, with the key its JWKS publishes under the
`kid` (saleor/core/jwt_manager.py `jws_encode`, `encode`); dashboard tokens name their Saleor in
`iss` (saleor/core/jwt.py `jwt_base_payload`) and their app in `app`
(`_create_access_token_for_third_party_actions`)."""

from __future__ import annotations

import base64
import hmac
import json
import time
from typing import Any

import httpx
import pytest

from addon.installations.repository import InstallationRepository
from addon.services import Services
from sandboxes.saleor import SaleorSandbox, SandboxApp, SigningKey
from sandboxes.transport import HostRoutingTransport
from tests.conftest import SALEOR_API_URL
from tests.deliveries import _headers, _post, _status_body
from tests.factories import count_jobs, installation


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(saleor: SaleorSandbox, app: SandboxApp, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iat": now,
        "owner": "saleor",
        "iss": saleor.api_url,
        "exp": now + 300,
        "email": "admin@example.com",
        "type": "thirdparty",
        "app": app.global_id,
        "user_permissions": ["MANAGE_APPS"],
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _unsigned(claims: dict[str, Any], kid: str) -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}."


def _hs256_with_public_key(saleor: SaleorSandbox, payload: bytes, detached: bool) -> str:
    """The classic confusion: HMAC keyed with the RSA public key a verifier holds (made by
    hand: PyJWT refuses to sign with such a key)."""
    header: dict[str, Any] = {"alg": "HS256", "kid": saleor.kid}
    if detached:
        header |= {"b64": False, "crit": ["b64"]}
    head = _b64(json.dumps(header).encode())
    body = payload if detached else _b64(payload).encode()
    mac = hmac.new(saleor.keys.current.public_pem(), head.encode() + b"." + body, "sha256")
    return f"{head}.{'' if detached else body.decode()}.{_b64(mac.digest())}"


async def _dashboard_status(client: httpx.AsyncClient, token: str, api_url: str) -> int:
    response = await client.get(
        "/api/installation",
        headers={"authorization-bearer": token, "saleor-api-url": api_url},
    )
    return response.status_code


async def test_forged_dashboard_tokens_are_refused(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    app_client: httpx.AsyncClient,
) -> None:
    claims = _claims(saleor, installed_app)
    unsigned = _unsigned(claims, saleor.kid)
    hs256 = _hs256_with_public_key(saleor, json.dumps(claims).encode(), detached=False)
    customer = saleor.mint_customer_token(
        await saleor.create_customer("eve@example.com", "Eve", is_confirmed=True)
    )
    without_expiry = saleor.keys.current.encode_jwt(_claims(saleor, installed_app, exp=None))
    slashless = saleor.keys.current.encode_jwt(
        _claims(saleor, installed_app, iss=SALEOR_API_URL.rstrip("/"))
    )

    assert await _dashboard_status(app_client, unsigned, SALEOR_API_URL) == 401
    assert await _dashboard_status(app_client, hs256, SALEOR_API_URL) == 401
    assert await _dashboard_status(app_client, customer, SALEOR_API_URL) == 401
    assert await _dashboard_status(app_client, without_expiry, SALEOR_API_URL) == 401
    assert await _dashboard_status(app_client, slashless, SALEOR_API_URL) == 401
    assert await _dashboard_status(app_client, slashless, SALEOR_API_URL.rstrip("/")) == 401
    # A webhook's signature is no token either.
    signature = saleor.sign(b"{}")
    assert await _dashboard_status(app_client, signature, SALEOR_API_URL) == 401


async def test_forged_webhook_signatures_are_refused(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    app_client: httpx.AsyncClient,
    services: Services,
) -> None:
    body = _status_body(installed_app, False)
    header = _b64(
        json.dumps({"alg": "none", "kid": saleor.kid, "b64": False, "crit": ["b64"]}).encode()
    )
    forgeries = [
        f"{header}..",  # alg none, detached
        # A token Saleor issued, its payload attached: signs itself, not the body.
        saleor.mint_dashboard_token(installed_app),
        _hs256_with_public_key(saleor, body, detached=True),
    ]
    jobs = await count_jobs(services)
    for forged in forgeries:
        response = await _post(
            app_client, body, _headers(saleor, body, **{"Saleor-Signature": forged})
        )
        assert response.status_code == 401, (forged, response.text)
    stored = await installation(services)
    assert stored is not None and stored.is_active
    assert await count_jobs(services) == jobs


@pytest.fixture
def other_saleor(network: HostRoutingTransport, stranger_key: SigningKey) -> SaleorSandbox:
    sandbox = SaleorSandbox(
        "http://other.test/graphql/", transport=network, signing_key=stranger_key
    )
    network.add("other.test", sandbox.app)
    return sandbox


async def test_a_body_another_saleor_signed_is_refused_for_this_one(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    other_saleor: SaleorSandbox,
    app_client: httpx.AsyncClient,
    services: Services,
) -> None:
    """The app installed in two Saleors: one's delivery posted as the other's."""
    other_app = await other_saleor.install_app("http://app.test/api/manifest")
    body = _status_body(installed_app, False)
    signed_elsewhere = other_saleor.sign(body)
    response = await _post(
        app_client, body, _headers(saleor, body, **{"Saleor-Signature": signed_elsewhere})
    )
    assert response.status_code == 401
    async with services.db.session() as session:
        stored = await InstallationRepository(session).get_by_api_url(SALEOR_API_URL)
    assert stored is not None and stored.is_active
    # And a dashboard token of the other Saleor, for the other installation, is not this one's.
    token = other_saleor.mint_dashboard_token(other_app)
    assert await _dashboard_status(app_client, token, SALEOR_API_URL) == 401
