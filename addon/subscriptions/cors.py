"""CORS for the public storefront API, limited to each installation's allowed origins.

The origins are per installation, so the check runs per request: the installation is named
by the `saleor_api_url` query parameter, which (unlike a header) preflight requests carry too.
Errors are answered by the app's handlers, as on every route (the request's session rolled back
first), with the CORS headers too (`storefront_cors`), so browsers can read them: an unexpected
exception's 500 as well.

A request naming no store the app knows (no `saleor_api_url`, or one no installation has: a
typo, the host in capitals, no trailing slash) has no allowed origins to check: it can only
fail (`404 UNKNOWN_STORE`, `422`), so its error is answered to any origin, readable by the
script that made the mistake, rather than as a disallowed origin (which a browser shows as a
CORS failure, pointing at the wrong setting). A known store's answers stay its origins' only.

Every answer says `Vary: Origin`, with or without an `Origin` header: a shared cache (a CDN, a
storefront's server-side fetch cache) must not hand the copy made for a server (no
`Access-Control-Allow-Origin`) to a browser, which would then refuse it, nor one browser
origin's copy to another.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.types import Scope

from addon.audiences.repository import AudienceRepository
from addon.audiences.schemas import normal_origin
from addon.errors import ErrorCode, error_body
from addon.installations.repository import InstallationRepository
from addon.services import Services

# Where the storefront API's routers live (`StorefrontRoute` on each).
STOREFRONT_PREFIX = "/api/storefront"
ALLOW_HEADERS = "authorization, content-type"
# Where `StorefrontRoute` leaves a checked origin (None: no Origin header) in the ASGI scope, for
# the error handlers.
_ORIGIN_KEY = "addon.storefront_origin"
ALLOW_METHODS = "GET, POST, PUT, OPTIONS"


def _error(code: ErrorCode, message: str, status: int) -> JSONResponse:
    return JSONResponse(error_body(code, message), status_code=status)


def storefront_cors(scope: Scope, response: Response) -> Response:
    """An error answer to a storefront request with `Vary: Origin`, and from an allowed origin
    the CORS header its script needs to read it (the app's error handlers call this for every
    answer; other routes' go out as they are)."""
    if _ORIGIN_KEY in scope:  # a storefront request: its answers vary on Origin, errors too
        _vary_on_origin(response)
        if (origin := scope[_ORIGIN_KEY]) is not None:
            response.headers["Access-Control-Allow-Origin"] = origin
    return response


def _vary_on_origin(response: Response) -> None:
    """Add `Origin` to the answer's `Vary` (keeping what the route put there)."""
    vary = [v.strip() for v in response.headers.get("vary", "").split(",") if v.strip()]
    if not any(v == "*" or v.lower() == "origin" for v in vary):
        response.headers["Vary"] = ", ".join([*vary, "Origin"])


async def allowed_origins(request: Request) -> list[str] | None:
    """The origins the named store allows; None when the request names no store the app
    knows (see the module). The route reads the same parameter (the last one given)."""
    services: Services = request.app.state.services
    api_url = request.query_params.get("saleor_api_url")
    if not api_url:
        return None
    async with services.db.session() as session:
        installation = await InstallationRepository(session).get_by_api_url(api_url)
        if installation is None:
            return None
        settings = await AudienceRepository(session).find_settings(installation.id)
        # Normalised again: origins saved before they were normalised on saving.
        return [normal_origin(o) for o in settings.allowed_origins] if settings else []


class StorefrontRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_cors(request: Request) -> Response:
            origin = request.headers.get("origin")
            # An error goes on to the app's handlers (through the request's session, which it
            # rolls back); they answer it with `Vary` (`storefront_cors`), and with the CORS
            # header once the origin is known to be allowed (or no store is named: any).
            request.scope[_ORIGIN_KEY] = None
            allowed = await allowed_origins(request)
            if origin is not None and allowed is not None and normal_origin(origin) not in allowed:
                refused = _error(
                    ErrorCode.ORIGIN_NOT_ALLOWED,
                    f"The store does not allow calls from {origin}; add it to the allowed "
                    "storefront origins in the app's settings.",
                    403,
                )
                _vary_on_origin(refused)
                return refused
            request.scope[_ORIGIN_KEY] = origin
            response = await handler(request)
            _vary_on_origin(response)
            # No store: only a preflight or an error goes out to any origin (the route answers
            # nothing else without a store; this keeps it so should one ever).
            readable = allowed is not None or request.method == "OPTIONS"
            if origin is not None and (readable or response.status_code >= 400):
                response.headers["Access-Control-Allow-Origin"] = origin
                if request.method == "OPTIONS":
                    response.headers["Access-Control-Allow-Methods"] = ALLOW_METHODS
                    response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
                    response.headers["Access-Control-Max-Age"] = "600"
            return response

        return with_cors
