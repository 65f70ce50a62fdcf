"""Saleor's signing keys: rotation and retirement (issue 11, item 2); refetch throttling is in
tests/test_security_jwks_throttling.py, which imports the helpers here.

Saleor publishes its keys at /.well-known/jwks.json and names the signing key's `kid` in every
signature; the sandbox rotates keys the same way (`rotate_keys`, optionally keeping the old one
published). Refetches are counted on the wire, as requests for the JWKS document.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from addon.installations.models import Installation
from addon.installations.signing_keys import SigningKeys
from addon.saleor.jws import VerificationError, verify_webhook_signature
from addon.services import Services
from sandboxes.saleor import SaleorSandbox, SandboxApp, SigningKey
from sandboxes.transport import HostRoutingTransport
from tests.conftest import SALEOR_API_URL, RecordingTransport, dashboard_headers

INTERVAL = 60.0
MAX_AGE = 3600.0


def jwks_fetches(outbound: RecordingTransport) -> int:
    return sum(1 for r in outbound.requests if r.url.path == "/.well-known/jwks.json")


def throttle(services: Services, interval: float = INTERVAL, max_age: float = MAX_AGE) -> None:
    """Production-like refetch settings (the shared test settings refetch without delay)."""
    object.__setattr__(services.settings, "jwks_refresh_min_interval_seconds", interval)
    object.__setattr__(services.settings, "jwks_cache_max_age_seconds", max_age)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def status_body(app: SandboxApp, active: bool) -> bytes:
    issued = datetime.now(UTC).isoformat()
    return json.dumps(
        {"issuedAt": issued, "app": {"id": app.global_id, "isActive": active}}
    ).encode()


async def post_status(
    client: httpx.AsyncClient, saleor: SaleorSandbox, body: bytes, signature: str
) -> httpx.Response:
    return await client.post(
        "/api/webhooks/app-status-changed",
        content=body,
        headers={
            "Content-Type": "application/json",
            "Saleor-Event": "app_status_changed",
            "Saleor-Domain": saleor.domain,
            "Saleor-Api-Url": saleor.api_url,
            "Saleor-Signature": signature,
        },
    )


async def stored(services: Services) -> Installation:
    async with services.db.session() as session:
        return (await session.execute(select(Installation))).scalar_one()


async def age_cache(services: Services, seconds: float) -> None:
    """Make the cached keys `seconds` older (as if fetched that long ago)."""
    async with services.db.transaction() as session:
        installation = (await session.execute(select(Installation))).scalar_one()
        await session.execute(
            update(Installation).values(
                jwks_fetched_at=installation.jwks_fetched_at - timedelta(seconds=seconds)
            )
        )


# --- rotation ----------------------------------------------------------------------------


async def test_a_rotated_key_is_accepted_at_once_after_install(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    services: Services,
    outbound: RecordingTransport,
) -> None:
    throttle(services)  # the install fetched the keys moments ago: that must not block
    before = jwks_fetches(outbound)
    saleor.rotate_keys()
    [delivery] = await saleor.set_app_active(installed_app, False)
    assert delivery.status_code == 200, delivery.response_body
    assert not (await stored(services)).is_active
    assert jwks_fetches(outbound) == before + 1
    assert (await stored(services)).jwks["keys"][0]["kid"] == saleor.kid


async def test_a_dashboard_token_after_rotation_is_accepted_at_once(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    services: Services,
    app_client: httpx.AsyncClient,
) -> None:
    throttle(services)
    saleor.rotate_keys()  # as Saleor's own key manager: the old key is gone at once
    response = await app_client.get(
        "/api/installation", headers=dashboard_headers(saleor, installed_app)
    )
    assert response.status_code == 200, response.text
    assert response.json()["signing_key_ids"][0] == saleor.kid


async def test_a_rotation_after_a_refetch_attempt_is_accepted_once_the_interval_passed(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    services: Services,
    outbound: RecordingTransport,
    stranger_key: SigningKey,
) -> None:
    """The documented edge: within the interval after an attempt, a brand-new key waits."""
    throttle(services)
    clock = Clock()
    keys = SigningKeys(services.db, services.settings, services.saleor, clock=clock)
    body = status_body(installed_app, False)

    async def check(signature: str) -> None:
        state = await keys.load(SALEOR_API_URL)
        assert state is not None
        await keys.verify(state, lambda jwks: verify_webhook_signature(jwks, signature, body))

    with pytest.raises(VerificationError):
        await check(stranger_key.sign_detached(body))  # an attempt: fetched, still unknown
    saleor.rotate_keys()
    with pytest.raises(VerificationError, match="moments ago"):
        await check(saleor.sign(body))
    clock.advance(INTERVAL)
    await check(saleor.sign(body))
    assert jwks_fetches(outbound) == 3  # install, the forged attempt, the rotation


# --- retirement --------------------------------------------------------------------------


async def test_a_retired_key_is_refused_once_the_cache_is_older_than_its_max_age(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    services: Services,
    outbound: RecordingTransport,
) -> None:
    throttle(services)
    clock = Clock()
    keys = SigningKeys(services.db, services.settings, services.saleor, clock=clock)
    retired = saleor.keys.current
    saleor.rotate_keys()  # Saleor no longer publishes the old key
    body = status_body(installed_app, False)
    signature = retired.sign_detached(body)

    async def check() -> None:
        state = await keys.load(SALEOR_API_URL)
        assert state is not None
        await keys.verify(state, lambda jwks: verify_webhook_signature(jwks, signature, body))

    await check()  # still cached: accepted within the max age (documented)
    assert jwks_fetches(outbound) == 1  # the install's
    clock.advance(MAX_AGE - 1)
    await check()
    clock.advance(1)
    with pytest.raises(VerificationError, match="no signing key"):
        await check()
    assert jwks_fetches(outbound) == 2  # the expiry refetched once
    assert [k["kid"] for k in (await stored(services)).jwks["keys"]] == [saleor.kid]
    with pytest.raises(VerificationError):
        await check()
    assert jwks_fetches(outbound) == 2


async def test_over_http_a_retired_key_is_refused_and_the_current_one_accepted(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    services: Services,
    app_client: httpx.AsyncClient,
) -> None:
    throttle(services)
    retired = saleor.keys.current
    saleor.rotate_keys()
    await age_cache(services, MAX_AGE + 1)
    body = status_body(installed_app, False)
    response = await post_status(app_client, saleor, body, retired.sign_detached(body))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "INVALID_SIGNATURE"
    assert (await stored(services)).is_active
    response = await post_status(app_client, saleor, body, saleor.sign(body))
    assert response.status_code == 200, response.text


async def test_an_expired_cache_that_cannot_be_refetched_verifies_nothing(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    services: Services,
    app_client: httpx.AsyncClient,
    network: HostRoutingTransport,
    outbound: RecordingTransport,
) -> None:
    throttle(services)
    await age_cache(services, MAX_AGE + 1)
    network.add("saleor.test", unavailable_saleor())
    body = status_body(installed_app, False)
    for _ in range(3):
        response = await post_status(app_client, saleor, body, saleor.sign(body))
        # Expired keys are not trusted, and what cannot be checked is no forgery either: a
        # 5xx, which Saleor retries (it drops a delivery answered 4xx).
        assert response.status_code == 502
        assert response.json()["error"]["code"] == "JWKS_UNAVAILABLE"
    assert jwks_fetches(outbound) == 2  # the install's, and one failed attempt for three
    network.add("saleor.test", saleor.app)
    await forget_attempt(services)
    response = await post_status(app_client, saleor, body, saleor.sign(body))
    assert response.status_code == 200, response.text


async def test_deliveries_during_an_expiry_refetch_wait_for_it(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    services: Services,
    network: HostRoutingTransport,
    outbound: RecordingTransport,
) -> None:
    """The refetch of expired keys takes a moment: deliveries arriving meanwhile take the keys
    it stores, where they found the attempt claimed and nothing newer, and were refused."""
    throttle(services)
    clock = Clock()
    keys = SigningKeys(services.db, services.settings, services.saleor, clock=clock)
    asked, all_in, released = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def slow_saleor(scope: Any, receive: Any, send: Any) -> None:
        if scope.get("path") == "/.well-known/jwks.json":
            asked.set()
            await released.wait()
        await saleor.app(scope, receive, send)

    network.add("saleor.test", slow_saleor)
    body = status_body(installed_app, False)
    signature = saleor.sign(body)
    clock.advance(MAX_AGE)
    state = await keys.load(SALEOR_API_URL)
    assert state is not None

    async def check() -> str:
        return await keys.verify(
            state, lambda jwks: (verify_webhook_signature(jwks, signature, body), "ok")[1]
        )

    entered, claims = [], []
    refresh, claim = keys._refresh, keys._claim

    async def counted_refresh(*args: Any) -> Any:
        entered.append(1)
        if len(entered) == 3:  # all three need new keys
            all_in.set()
        return await refresh(*args)

    async def counted_claim(*args: Any) -> bool:
        claims.append(1)
        return await claim(*args)

    keys._refresh, keys._claim = counted_refresh, counted_claim  # type: ignore[method-assign]
    checks = [asyncio.create_task(check()) for _ in range(3)]
    await asked.wait()
    await all_in.wait()
    assert len(claims) == 1  # the others wait for the refetch under way
    released.set()
    assert await asyncio.gather(*checks) == ["ok", "ok", "ok"]
    assert jwks_fetches(outbound) == 2  # the install's, and one refetch for three


def unavailable_saleor() -> Starlette:
    async def down(_: object) -> PlainTextResponse:
        return PlainTextResponse("maintenance", status_code=503)

    return Starlette(routes=[Route("/{path:path}", down, methods=["GET", "POST"])])


async def forget_attempt(services: Services) -> None:
    async with services.db.transaction() as session:
        await session.execute(update(Installation).values(jwks_attempted_at=None))
