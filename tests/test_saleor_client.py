"""The Saleor client's time limits: a request waits for Saleor as long as the client's read
timeout allows (gql adds no deadline of its own), and a request Saleor does not answer in time
is `SaleorUnavailable` (retried), not a bare TimeoutError."""

from __future__ import annotations

import math

import anyio
import httpx
import pytest
from pydantic import SecretStr

from addon.jobs.retry import in_outage
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


@pytest.mark.parametrize(
    ("status", "outage"), [(502, True), (503, True), (429, True), (403, False), (404, False)]
)
async def test_only_an_outage_status_is_retried_as_one(status: int, outage: bool) -> None:
    """A 5xx or a 429 is Saleor down or throttling, which the worker retries for hours
    (`jobs.retry.in_outage`); a proxy's 403 or a wrong URL's 404 answers the same each time,
    and is retried as any failure (before, every status but 401 counted as an outage)."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, text="no")

    client = SaleorClient(transport=httpx.MockTransport(answer))
    try:
        with pytest.raises(SaleorUnavailable) as raised:
            await client.execute(API, TOKEN, "app_status", {"id": "QXBwOjE="})
    finally:
        await client.aclose()
    assert in_outage(raised.value) is outage


async def test_no_answer_at_all_is_an_outage() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = SaleorClient(transport=httpx.MockTransport(answer))
    try:
        with pytest.raises(SaleorUnavailable) as raised:
            await client.execute(API, TOKEN, "app_status", {"id": "QXBwOjE="})
    finally:
        await client.aclose()
    assert in_outage(raised.value)
