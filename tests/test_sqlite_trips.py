"""SQLite through aiosqlite: every call into the driver is a trip to its thread (a queue put,
a thread switch, a wake-up of the event loop: 150 us of CPU each on the machine this was
measured on), so a transaction makes as few as SQLAlchemy lets it: BEGIN goes straight to the
driver (through SQLAlchemy a cursor opened, run and closed, three trips), and the pool rolls
back a returned connection only when a transaction is still open on it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import aiosqlite
import httpx
import pytest
from sqlalchemy.util import greenlet_spawn

from addon.db.engine import Database
from addon.services import Services
from sandboxes.saleor import SaleorSandbox, SandboxApp
from tests.test_ingest import PATH, headers, product_body


@pytest.fixture(autouse=True)
def _sqlite_only(services: Services) -> None:
    if not services.db.is_sqlite:
        pytest.skip("aiosqlite's thread: SQLite only")


@contextmanager
def trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The calls run on aiosqlite's thread meanwhile, by name."""
    made: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        made.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(aiosqlite.Connection, "_execute", counted)
        yield made


async def test_a_stored_delivery_makes_six_trips_to_the_driver(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    services: Services,
    app_client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """BEGIN, the INSERT (cursor, execute, fetch, close: SQLAlchemy's own), COMMIT; no ROLLBACK
    on return. It made nine before (BEGIN three, a ROLLBACK after the COMMIT)."""
    first = product_body(1)
    await app_client.post(PATH, content=first, headers=headers(saleor, saleor.sign(first)))
    body = product_body(2)
    with trips(monkeypatch) as made:
        response = await app_client.post(
            PATH, content=body, headers=headers(saleor, saleor.sign(body))
        )
    assert response.json()["outcome"] == "queued"
    assert made == ["execute", "cursor", "execute", "fetchall", "close", "commit"]


async def test_a_connection_returned_inside_a_transaction_is_rolled_back(
    services: Services,
) -> None:
    """The pool's ROLLBACK is skipped only where no transaction is open: a connection given
    back inside one (no COMMIT, no ROLLBACK of its own) is rolled back, or it would keep a
    snapshot (and on a write, the lock) for its next user."""
    database: Database = services.db
    raw = await database.engine.raw_connection()
    driver = raw.driver_connection
    assert isinstance(driver, aiosqlite.Connection)
    await driver.execute("BEGIN IMMEDIATE")
    await driver.execute("SELECT count(*) FROM installations")
    assert driver.in_transaction
    await greenlet_spawn(raw.close)  # SQLAlchemy's sync pool code, as it runs it
    assert not driver.in_transaction
