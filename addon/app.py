"""The FastAPI application: routers, error handlers, and the in-process worker."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from addon.capabilities import routers
from addon.db.migrations import upgrade
from addon.errors import AppError
from addon.http_limits import BodySizeLimit
from addon.jobs.worker import Worker
from addon.services import Services

logger = logging.getLogger(__name__)


def error_body(code: str, message: str) -> dict[str, object]:
    return {"success": False, "error": {"code": code, "message": message}}


async def _app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status_code)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"] if part not in ("body", "query"))
        problems.append(f"{where}: {error['msg']}" if where else str(error["msg"]))
    return JSONResponse(error_body("INVALID_INPUT", "; ".join(problems)), status_code=422)


def create_app(services: Services, *, run_worker: bool = True) -> FastAPI:
    """Build the app around `services`; the lifespan migrates and runs a worker."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await upgrade(services.db.engine)
        stop = asyncio.Event()
        worker_task = None
        if run_worker:
            worker_task = asyncio.create_task(Worker(services).run(stop))
        try:
            yield
        finally:
            stop.set()
            if worker_task is not None:
                await worker_task
            await services.aclose()

    app = FastAPI(
        title="Saleor ↔ Mailchimp",
        lifespan=lifespan,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.state.services = services
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_middleware(BodySizeLimit, max_bytes=services.settings.max_request_body_bytes)
    for router in routers():
        app.include_router(router)
    return app
