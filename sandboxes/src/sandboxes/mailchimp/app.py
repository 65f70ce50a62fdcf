"""The sandbox's ASGI app: HTTP concerns in front of the route table.

For each Marketing API request, in order: outage check (503), authentication (401), the
per-account cap of 10 simultaneous requests (429), injected latency (inside the counted window),
injected failures, then the handler. Requests are logged with their final status.
"""

from __future__ import annotations

import asyncio
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from . import json_body, oauth
from .auth import authenticate
from .errors import (
    PROBLEM_JSON,
    MailchimpError,
    internal_error,
    json_parse_error,
    service_unavailable,
    too_many_connections,
)
from .faults import FaultDecision
from .models import LoggedRequest
from .routing import ApiRequest, ApiResult

if TYPE_CHECKING:
    from .sandbox import MailchimpSandbox

MAX_CONCURRENT_REQUESTS = 10

BAD_GATEWAY_HTML = (
    "<html><head><title>502 Bad Gateway</title></head><body>"
    "<center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
)


# Marks an answer made by fault injection (a test asked for it), which may be deliberately
# off the API's contract (no body, an HTML page from a proxy), so contract checks can tell.
INJECTED_FAULT_HEADER = "X-Sandbox-Injected-Fault"


def _fault_response(decision: FaultDecision) -> Response:
    response = _injected(decision)
    response.headers[INJECTED_FAULT_HEADER] = str(response.status_code)
    return response


def _injected(decision: FaultDecision) -> Response:
    status = decision.status or 500
    if decision.bodiless:
        return Response(status_code=status)
    if status == 502:
        return HTMLResponse(BAD_GATEWAY_HTML, status_code=502)
    if status == 503:
        return service_unavailable().response()
    if status == 500:
        return internal_error().response()
    title = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    return MailchimpError(status, title, f"Injected failure ({status}).").response()


def _result_response(result: ApiResult) -> Response:
    if result.body is None:
        return Response(status_code=result.status)
    media = PROBLEM_JSON if result.problem else "application/json"
    return JSONResponse(result.body, status_code=result.status, media_type=media)


class MarketingApi:
    """The ``/{dc}/3.0/{path}`` endpoint."""

    def __init__(self, sandbox: MailchimpSandbox) -> None:
        self.sandbox = sandbox

    def _log(
        self, request: Request, path: str, body: Any, status: int, account_id: str | None
    ) -> None:
        state = self.sandbox.state
        entry = LoggedRequest(
            method=request.method,
            path=path,
            query=dict(request.query_params),
            body=body,
            status=status,
            account_id=account_id,
            at=state.clock.now(),
        )
        with state.lock:
            state.request_log.append(entry)

    async def handle(self, request: Request) -> Response:
        dc = request.path_params["dc"]
        path = "/" + request.path_params.get("path", "")
        sandbox = self.sandbox
        state = sandbox.state
        raw = await request.body()
        body: Any = None
        parse_failed = False
        if raw:
            try:
                body = json_body.loads(raw)
            except ValueError:
                parse_failed = True
        if sandbox.faults.in_outage(None):
            self._log(request, path, body, 503, None)
            return service_unavailable().response()
        try:
            data = authenticate(state, request.headers.get("authorization"), dc)
        except MailchimpError as exc:
            self._log(request, path, body, exc.status, None)
            return exc.response()
        account_id = data.account.id
        if sandbox.faults.in_outage(account_id):
            self._log(request, path, body, 503, account_id)
            return service_unavailable().response()
        with state.lock:
            if data.in_flight >= MAX_CONCURRENT_REQUESTS:
                rejected = True
            else:
                rejected = False
                data.in_flight += 1
                data.peak_concurrency = max(data.peak_concurrency, data.in_flight)
        if rejected:
            self._log(request, path, body, 429, account_id)
            return too_many_connections().response()
        try:
            with state.lock:
                decision = sandbox.faults.decide(account_id)
            if decision.latency > 0:
                await asyncio.sleep(decision.latency)
            if decision.status is not None:
                self._log(request, path, body, decision.status, account_id)
                return _fault_response(decision)
            if parse_failed:
                self._log(request, path, None, 400, account_id)
                return json_parse_error().response()
            api_request = ApiRequest(
                sandbox=sandbox,
                account=data,
                method=request.method,
                path=path,
                query=dict(request.query_params),
                body=body,
            )
            result = await sandbox.router.call(api_request)
            self._log(request, path, body, result.status, account_id)
            return _result_response(result)
        finally:
            with state.lock:
                data.in_flight -= 1


def build_app(sandbox: MailchimpSandbox) -> Starlette:
    api = MarketingApi(sandbox)
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]

    async def batch_archive(request: Request) -> Response:
        return sandbox.serve_batch_archive(
            request.path_params["name"], request.query_params.get("Expires")
        )

    routes = [
        *oauth.routes(sandbox),
        Route("/_batch-results/{name}", batch_archive, methods=["GET"]),
        Route("/{dc}/3.0", api.handle, methods=methods),
        Route("/{dc}/3.0/{path:path}", api.handle, methods=methods),
    ]
    return Starlette(routes=routes)
