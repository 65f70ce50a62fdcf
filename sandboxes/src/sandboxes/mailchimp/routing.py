"""The Marketing API's route table and the request context its handlers receive.

Routes are declared with the spec's path templates (``/lists/{list_id}/members``). The same
table serves direct HTTP requests and batch operations, so both follow identical rules.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from .bodies import json_type, validation_errors
from .errors import (
    FieldError,
    MailchimpError,
    invalid_resource,
    method_not_allowed,
    not_found,
)
from .state import AccountData

if TYPE_CHECKING:
    from .sandbox import MailchimpSandbox

M = TypeVar("M", bound=BaseModel)
MAX_COUNT = 1000


@dataclass
class ApiResult:
    """A handler's answer: status and JSON body (``None`` for 204)."""

    status: int = 200
    body: dict[str, Any] | None = None
    problem: bool = False


@dataclass
class ApiRequest:
    """One Marketing API call, as a handler sees it."""

    sandbox: MailchimpSandbox
    account: AccountData
    method: str
    path: str
    query: dict[str, str]
    body: Any = None
    via: Literal["http", "batch"] = "http"
    params: dict[str, str] = field(default_factory=dict)

    def json_object(self) -> dict[str, Any]:
        if not isinstance(self.body, dict):
            raise invalid_resource(
                errors=[
                    FieldError(
                        field="",
                        message=f"Schema describes object, {json_type(self.body)} found instead",
                    )
                ]
            )
        return self.body

    def parse(self, model: type[M], data: Mapping[str, Any] | None = None) -> M:
        """Validate the body (or ``data``) with ``model``; Mailchimp-style 400 when invalid."""
        payload = self.json_object() if data is None else data
        try:
            return model.model_validate(payload)
        except ValidationError as exc:
            raise invalid_resource(errors=validation_errors(exc)) from None

    def flag(self, name: str) -> bool:
        return self.query.get(name, "").lower() == "true"


HandlerResult = dict[str, Any] | ApiResult | None
Handler = Callable[[ApiRequest], HandlerResult | Awaitable[HandlerResult]]


@dataclass
class _Route:
    method: str
    template: str
    pattern: re.Pattern[str]
    handler: Handler

    @property
    def first(self) -> str | None:
        """The template's first segment, ``None`` when it is a parameter."""
        segment = _first_segment(self.template)
        return None if "{" in segment else segment


def _depth(path: str) -> int:
    """How many segments a path has (a trailing slash aside): a template's parameters match
    one segment each, so only the routes of a path's depth can match it."""
    return path.rstrip("/").count("/")


def _first_segment(path: str) -> str:
    """What lies between a path's first and second slash: a template whose first segment is
    literal matches only the paths with that first segment."""
    parts = path.split("/", 2)
    return parts[1] if len(parts) > 1 else ""


def _compile(template: str) -> re.Pattern[str]:
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    return re.compile(f"^{regex}/?$")


class Router:
    """Method + path-template routing to handler functions."""

    def __init__(self) -> None:
        self._routes: list[_Route] = []
        # The routes by depth, in the order they were added (the first match wins): about 60
        # routes, each a regular expression, were tried in turn for every request.
        self._by_depth: dict[int, list[_Route]] = {}
        # Narrower still, made when first asked for: the routes of a depth that can match a
        # first segment (those with it, and those with a parameter there), in the same order.
        # A segment no route has is looked up as None (only parameters can match it), so
        # request paths never grow this. The POST of an order tried 24 expressions (the list
        # routes of its depth first), 3 % of the sandbox's CPU in a batch of orders.
        self._literals: set[str] = set()
        self._candidates: dict[tuple[int, str | None], list[_Route]] = {}

    def add(self, method: str, template: str, handler: Handler) -> None:
        self._append(_Route(method.upper(), template, _compile(template), handler))

    def _append(self, route: _Route) -> None:
        self._routes.append(route)
        self._by_depth.setdefault(_depth(route.template), []).append(route)
        if route.first is not None:
            self._literals.add(route.first)
        self._candidates.clear()

    def _routes_for(self, path: str) -> list[_Route]:
        depth = _depth(path)
        first = _first_segment(path)
        key = (depth, first if first in self._literals else None)
        routes = self._candidates.get(key)
        if routes is None:
            routes = [
                route
                for route in self._by_depth.get(depth, ())
                if route.first is None or route.first == key[1]
            ]
            self._candidates[key] = routes
        return routes

    def route(self, method: str, template: str) -> Callable[[Handler], Handler]:
        def decorator(handler: Handler) -> Handler:
            self.add(method, template, handler)
            return handler

        return decorator

    def include(self, other: Router) -> None:
        for route in other._routes:
            self._append(route)

    def resolve(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        path_matched = False
        template: str | None = None
        match: re.Match[str] | None = None
        for route in self._routes_for(path):
            if route.template != template:  # one template's routes (by method) follow each other
                template, match = route.template, route.pattern.match(path)
            if match is None:
                continue
            path_matched = True
            if route.method == method.upper():
                return route.handler, match.groupdict()
        if path_matched:
            raise method_not_allowed()
        raise not_found("Invalid path")

    async def call(self, request: ApiRequest) -> ApiResult:
        """Run the matching handler (holding the state lock for synchronous ones)."""
        try:
            handler, params = self.resolve(request.method, request.path)
            request.params = params
            if inspect.iscoroutinefunction(handler):
                outcome = await handler(request)
            else:
                with request.sandbox.state.lock:
                    outcome = handler(request)
                    if inspect.isawaitable(outcome):  # pragma: no cover - defensive
                        outcome = await outcome
        except MailchimpError as exc:
            return ApiResult(exc.status, exc.document(), problem=True)
        result = outcome if isinstance(outcome, ApiResult) else _as_result(outcome)
        if result.body is not None and not result.problem:
            result.body = filter_fields(result.body, request.query)
        return result


def _as_result(body: dict[str, Any] | None) -> ApiResult:
    return ApiResult(204, None) if body is None else ApiResult(200, body)


# --- fields / exclude_fields ------------------------------------------------------------


def _split(spec: str) -> list[list[str]]:
    return [p.strip().split(".") for p in spec.split(",") if p.strip()]


# A `fields` selection as a tree: key -> the selection below it (None: all of it).
_Tree = dict[str, "_Tree | None"]


def _tree(paths: list[list[str]]) -> _Tree:
    tree: _Tree = {}
    for path in paths:
        node: _Tree | None = tree
        for depth, part in enumerate(path):
            if node is None:
                break  # an ancestor is selected whole
            if depth == len(path) - 1:
                node[part] = None
            else:
                node = node.setdefault(part, {})
    return tree


def _select(value: Any, tree: _Tree) -> Any:
    # Walked once per value against a tree built once (a page holds up to 1000 items).
    if isinstance(value, list):
        return [_select(item, tree) for item in value]
    if not isinstance(value, dict):
        return value
    return {
        key: item if (sub := tree[key]) is None else _select(item, sub)
        for key, item in value.items()
        if key in tree
    }


def _exclude(value: Any, paths: list[list[str]]) -> Any:
    if isinstance(value, list):
        return [_exclude(item, paths) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        subs = [p[1:] for p in paths if p and p[0] == key]
        if any(not s for s in subs):
            continue
        out[key] = _exclude(item, subs) if subs else item
    return out


def filter_fields(body: dict[str, Any], query: Mapping[str, str]) -> dict[str, Any]:
    """Apply Mailchimp's ``fields`` / ``exclude_fields`` (comma-separated, dotted paths)."""
    if query.get("fields"):
        body = _select(body, _tree(_split(query["fields"])))
    if query.get("exclude_fields"):
        body = _exclude(body, _split(query["exclude_fields"]))
    return body


# --- pagination ---------------------------------------------------------------------------


def _int_param(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid_resource(
            errors=[FieldError(field=name, message="This value should be of type integer.")]
        ) from None
    if value < 0:
        raise invalid_resource(
            errors=[FieldError(field=name, message="This value should be 0 or more.")]
        )
    return value


def paginate(request: ApiRequest, key: str, items: list[Any]) -> dict[str, Any]:
    """``{key: page, "total_items": n}`` honouring ``count`` (default 10, max 1000) and
    ``offset``."""
    count = min(_int_param(request.query, "count", 10), MAX_COUNT)
    offset = _int_param(request.query, "offset", 0)
    return {key: items[offset : offset + count], "total_items": len(items), "_links": []}
