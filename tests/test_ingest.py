"""Ingest: a webhook is verified before any write, and stored in one short write transaction;
a key set is parsed into key objects once, not for every delivery."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event, func, select

from addon.db.engine import Database
from addon.jobs.models import Job
from addon.saleor.jws import ParsedKeyCache, parsed_keys
from addon.saleor.schemas import Jwks
from addon.services import Services
from sandboxes.saleor import SaleorSandbox, SandboxApp, SigningKey
from tests.conftest import webhook_headers

PATH = "/api/webhooks/ecommerce-products"


def headers(saleor: SaleorSandbox, signature: str) -> dict[str, str]:
    return webhook_headers(saleor, signature, "product_updated")


def product_body(number: int) -> bytes:
    product = {"id": f"UHJvZHVjdDo{number}"}
    return json.dumps({"issuedAt": "2026-01-01T00:00:00+00:00", "product": product}).encode()


@contextmanager
def write_transactions(database: Database) -> Iterator[list[str]]:
    """The write transactions begun on `database` meanwhile. Reads are told apart by the
    execution option the read sessions carry (on SQLite they begin DEFERRED). The engine is
    shared by the session's tests: the listener is removed whatever happens."""
    begun: list[str] = []

    def on_begin(connection: Any) -> None:
        if connection.get_execution_options().get("sqlite_begin") != "DEFERRED":
            begun.append("write")

    event.listen(database.engine.sync_engine, "begin", on_begin)
    try:
        yield begun
    finally:
        event.remove(database.engine.sync_engine, "begin", on_begin)


async def stored_jobs(services: Services) -> int:
    async with services.db.session() as session:
        return int((await session.execute(select(func.count()).select_from(Job))).scalar_one())


async def test_a_webhook_whose_signature_fails_never_opens_a_write_transaction(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    services: Services,
    app_client: httpx.AsyncClient,
) -> None:
    body = product_body(1)
    forged = [
        saleor.sign(product_body(2)),  # Saleor's key, another body
        "not-a-signature",
        saleor.sign(body)[:-4] + "AAAA",  # the right header, a damaged signature
    ]
    before = await stored_jobs(services)
    with write_transactions(services.db) as begun:
        for signature in forged:
            response = await app_client.post(PATH, content=body, headers=headers(saleor, signature))
            assert response.status_code == 401, response.text
            assert response.json()["error"]["code"] == "INVALID_SIGNATURE"
    assert begun == []
    assert await stored_jobs(services) == before


async def test_a_verified_webhook_is_stored_once_in_one_write_transaction(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    services: Services,
    app_client: httpx.AsyncClient,
) -> None:
    body = product_body(3)
    before = await stored_jobs(services)
    with write_transactions(services.db) as begun:
        response = await app_client.post(
            PATH, content=body, headers=headers(saleor, saleor.sign(body))
        )
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True, "outcome": "queued"}
    assert begun == ["write"]
    assert await stored_jobs(services) == before + 1

    again = await app_client.post(PATH, content=body, headers=headers(saleor, saleor.sign(body)))
    assert again.json() == {"success": True, "outcome": "duplicate"}
    assert await stored_jobs(services) == before + 1


async def test_a_key_set_is_parsed_once_and_a_refreshed_set_once_more(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    app_client: httpx.AsyncClient,
    stranger_key: SigningKey,
) -> None:
    async def deliver(number: int) -> None:
        body = product_body(number)
        response = await app_client.post(
            PATH, content=body, headers=headers(saleor, saleor.sign(body))
        )
        assert response.json()["outcome"] == "queued", response.text

    parsed_keys.clear()
    start = parsed_keys.parses
    for number in range(10, 15):
        await deliver(number)
    assert parsed_keys.parses == start + 1

    saleor.rotate_keys(
        new_key=stranger_key
    )  # a new kid: the app refetches the set, then parses it once
    for number in range(20, 25):
        await deliver(number)
    assert parsed_keys.parses == start + 2


def test_the_parsed_key_cache_is_bounded_and_keyed_by_content(
    saleor_signing_key: SigningKey, stranger_key: SigningKey
) -> None:
    cache = ParsedKeyCache(max_entries=2)
    first = Jwks.model_validate({"keys": [saleor_signing_key.public_jwk()]})
    second = Jwks.model_validate({"keys": [stranger_key.public_jwk()]})
    both = Jwks.model_validate(
        {"keys": [saleor_signing_key.public_jwk(), stranger_key.public_jwk()]}
    )

    assert cache.get(first) is cache.get(Jwks.model_validate(first.as_dict()))  # same content
    assert cache.parses == 1
    cache.get(second)
    cache.get(both)
    assert (len(cache), cache.parses) == (2, 3)
    cache.get(first)  # the least recently used was dropped: parsed again
    assert (len(cache), cache.parses) == (2, 4)
