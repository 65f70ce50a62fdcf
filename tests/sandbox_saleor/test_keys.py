"""JWKS publication, key rotation and Saleor-style detached JWS signatures."""

from __future__ import annotations

import json

import httpx
import jwt
import pytest
from jwt import PyJWK

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.keys import b64url

from .conftest import SALEOR_HOST


async def fetch_jwks(client: httpx.AsyncClient) -> dict[str, list[dict[str, str]]]:
    response = await client.get(f"http://{SALEOR_HOST}/.well-known/jwks.json")
    assert response.status_code == 200
    data: dict[str, list[dict[str, str]]] = response.json()
    return data


def verify(signature: str, body: bytes, jwks: dict[str, list[dict[str, str]]]) -> None:
    """Verify like an app would: pick the JWKS key by kid, check the detached JWS."""
    header = jwt.get_unverified_header(signature)
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    jwt.api_jws.decode_complete(
        signature, PyJWK(key).key, algorithms=["RS256"], detached_payload=body
    )


async def test_jwks_serves_the_current_key(sandbox: SaleorSandbox, client: httpx.AsyncClient):
    jwks = await fetch_jwks(client)
    assert len(jwks["keys"]) == 1
    key = jwks["keys"][0]
    assert key["kty"] == "RSA" and key["use"] == "sig" and key["alg"] == "RS256"
    assert key["kid"] == sandbox.kid
    assert key["e"] == "AQAB" and len(key["n"]) > 300
    assert sandbox.jwks_url == f"http://{SALEOR_HOST}/.well-known/jwks.json"


async def test_rotation_changes_kid_and_optionally_keeps_the_old_key(
    sandbox: SaleorSandbox, client: httpx.AsyncClient
):
    first = sandbox.kid
    sandbox.rotate_keys(keep_previous=True)
    assert sandbox.kid != first
    kids = [k["kid"] for k in (await fetch_jwks(client))["keys"]]
    assert kids == [sandbox.kid, first]

    second = sandbox.kid
    sandbox.rotate_keys()
    kids = [k["kid"] for k in (await fetch_jwks(client))["keys"]]
    assert kids == [sandbox.kid]
    assert second not in kids


async def test_signature_is_detached_unencoded_jws(
    sandbox: SaleorSandbox, client: httpx.AsyncClient
):
    body = json.dumps({"hello": "world"}).encode()
    signature = sandbox.sign(body)
    encoded_header, payload, encoded_signature = signature.split(".")
    assert payload == "" and encoded_signature
    header = jwt.get_unverified_header(signature)
    assert header == {"alg": "RS256", "kid": sandbox.kid, "b64": False, "crit": ["b64"]}
    assert encoded_header == b64url(json.dumps(header, separators=(",", ":")).encode())
    verify(signature, body, await fetch_jwks(client))


async def test_tampered_body_or_foreign_key_fails(
    sandbox: SaleorSandbox, client: httpx.AsyncClient
):
    body = b'{"amount": 10}'
    signature = sandbox.sign(body)
    jwks = await fetch_jwks(client)
    with pytest.raises(jwt.InvalidSignatureError):
        verify(signature, b'{"amount": 11}', jwks)

    sandbox.rotate_keys()  # old key no longer published
    with pytest.raises(StopIteration):
        verify(signature, body, await fetch_jwks(client))


async def test_signature_after_rotation_uses_new_kid(
    sandbox: SaleorSandbox, client: httpx.AsyncClient
):
    sandbox.rotate_keys(keep_previous=True)
    body = b"payload"
    signature = sandbox.sign(body)
    assert jwt.get_unverified_header(signature)["kid"] == sandbox.kid
    verify(signature, body, await fetch_jwks(client))
