"""CORS for the public storefront API, limited to each installation's allowed origins.

The origins are per installation, so the check runs per request: the installation is named
by the `saleor_api_url` query parameter, which (unlike a header) preflight requests carry too.
Errors are answered here, so browsers can read them (they get the CORS headers as well), an
unexpected exception's 500 too.

Every answer says `Vary: Origin`, with or without an `Origin` header: a shared cache (a CDN, a
storefront's server-side fetch cache) must not hand the copy made for a server (no
`Access-Control-Allow-Origin`) to a browser, which would then refuse it, nor one browser
origin's copy to another.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from addon.audiences.repository import AudienceRepository
from addon.errors import AppError, ErrorCode, error_body, unexpected_problem
from addon.installations.repository import InstallationRepository
from addon.logs import new_request_id, request_id_of
from addon.services import Services

logger = logging.getLogger(__name__)

ALLOW_HEADERS = "authorization, content-type"
ALLOW_METHODS = "GET, POST, PUT, OPTIONS"


def _error(code: ErrorCode, message: str, status: int) -> JSONResponse:
    return JSONResponse(error_body(code, message), status_code=status)


def _vary_on_origin(response: Response) -> None:
    """Add `Origin` to the answer's `Vary` (keeping what the route put there)."""
    vary = [v.strip() for v in response.headers.get("vary", "").split(",") if v.strip()]
    if not any(v == "*" or v.lower() == "origin" for v in vary):
        response.headers["Vary"] = ", ".join([*vary, "Origin"])


async def allowed_origins(request: Request) -> list[str]:
    services: Services = request.app.state.services
    api_url = request.query_params.get("saleor_api_url")
    if not api_url:
        return []
    async with services.db.session() as session:
        installation = await InstallationRepository(session).get_by_api_url(api_url)
        if installation is None:
            return []
        settings = await AudienceRepository(session).find_settings(installation.id)
        return list(settings.allowed_origins) if settings else []


class StorefrontRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_cors(request: Request) -> Response:
            origin = request.headers.get("origin")
            try:
                if origin is not None and origin.rstrip("/") not in await allowed_origins(request):
                    refused = _error(
                        ErrorCode.ORIGIN_NOT_ALLOWED,
                        f"The store does not allow calls from {origin}; add it to the allowed "
                        "storefront origins in the app's settings.",
                        403,
                    )
                    _vary_on_origin(refused)
                    return refused
                response = await handler(request)
            except AppError as exc:
                response = _error(exc.code, exc.message, exc.status_code)
            except RequestValidationError as exc:
                problems = [
                    ".".join(str(p) for p in e["loc"] if p not in ("body", "query"))
                    + f": {e['msg']}"
                    for e in exc.errors()
                ]
                response = _error(ErrorCode.INVALID_INPUT, "; ".join(problems), 422)
            except HTTPException:
                raise  # the app's handler answers it (a body that cannot be parsed, say)
            except Exception:
                # The app's 500 answer, but here, with the CORS headers: the storefront's script
                # can read it (the origin may be unchecked: the answer tells nothing).
                request_id = request_id_of(request.scope) or new_request_id()
                logger.exception("A storefront request failed (request_id: %s)", request_id)
                response = _error(ErrorCode.INTERNAL_ERROR, unexpected_problem(request_id), 500)
            _vary_on_origin(response)
            if origin is not None:
                response.headers["Access-Control-Allow-Origin"] = origin
                if request.method == "OPTIONS":
                    response.headers["Access-Control-Allow-Methods"] = ALLOW_METHODS
                    response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
                    response.headers["Access-Control-Max-Age"] = "600"
            return response

        return with_cors
