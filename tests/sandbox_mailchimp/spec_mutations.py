"""Single-constraint violations of a request body, derived from Mailchimp's OpenAPI spec.

From a valid body and the spec's request schema of its operation (read from ../shared through
:mod:`tests.contracts.mailchimp`), :func:`mutations` derives bodies that break exactly one
constraint the schema states, at one place:

* ``maxLength``: a string one character longer than allowed;
* ``enum``: a string the enum does not list, the first listed one in capitals, and each value
  another method of the same path takes at the same place (a PUT's member ``status`` may be
  "transactional", a PATCH's may not);
* ``type``: a value of each other JSON type, picked to tempt a lax parser ("12" for a number or
  an integer, "true" and 1 for a boolean, 12.0 for an integer, ``null`` for anything the spec
  does not make nullable);
* ``format``: a ``date-time`` (RFC 3339's: OpenAPI 3.0) that is not one: a date alone, a time
  without its offset, a space for the ``T``;
* ``required``: a required property left out.

Properties the valid body leaves out are tried too (set to the bad value; an object left out
is made ``{}`` around one bad property, unless it has required properties of its own).
Arrays are followed through their first item. The enumeration is deterministic.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from sandboxes.mailchimp.bodies import field_name
from tests.contracts.mailchimp import load_spec

Kind = Literal["maxLength", "enum", "type", "format", "required"]
Path = tuple[str | int, ...]
MISSING = object()

# Near misses of RFC 3339's date-time, each something a client library sends.
_NOT_DATE_TIMES = ("2024-01-31", "2024-01-31T10:00:00", "2024-01-31 10:00:00+00:00")

# The JSON types a value can have, and for each a value of it that a lax parser could take for
# the declared type (`declared` -> sample).
_JSON_TYPES = ("string", "integer", "number", "boolean", "object", "array", "null")


def _sample(json_type: str, declared: str) -> object:
    if json_type == "string":
        return {"number": "12", "integer": "12", "boolean": "true"}.get(declared, "12")
    if json_type == "integer":
        return 1 if declared == "boolean" else 12
    if json_type == "number":
        return 12.0 if declared == "integer" else 12.5
    if json_type == "boolean":
        return True
    if json_type == "object":
        return {}
    if json_type == "array":
        return []
    return None


def _compatible(json_type: str, schema: dict[str, Any]) -> bool:
    declared = schema["type"]
    if json_type == declared:
        return True
    if json_type == "integer" and declared == "number":
        return True  # JSON schema: every integer is a number
    return json_type == "null" and bool(schema.get("nullable"))


@dataclass(frozen=True)
class Mutation:
    """One body breaking one constraint of the spec at ``path``."""

    kind: Kind
    path: Path
    value: object
    body: dict[str, Any]

    @property
    def field(self) -> str:
        """The path as Mailchimp and the sandbox name a field (``lines.item:0.quantity``)."""
        return field_name(self.path)

    @property
    def label(self) -> str:
        if self.kind == "required":
            return f"{self.field}: required, left out"
        shown = json.dumps(self.value)
        shown = shown if len(shown) <= 40 else f"{shown[:30]}…({len(shown)} characters)"
        return f"{self.field}: {self.kind} broken by {shown}"


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with ``$ref``s followed and ``allOf`` parts merged (properties, required)."""
    while "$ref" in schema:
        schema = load_spec()["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if "allOf" not in schema:
        return schema
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    for part in schema["allOf"]:
        resolved = _resolve(part)
        merged.setdefault("type", resolved.get("type"))
        merged["properties"] = {**resolved.get("properties", {}), **merged.get("properties", {})}
        merged["required"] = [*resolved.get("required", []), *merged.get("required", [])]
    return merged


def request_schema(method: str, template: str) -> dict[str, Any]:
    operation = load_spec()["paths"][template][method.lower()]
    return _resolve(operation["requestBody"]["content"]["application/json"]["schema"])


def _with(body: dict[str, Any], path: Path, value: object) -> dict[str, Any]:
    """A copy of ``body`` with ``value`` at ``path`` (``MISSING``: the key left out); objects
    on the way that the body leaves out are made ``{}``."""
    out = copy.deepcopy(body)
    node: Any = out
    for part in path[:-1]:
        if isinstance(part, str) and part not in node:
            node[part] = {}
        node = node[part]
    if value is MISSING:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


# `merge_fields` values: the spec types them as objects, Mailchimp takes strings and numbers
# too (tests.contracts.mailchimp._known_defect, the contracts README): no constraint of the spec
# holds there, so none is broken.
def _known_defect(path: Path) -> bool:
    return len(path) >= 1 and path[-1] == "merge_fields"


def _own(
    schema: dict[str, Any], path: Path, body: dict[str, Any], siblings: Siblings
) -> Iterator[Mutation]:
    """The violations of the constraints on one value (its type, enum, maximum length)."""
    declared = schema.get("type")
    if declared is None:
        return
    if "maxLength" in schema:
        too_long = "x" * (int(schema["maxLength"]) + 1)
        yield Mutation("maxLength", path, too_long, _with(body, path, too_long))
    if "enum" in schema:
        listed = [str(v) for v in schema["enum"]]
        outside = ["not-" + "-".join(listed), listed[0].upper()]
        outside += sorted(siblings.get(_where(path), set()) - set(listed))
        for unlisted in dict.fromkeys(v for v in outside if v not in listed):
            yield Mutation("enum", path, unlisted, _with(body, path, unlisted))
    if declared == "string" and schema.get("format") == "date-time":
        for near_miss in _NOT_DATE_TIMES:
            yield Mutation("format", path, near_miss, _with(body, path, near_miss))
    for json_type in _JSON_TYPES:
        if not _compatible(json_type, schema):
            value = _sample(json_type, declared)
            yield Mutation("type", path, value, _with(body, path, value))


# The enum values each place of a body takes (array items as "*"), by the place.
Siblings = dict[tuple[str, ...], set[str]]


def _where(path: Path) -> tuple[str, ...]:
    return tuple("*" if isinstance(part, int) else part for part in path)


def _enums(schema: dict[str, Any], where: tuple[str, ...], out: Siblings) -> None:
    schema = _resolve(schema)
    if "enum" in schema:
        out.setdefault(where, set()).update(str(v) for v in schema["enum"])
    for name, sub in schema.get("properties", {}).items():
        _enums(sub, (*where, name), out)
    if schema.get("type") == "array" and "items" in schema:
        _enums(schema["items"], (*where, "*"), out)


def _siblings(method: str, template: str) -> Siblings:
    """The enum values the other methods of ``template`` take, by place in their bodies."""
    out: Siblings = {}
    for other, operation in load_spec()["paths"][template].items():
        if other != method.lower() and isinstance(operation, dict) and "requestBody" in operation:
            _enums(request_schema(other, template), (), out)
    return out


def _walk(
    schema: dict[str, Any], value: object, path: Path, body: dict[str, Any], siblings: Siblings
) -> Iterator[Mutation]:
    schema = _resolve(schema)
    if schema.get("type") == "array" and isinstance(value, list) and value:
        item = _resolve(schema.get("items", {}))
        yield from _own(item, (*path, 0), body, siblings)
        yield from _walk(item, value[0], (*path, 0), body, siblings)
        return
    if not isinstance(value, dict) or not (
        schema.get("type") == "object" or "properties" in schema
    ):
        return
    for name in schema.get("required", []):
        if name in value:
            yield Mutation("required", (*path, name), MISSING, _with(body, (*path, name), MISSING))
    for name, sub in schema.get("properties", {}).items():
        child = _resolve(sub)
        yield from _own(child, (*path, name), body, siblings)
        if name in value:
            yield from _walk(child, value[name], (*path, name), body, siblings)
        elif child.get("type") == "object" and not child.get("required"):
            yield from _walk(child, {}, (*path, name), body, siblings)  # inside an object made `{}`
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict) and not _known_defect(path):
        for key in value:
            yield from _own(_resolve(extra), (*path, key), body, siblings)
            yield from _walk(extra, value[key], (*path, key), body, siblings)


def mutations(method: str, template: str, body: dict[str, Any]) -> list[Mutation]:
    """Every single-constraint violation of ``body`` for ``method template``, in a fixed order."""
    schema = request_schema(method, template)
    return list(_walk(schema, body, (), body, _siblings(method, template)))
