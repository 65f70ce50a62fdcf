"""`/healthz`: the process is up. `/readyz`: the database answers and its schema is current.

Both are public (a load balancer calls them), so `/readyz` answers no detail of a database
failure: the driver's error names the server's host, port, role and database. The error goes to
the log instead, without the password of `DATABASE_URL`.
"""

from __future__ import annotations

import logging
from urllib.parse import quote, quote_plus

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.engine import make_url

from addon.db.migrations import is_current
from addon.dependencies import ServicesDep
from addon.installations.key_check import WRONG_KEY, secret_key_fits

logger = logging.getLogger(__name__)

router = APIRouter()

UNREACHABLE = "unreachable"


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(services: ServicesDep) -> JSONResponse:
    try:
        async with services.db.session() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:
        logger.warning(
            "Not ready: the database did not answer: %s",
            without_password(f"{type(exc).__name__}: {exc}", services.db.url),
        )
        return JSONResponse({"status": "unavailable", "database": UNREACHABLE}, status_code=503)
    if not await is_current(services.db.engine):
        return JSONResponse(
            {"status": "unavailable", "database": "migrations are not current; run addon migrate"},
            status_code=503,
        )
    if not await secret_key_fits(services.db):
        logger.error(WRONG_KEY)
        return JSONResponse(
            {"status": "unavailable", "secrets": "SECRET_KEY cannot decrypt the stored secrets"},
            status_code=503,
        )
    return JSONResponse({"status": "ok"})


def without_password(message: str, database_url: str) -> str:
    """`message` with the password of `database_url` masked, as the driver was given it and as
    written in the URL (percent-encoded). asyncpg's errors name the user, host and port, not the
    password; but a password with an unescaped `@` is cut there by the URL's parser, and its tail
    becomes part of the host (`u:p@ss@db` is password `p`, host `ss@db`), which some errors
    quote (asyncpg's `PostgreSQL server at "ss@db:5432" rejected SSL upgrade`)."""
    url = make_url(database_url)
    secrets: set[str] = set()
    if url.password:
        secrets.add(url.password)
    tail, at, _ = (url.host or "").rpartition("@")
    if at:
        secrets.add(tail)
        secrets.add(f"{url.password or ''}@{tail}")
    forms = {
        form for secret in secrets for form in (secret, quote(secret, safe=""), quote_plus(secret))
    }
    for form in sorted(forms, key=len, reverse=True):
        if form:
            message = message.replace(form, "***")
    return message
