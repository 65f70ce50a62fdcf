"""The FastAPI application: routers, error handlers, and the in-process worker."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from addon.capabilities import routers, start_up
from addon.db.migrations import upgrade
from addon.errors import AppError, ErrorCode, error_body, unexpected_problem
from addon.heap import freeze_start_up
from addon.http_limits import BodySizeLimit, NoNulCharacters
from addon.installations.outage import watch as watch_receiver
from addon.jobs.worker import Worker
from addon.logs import RequestId, new_request_id, note_request_id, request_id_of
from addon.openapi import install as install_openapi
from addon.services import Services
from addon.subscriptions.cors import STOREFRONT_PREFIX, storefront_cors
from addon.validation_messages import plain_message

logger = logging.getLogger(__name__)


# Each handler's answer gets the CORS headers of a storefront request from an allowed origin
# (`storefront_cors`): its script can read why it failed.


async def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    answer = JSONResponse(
        error_body(exc.code, exc.message), status_code=exc.status_code, headers=exc.headers
    )
    return storefront_cors(request.scope, answer)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    message = plain_message(exc.errors())
    answer = JSONResponse(error_body(ErrorCode.INVALID_INPUT, message), status_code=422)
    return storefront_cors(request.scope, answer)


# Starlette's own answers (no such route, method not allowed) in the app's error shape.
_HTTP_CODES = {
    400: ErrorCode.INVALID_BODY,  # FastAPI: "There was an error parsing the body"
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
}


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, ErrorCode.BAD_REQUEST)
    answer = JSONResponse(
        error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
    )
    return storefront_cors(request.scope, answer)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    """Any other exception: Starlette's ServerErrorMiddleware (outside every middleware, so
    after `RequestId` has finished) sends this answer, then re-raises the exception for the
    server to log its traceback, once, with the request id noted by `RequestId`. Nothing of the
    exception is answered (`unexpected_problem`)."""
    request_id = request_id_of(request.scope)
    if request_id is None:  # failed before `RequestId` ran: the note is this handler's to add
        request_id = new_request_id()
        note_request_id(exc, request_id)
    answer = JSONResponse(
        error_body(ErrorCode.INTERNAL_ERROR, unexpected_problem(request_id)),
        status_code=500,
        # `RequestId` adds the header to answers it sends; this one is sent outside it.
        headers={"X-Request-ID": request_id},
    )
    return storefront_cors(request.scope, answer)


def create_app(services: Services, *, run_worker: bool = True) -> FastAPI:
    """Build the app around `services`; the lifespan migrates and runs a worker."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await upgrade(services.db.engine)
        await start_up(services)
        stop = asyncio.Event()
        worker: asyncio.Task[None] | None = None
        watch: asyncio.Task[None] | None = None
        if run_worker:
            worker = asyncio.create_task(Worker(services).run(stop))
        if services.settings.webhook_outage_seconds > 0:
            watch = asyncio.create_task(watch_receiver(services, stop))
        freeze_start_up()
        try:
            yield
        finally:
            stop.set()
            try:
                if watch is not None:  # a heartbeat waiting on a database that is down
                    watch.cancel()
                    await asyncio.gather(watch, return_exceptions=True)
                if worker is not None:
                    await worker
            finally:
                await services.aclose()

    app = FastAPI(
        title="Saleor ↔ Mailchimp",
        lifespan=lifespan,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
        # FastAPI's own OpenTelemetry: the app configures no provider, and asking whether one
        # is configured (environment lookups) cost a twelfth of a webhook's time.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.services = services
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)  # ServerErrorMiddleware's handler
    app.add_middleware(NoNulCharacters, public_prefix=STOREFRONT_PREFIX)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=services.settings.max_request_body_bytes,
        public_prefix=STOREFRONT_PREFIX,
        public_max_bytes=services.settings.max_storefront_body_bytes,
    )
    app.add_middleware(RequestId)  # outermost: every line of the request carries its id
    # The routers' own routes, built once per process, serve every app: `include_router` gives
    # an app its own copies, which recent FastAPI builds on the app's first request (about a
    # tenth of the test suite's time, where each test makes an app).
    for router in routers():
        app.router.routes.extend(router.routes)
    install_openapi(app)
    return app
