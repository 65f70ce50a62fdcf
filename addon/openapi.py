"""The app's OpenAPI document: FastAPI's, completed so that it says what the code enforces.

* Every error answer is an `ErrorBody` (its `code` an enum). A route lists the statuses its
  handler raises with `responses=error_responses(...)`; a dependency that raises (authentication,
  the storefront's store lookup and rate limit) is marked with `raises(...)`, and every route
  using it inherits its statuses here. Every route may answer 413 (the body size limit applies
  to all) and 500 (an unexpected exception, see `addon.app`), and every route with parameters
  or a body 422, in the same `ErrorBody` shape (FastAPI's own 422 schema is replaced: the app
  never answers it).
* Headers a handler checks itself, to answer with a code of its own rather than a generic 422,
  are declared required with `required_headers(...)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from addon.errors import ERROR_STATUSES, ErrorBody

F = TypeVar("F", bound=Callable[..., Any])

_RAISES = "__error_statuses__"
_REQUIRED_HEADERS = "x-required-headers"
_ERROR_REF = "#/components/schemas/ErrorBody"


def raises(*statuses: int, required_headers: tuple[str, ...] = ()) -> Callable[[F], F]:
    """Mark a dependency with the error statuses it answers and the headers it refuses to do
    without (see the module docstring)."""

    def mark(func: F) -> F:
        setattr(func, _RAISES, (statuses, tuple(name.lower() for name in required_headers)))
        return func

    return mark


def required_headers(*names: str) -> dict[str, Any]:
    """`openapi_extra=` for a route that reads these headers itself and refuses their absence."""
    return {_REQUIRED_HEADERS: [name.lower() for name in names]}


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for dependency in dependant.dependencies:
        yield dependency
        yield from _dependencies(dependency)


def _inherited(route: Any) -> tuple[set[int], set[str]]:
    statuses: set[int] = set()
    headers: set[str] = set()
    for dependency in _dependencies(route.dependant):
        marked, required = getattr(dependency.call, _RAISES, ((), ()))
        statuses.update(marked)
        headers.update(required)
    return statuses, headers


def _error_response(status: int) -> dict[str, Any]:
    return {
        "description": ERROR_STATUSES[status],
        "content": {"application/json": {"schema": {"$ref": _ERROR_REF}}},
    }


def _complete(operation: dict[str, Any], route: Any) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    statuses, required = _inherited(route)
    statuses.update((413, 500))
    if operation.get("requestBody"):
        statuses.add(400)  # a body that is not UTF-8 cannot even be parsed
    if operation.get("parameters") or operation.get("requestBody") or "422" in responses:
        statuses.add(422)
    for status in sorted(statuses):
        if status == 422 or str(status) not in responses:
            responses[str(status)] = _error_response(status)
    for response in responses.values():
        # FastAPI files a declared model under the route's media type (text/plain, HTML): an
        # ErrorBody is always JSON.
        content = response.get("content", {})
        if any(c.get("schema", {}).get("$ref") == _ERROR_REF for c in content.values()):
            response["content"] = {"application/json": {"schema": {"$ref": _ERROR_REF}}}
    required.update(operation.pop(_REQUIRED_HEADERS, []))
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "header" and parameter["name"].lower() in required:
            parameter["required"] = True


def _api_routes(app: FastAPI) -> Iterator[Any]:
    """The app's API routes with their full paths (FastAPI ≥ 0.13x nests included routers)."""
    iterate = getattr(routing, "iter_route_contexts", None)
    if iterate is None:  # older FastAPI: included routes are flattened into app.routes
        yield from (route for route in app.routes if isinstance(route, APIRoute))
        return
    for context in iterate(app.routes):
        if isinstance(context.original_route, APIRoute):
            yield context


def build_openapi(app: FastAPI) -> dict[str, Any]:
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    # The models ErrorBody refers to, with refs into components (as FastAPI writes them).
    error_schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(error_schema.pop("$defs", {}))
    schemas["ErrorBody"] = error_schema
    for route in _api_routes(app):
        if not route.include_in_schema:
            continue
        path = document["paths"].get(route.path_format, {})
        for method in route.methods:
            operation = path.get(method.lower())
            if operation is not None:
                _complete(operation, route)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return document


def install(app: FastAPI) -> None:
    """Serve the completed document at `app.openapi_url` (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
