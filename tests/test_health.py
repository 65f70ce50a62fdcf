import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from addon.app import create_app
from addon.db.engine import Database
from addon.services import Services
from tests.conftest import APP_URL
from tests.livesite import free_port


async def test_health_and_readiness(app_client: httpx.AsyncClient) -> None:
    assert (await app_client.get("/healthz")).json() == {"status": "ok"}
    ready = await app_client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ok"}


async def test_not_ready_when_migrations_are_behind(
    app_client: httpx.AsyncClient, services: Services
) -> None:
    async with services.db.transaction() as session:
        current = (
            (await session.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
        )
        await session.execute(text("DELETE FROM alembic_version"))
    try:
        ready = await app_client.get("/readyz")
        assert ready.status_code == 503 and "addon migrate" in ready.json()["database"]
    finally:
        async with services.db.transaction() as session:
            for version in current:
                await session.execute(
                    text("INSERT INTO alembic_version VALUES (:v)"), {"v": version}
                )


async def _readyz(services: Services) -> httpx.Response:
    """`/readyz` of an app around `services`, without its lifespan (which would migrate)."""
    transport = httpx.ASGITransport(app=create_app(services, run_worker=False))
    async with httpx.AsyncClient(transport=transport, base_url=APP_URL) as client:
        return await client.get("/readyz")


def _readiness_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "addon.health.endpoints"]


async def test_readyz_answers_no_detail_of_a_database_failure(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    """The probe is public: the driver's error (host, port, role, database) goes to the log,
    for the operator, and the answer says only that the database is unreachable."""
    port = free_port()  # nothing listens there: connection refused
    services.db = Database(f"postgresql+asyncpg://addon_user:s3cret@127.0.0.1:{port}/addon_db")
    try:
        ready = await _readyz(services)
    finally:
        await services.db.dispose()
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "database": "unreachable"}
    (logged,) = _readiness_lines(caplog)
    assert "ConnectionRefusedError" in logged and str(port) in logged and "s3cret" not in logged


@pytest.mark.parametrize(
    ("url", "error", "password_parts"),
    [
        # As the driver was given it, and as written in the URL.
        (
            "addon:hunter%2F2@db.internal",
            "addon at db.internal: hunter/2 (hunter%2F2) refused",
            ["hunter"],
        ),
        # An unescaped `@` cuts the password: its tail becomes part of the host, which this
        # error of asyncpg's quotes (asyncpg/connect_utils.py, TLSUpgradeProto).
        (
            "addon:hun@ter2@db.internal:5432",
            'PostgreSQL server at "ter2@db.internal:5432" rejected SSL upgrade',
            ["hun", "ter2"],
        ),
    ],
)
async def test_readyz_logs_the_failure_without_the_password(
    services: Services,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    error: str,
    password_parts: list[str],
) -> None:
    services.db = Database(f"postgresql+asyncpg://{url}/addon")  # never connects: see below

    @asynccontextmanager
    async def failing_session() -> AsyncIterator[AsyncSession]:
        raise ConnectionError(error)
        yield  # pragma: no cover

    monkeypatch.setattr(services.db, "session", failing_session)
    caplog.set_level(logging.WARNING)
    try:
        ready = await _readyz(services)
    finally:
        await services.db.dispose()
    assert ready.json() == {"status": "unavailable", "database": "unreachable"}
    (logged,) = _readiness_lines(caplog)
    assert "ConnectionError" in logged and "db.internal" in logged and "***" in logged
    assert not [part for part in password_parts if part in logged]


async def test_a_secret_key_that_reads_no_stored_secret_is_no_start(
    app_client: httpx.AsyncClient, installed_app: object, services: Services
) -> None:
    """The tokens stored under another SECRET_KEY (changed, lost): not ready, and a process
    refuses to start, rather than every webhook failing and every job going to quarantine."""
    from pydantic import SecretStr

    from addon.capabilities import start_up
    from addon.crypto import SecretBox
    from addon.installations.key_check import WRONG_KEY, WrongSecretKey

    other = SecretBox("another deployment's key").encrypt(SecretStr("token"))
    async with services.db.transaction() as session:
        [kept] = (await session.execute(text("SELECT app_token FROM installations"))).scalars()
        await session.execute(text("UPDATE installations SET app_token = :t"), {"t": other})
    try:
        ready = await app_client.get("/readyz")
        assert ready.status_code == 503, ready.text
        assert ready.json()["secrets"] == "SECRET_KEY cannot decrypt the stored secrets"
        with pytest.raises(WrongSecretKey, match="start again with the SECRET_KEY"):
            await start_up(services)
        assert "SECRET_KEY" in WRONG_KEY
    finally:
        async with services.db.transaction() as session:
            await session.execute(text("UPDATE installations SET app_token = :t"), {"t": kept})
    assert (await app_client.get("/readyz")).status_code == 200
