"""`/healthz`: the process is up. `/readyz`: the database answers and its schema is current."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from addon.db.migrations import is_current
from addon.dependencies import ServicesDep

router = APIRouter()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(services: ServicesDep) -> JSONResponse:
    try:
        async with services.db.session() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:
        return JSONResponse({"status": "unavailable", "database": str(exc)}, status_code=503)
    if not await is_current(services.db.engine):
        return JSONResponse(
            {"status": "unavailable", "database": "migrations are not current; run addon migrate"},
            status_code=503,
        )
    return JSONResponse({"status": "ok"})
