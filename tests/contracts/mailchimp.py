"""Contract check of requests to the Mailchimp Marketing API against its official OpenAPI spec.

The spec (``mailchimp-marketing.json``, v3.0.81) lives in the shared contracts directory next to
the repository (``<repo>/../shared/contracts``; ``$SHARED_DIR/contracts`` when ``SHARED_DIR`` is
set). It is read at test time, never copied. This module checks *requests*; the sandbox's
answers are checked against the response schemas, with the spec's known defects listed, by
:mod:`tests.contracts.mailchimp_responses`.

* :func:`validate_request` - violations of one request (path template, method, query, body);
  ``POST /batches`` also checks every operation inside the batch as its own request.
* :class:`ContractCheckingTransport` - an httpx transport wrapper that checks and records every
  Marketing API request (URL path containing ``/3.0``) passing through it.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC_URI = "urn:mailchimp-marketing-spec"
HTTP_METHODS = ("get", "post", "put", "patch", "delete")
API_PREFIX = re.compile(r"^.*?/3\.0(?=/|$)")

QueryValue = str | Sequence[str]


def mailchimp_spec_path() -> Path:
    shared = os.environ.get("SHARED_DIR")
    base = Path(shared) if shared else REPO_ROOT.parent / "shared"
    return base / "contracts" / "mailchimp-marketing.json"


@functools.cache
def load_spec() -> dict[str, Any]:
    """The spec, parsed once per test session."""
    with mailchimp_spec_path().open(encoding="utf-8") as fh:
        spec: dict[str, Any] = json.load(fh)
    return spec


@functools.cache
def _registry() -> Registry:
    resource = Resource.from_contents(load_spec(), default_specification=DRAFT4)
    return Registry().with_resource(SPEC_URI, resource)


def _pointer(*parts: str) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


@functools.cache
def _validator(pointer: str) -> OAS30Validator:
    """A validator for the schema at ``pointer`` in the spec; ``$ref``s resolve in the spec.
    Formats are checked (``date-time`` is RFC 3339's, with rfc3339-validator installed)."""
    return OAS30Validator(
        {"$ref": f"{SPEC_URI}#{pointer}"},
        registry=_registry(),
        format_checker=oas30_format_checker,
    )


@dataclass(frozen=True)
class _Template:
    template: str
    segments: tuple[str, ...]
    literal_count: int

    def matches(self, segments: Sequence[str]) -> bool:
        if len(segments) != len(self.segments):
            return False
        return all(
            t.startswith("{") or t == s for t, s in zip(self.segments, segments, strict=True)
        )


@functools.cache
def _templates(length: int) -> tuple[_Template, ...]:
    """The spec's path templates of `length` segments: each request is matched against these
    only (every Mailchimp request of the suite is matched, against some 300 paths)."""
    out = []
    for template in load_spec()["paths"]:
        segments = tuple(s for s in template.split("/") if s)
        literal = sum(1 for s in segments if not s.startswith("{"))
        if len(segments) == length:
            out.append(_Template(template, segments, literal))
    return tuple(out)


def api_path(path: str) -> str:
    """``/us21/3.0/lists/x`` (or a full URL path) -> ``/lists/x``; API paths pass unchanged."""
    stripped = API_PREFIX.sub("", path, count=1)
    return stripped or "/"


def match_template(method: str, path: str) -> tuple[str | None, list[str]]:
    """The spec path template for ``method path`` (most literal segments win), or violations."""
    segments = [s for s in api_path(path).split("?")[0].split("/") if s]
    candidates = sorted(
        (t for t in _templates(len(segments)) if t.matches(segments)),
        key=lambda t: -t.literal_count,
    )
    if not candidates:
        return None, [f"{method} {path}: no path in the spec matches"]
    paths = load_spec()["paths"]
    for candidate in candidates:
        if method.lower() in paths[candidate.template]:
            return candidate.template, []
    allowed = sorted(
        {m.upper() for c in candidates for m in paths[c.template] if m in HTTP_METHODS}
    )
    return None, [
        f"{method} {path}: method not allowed for {candidates[0].template} "
        f"(spec allows {', '.join(allowed)})"
    ]


def _coerce(raw: str, schema: Mapping[str, Any]) -> tuple[Any, str | None]:
    """Turn a query-string value into the declared type (form style, explode=false arrays)."""
    kind = schema.get("type")
    if kind == "array":
        items = schema.get("items", {})
        values = []
        for part in raw.split(","):
            value, error = _coerce(part, items)
            if error:
                return None, error
            values.append(value)
        return values, None
    if kind == "integer":
        if re.fullmatch(r"-?\d+", raw) is None:
            return None, f"{raw!r} is not an integer"
        return int(raw), None
    if kind == "number":
        try:
            return float(raw), None
        except ValueError:
            return None, f"{raw!r} is not a number"
    if kind == "boolean":
        if raw not in ("true", "false"):
            return None, f"{raw!r} is not a boolean (true/false)"
        return raw == "true", None
    return raw, None


def _known_defect(error: ValidationError) -> bool:
    """The spec types member ``merge_fields`` values as objects; Mailchimp (and its docs:
    ``"merge_fields": {"FNAME": "Elinore"}``) takes strings and numbers too (objects only
    for address fields). Such errors are not violations."""
    path = list(error.absolute_path)
    return (
        len(path) >= 2
        and path[-2] == "merge_fields"
        and error.validator == "type"
        and isinstance(error.instance, str | int | float)
    )


def _schema_errors(pointer: str, instance: Any) -> list[str]:
    errors = sorted(_validator(pointer).iter_errors(instance), key=lambda e: list(e.path))
    out = []
    for error in errors:
        if _known_defect(error):
            continue
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        out.append(f"{where}: {error.message}")
    return out


def _operation_parameters(template: str, method: str) -> list[tuple[str, dict[str, Any]]]:
    """(pointer, parameter) pairs of path-level and operation-level parameters."""
    item = load_spec()["paths"][template]
    out = []
    for index, param in enumerate(item.get("parameters", [])):
        out.append((_pointer("paths", template, "parameters", str(index)), param))
    for index, param in enumerate(item[method].get("parameters", [])):
        out.append((_pointer("paths", template, method, "parameters", str(index)), param))
    return out


def _query_violations(template: str, method: str, query: Mapping[str, QueryValue]) -> list[str]:
    declared = {
        p["name"]: (ptr, p)
        for ptr, p in _operation_parameters(template, method)
        if p["in"] == "query"
    }
    violations = []
    for name, raw_value in query.items():
        if name not in declared:
            violations.append(f"query parameter {name!r} is not declared")
            continue
        values = [raw_value] if isinstance(raw_value, str) else list(raw_value)
        if len(values) > 1:
            violations.append(f"query parameter {name!r} is repeated")
        pointer, param = declared[name]
        for raw in values:
            value, error = _coerce(str(raw), param.get("schema", {}))
            if error:
                violations.append(f"query parameter {name!r}: {error}")
                continue
            for message in _schema_errors(f"{pointer}/schema", value):
                violations.append(f"query parameter {name!r}: {message.split(': ', 1)[-1]}")
    for name, (_, param) in declared.items():
        if param.get("required") and name not in query:
            violations.append(f"required query parameter {name!r} is missing")
    return violations


def _body_violations(template: str, method: str, body: object | None) -> list[str]:
    operation = load_spec()["paths"][template][method]
    request_body = operation.get("requestBody")
    if request_body is None:
        return [] if body is None else ["the operation takes no request body"]
    if body is None:
        return ["request body is required"] if request_body.get("required") else []
    if "application/json" not in request_body.get("content", {}):
        return ["the operation does not take a JSON body"]
    pointer = _pointer(
        "paths", template, method, "requestBody", "content", "application/json", "schema"
    )
    return [f"body {message}" for message in _schema_errors(pointer, body)]


def _batch_violations(body: object) -> list[str]:
    if not isinstance(body, dict) or not isinstance(body.get("operations"), list):
        return []
    violations = []
    for index, operation in enumerate(body["operations"]):
        if not isinstance(operation, dict):
            continue
        label = f"operations[{index}]"
        if operation.get("operation_id"):
            label += f" ({operation['operation_id']})"
        method = str(operation.get("method", ""))
        path = str(operation.get("path", ""))
        params = operation.get("params") or {}
        if not isinstance(params, dict):
            violations.append(f"{label}: params must be an object")
            params = {}
        query = {
            str(k): (("true" if v else "false") if isinstance(v, bool) else str(v))
            for k, v in params.items()
        }
        raw_body = operation.get("body")
        op_body: object | None = None
        if raw_body not in (None, ""):
            if not isinstance(raw_body, str):
                violations.append(f"{label}: body must be a JSON string, not {type(raw_body)}")
                op_body = raw_body
            else:
                try:
                    op_body = json.loads(raw_body)
                except ValueError as exc:
                    violations.append(f"{label}: body is not valid JSON ({exc})")
                    continue
        violations.extend(f"{label}: {v}" for v in validate_request(method, path, query, op_body))
    return violations


def validate_request(
    method: str,
    path: str,
    query: Mapping[str, QueryValue],
    body: object | None,
) -> list[str]:
    """Human-readable contract violations of one Marketing API request (``[]`` when valid).

    ``path`` is relative to the API root (``/lists/abc``) or a URL path containing ``/3.0``.
    """
    method = method.upper()
    template, violations = match_template(method, path)
    if template is None:
        return violations
    lower = method.lower()
    prefix = f"{method} {template}"
    found = [f"{prefix}: {v}" for v in _query_violations(template, lower, query)]
    found += [f"{prefix}: {v}" for v in _body_violations(template, lower, body)]
    if template == "/batches" and method == "POST":
        found += [f"{prefix}: {v}" for v in _batch_violations(body)]
    return found


def is_marketing_api(url: httpx.URL) -> bool:
    path = url.path
    return "/oauth2/" not in path and ("/3.0/" in path or path.endswith("/3.0"))


@dataclass
class CheckedRequest:
    """A Marketing API request seen by the transport, with its violations."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: object | None
    violations: list[str] = field(default_factory=list)


class ContractCheckingTransport(httpx.AsyncBaseTransport):
    """Checks every Marketing API request against the spec before passing it on."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[CheckedRequest] = []

    @property
    def violations(self) -> list[str]:
        return [v for r in self.requests for v in r.violations]

    def check(self, request: httpx.Request, content: bytes) -> CheckedRequest:
        query: dict[str, list[str]] = {}
        for key, value in request.url.params.multi_items():
            query.setdefault(key, []).append(value)
        path = api_path(request.url.path)
        body: object | None = None
        violations: list[str] = []
        if content:
            try:
                body = json.loads(content)
            except ValueError:
                violations.append(f"{request.method} {path}: request body is not valid JSON")
        violations += validate_request(request.method, path, query, body)
        checked = CheckedRequest(request.method, path, query, body, violations)
        self.requests.append(checked)
        return checked

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if is_marketing_api(request.url):
            self.check(request, await request.aread())
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()
