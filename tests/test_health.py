import httpx
from sqlalchemy import text

from addon.services import Services


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
