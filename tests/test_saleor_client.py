"""The Saleor client's time limits: a request waits for Saleor as long as the client's read
timeout allows (gql adds no deadline of its own), and a request Saleor does not answer in time
is `SaleorUnavailable` (retried), not a bare TimeoutError."""

from __future__ import annotations

import math

import anyio
import httpx
import pytest
from pydantic import SecretStr

from addon.saleor.client import TIMEOUT, SaleorClient, SaleorUnavailable

API = "https://shop.example/graphql/"
TOKEN = SecretStr("app-token")


async def test_a_request_has_no_deadline_but_the_http_timeout() -> None:
    deadlines: list[float] = []
    timeouts: list[dict[str, float | None]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        deadlines.append(anyio.current_effective_deadline())
        timeouts.append(request.extensions["timeout"])
        return httpx.Response(200, json={"data": {"app": {"id": "QXBwOjE=", "isActive": True}}})

    client = SaleorClient(transport=httpx.MockTransport(answer))
    try:
        data = await client.execute(API, TOKEN, "app_status", {"id": "QXBwOjE="})
    finally:
        await client.aclose()
    assert data == {"app": {"id": "QXBwOjE=", "isActive": True}}
    # gql's default cancelled every request after 10 s, whatever the client's timeout said.
    assert deadlines == [math.inf]
    assert timeouts[0]["read"] == TIMEOUT.read == 30.0
    assert timeouts[0]["connect"] == TIMEOUT.connect


async def test_a_request_saleor_does_not_answer_in_time_is_saleor_unavailable() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    client = SaleorClient(transport=httpx.MockTransport(answer))
    try:
        with pytest.raises(SaleorUnavailable, match=r"shop\.example"):
            await client.execute(API, TOKEN, "app_status", {"id": "QXBwOjE="})
    finally:
        await client.aclose()
