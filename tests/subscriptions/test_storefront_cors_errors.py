"""A storefront calling with a wrong store URL reads the real error (404, 422), not a refused
origin its browser would show as a CORS failure; a known store's answers stay its allowed
origins' only."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import SALEOR_API_URL
from tests.subscriptions.conftest import Shop

ORIGIN = "https://shop.example.com"
EVIL = "https://evil.example.net"


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({}, 422, "INVALID_INPUT"),
        ({"saleor_api_url": SALEOR_API_URL.rstrip("/")}, 404, "UNKNOWN_STORE"),
        (
            {"saleor_api_url": SALEOR_API_URL.replace("saleor.test", "Saleor.TEST")},
            404,
            "UNKNOWN_STORE",
        ),
        ({"saleor_api_url": SALEOR_API_URL + "x" * 600}, 422, "INVALID_INPUT"),
    ],
    ids=["missing", "no_slash", "capitals", "too_long"],
)
async def test_a_wrong_store_url_is_answered_readably(
    newsletter: Shop, params: dict[str, str], status: int, code: str
) -> None:
    client = newsletter.client
    preflight = await client.options(
        "/api/storefront/subscribe",
        params=params,
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    for answer in (
        await client.get("/api/storefront/newsletter", params=params, headers={"Origin": ORIGIN}),
        await client.post(
            "/api/storefront/subscribe",
            params=params,
            json={"email": "ida@example.com"},
            headers={"Origin": ORIGIN},
        ),
    ):
        assert answer.status_code == status, answer.text
        assert answer.json()["error"]["code"] == code
        assert answer.headers["access-control-allow-origin"] == ORIGIN
        assert answer.headers["vary"] == "Origin"


async def test_a_known_store_still_refuses_other_origins(newsletter: Shop) -> None:
    params = {"saleor_api_url": SALEOR_API_URL}
    for method in ("OPTIONS", "GET"):
        answer: httpx.Response = await newsletter.client.request(
            method,
            "/api/storefront/newsletter",
            params=params,
            headers={"Origin": EVIL, "Access-Control-Request-Method": "GET"},
        )
        assert answer.status_code == 403
        assert answer.json()["error"]["code"] == "ORIGIN_NOT_ALLOWED"
        assert "access-control-allow-origin" not in answer.headers


async def test_a_path_the_storefront_api_lacks_is_not_found(newsletter: Shop) -> None:
    """Not "method not allowed": the preflight's catch-all answers OPTIONS alone."""
    client, store = newsletter.client, {"saleor_api_url": SALEOR_API_URL}
    missing = await client.get("/api/storefront/no-such-thing", params=store)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"
    wrong_method = await client.delete("/api/storefront/subscribe", params=store)
    assert wrong_method.status_code == 405
    preflight = await client.options(
        "/api/storefront/no-such-thing",
        params=store,
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 204


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"email": "ida@example.com", "first_name": "I\x00da"}, 422, "INVALID_INPUT"),
        ({"email": "ida@example.com", "first_name": "I" * 5_000_000}, 413, "PAYLOAD_TOO_LARGE"),
    ],
    ids=["nul", "too_large"],
)
async def test_a_body_refused_before_routing_is_readable_by_the_storefront(
    newsletter: Shop, body: dict[str, str], status: int, code: str
) -> None:
    """The body cap and the NUL check answer before any route (`http_limits`): their refusal
    carries the CORS headers too, or a shopper's browser shows it as a CORS failure."""
    answer = await newsletter.client.post(
        "/api/storefront/subscribe",
        params={"saleor_api_url": SALEOR_API_URL},
        json=body,
        headers={"Origin": ORIGIN},
    )
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code
    assert answer.headers["access-control-allow-origin"] == ORIGIN
    assert answer.headers["vary"] == "Origin"
    # Any other route's refusal goes out as it was, with no CORS header.
    other = await newsletter.client.post(
        "/api/settings", json=body, headers={"Origin": ORIGIN, **newsletter.headers}
    )
    assert other.status_code == status
    assert "access-control-allow-origin" not in other.headers


async def test_the_storefront_caps_bodies_lower_than_the_webhooks(newsletter: Shop) -> None:
    """Shoppers' browsers send a few kB, unauthenticated: the storefront API took bodies up to
    the webhooks' 4 MiB, each read whole and parsed. Now its own cap answers 413 above it."""
    settings = newsletter.services.settings
    cap = settings.max_storefront_body_bytes
    assert cap < settings.max_request_body_bytes

    def body(size: int) -> bytes:
        opening = b'{"email": "ida@example.com", "first_name": "Ida"'
        return opening + b" " * (size - len(opening) - 1) + b"}"

    async def post(content: bytes) -> httpx.Response:
        return await newsletter.client.post(
            "/api/storefront/subscribe",
            params={"saleor_api_url": SALEOR_API_URL},
            content=content,
            headers={"Origin": ORIGIN, "Content-Type": "application/json"},
        )

    over = await post(body(cap + 1))
    assert over.status_code == 413, over.text
    assert over.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert f"({cap} bytes)" in over.json()["error"]["message"]
    assert over.headers["access-control-allow-origin"] == ORIGIN
    at_cap = await post(body(cap))
    assert at_cap.status_code != 413, at_cap.text  # read and judged by the route
    # Other routes keep the larger cap.
    other = await newsletter.client.post(
        "/api/settings", content=body(cap + 1), headers=newsletter.headers
    )
    assert other.status_code != 413, other.text
