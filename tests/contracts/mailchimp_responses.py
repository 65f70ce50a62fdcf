"""Contract check of the Mailchimp *sandbox's answers* against the spec's response schemas.

Every answer the sandbox gives in the test suite is checked (the ``mailchimp_responses``
fixture of :mod:`tests.contracts.mailchimp_plugin`, used by every test): the status must be
declared for the operation (or be an error, answered by the ``default`` Problem Detail
Document), a body must be JSON where the spec has one and absent where it has none (204), and
the JSON must match the schema, date-time and other formats included (the real API never sends
``""`` for an unset date or enum value).

The spec (v3.0.81) is known to be wrong in a few response schemas; :data:`KNOWN_SPEC_DEFECTS`
lists each with what Mailchimp really sends, and only those errors are forgiven.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from tests.contracts.mailchimp import (
    SPEC_URI,
    _pointer,
    _registry,
    api_path,
    load_spec,
    match_template,
)


@dataclass(frozen=True)
class SpecDefect:
    """A response schema of the spec that contradicts the real API, and how."""

    why: str
    applies: Callable[[str, ValidationError], bool]


def _path(error: ValidationError) -> list[str | int]:
    return list(error.absolute_path)


KNOWN_SPEC_DEFECTS: tuple[SpecDefect, ...] = (
    SpecDefect(
        # As in requests (tests.contracts.mailchimp._known_defect): the spec types a member's
        # `merge_fields` values as objects; Mailchimp answers strings and numbers for text,
        # number, date... fields ("merge_fields": {"FNAME": "Elinore"}), objects for addresses.
        "merge-field values typed as objects",
        lambda template, e: (
            len(_path(e)) >= 2
            and _path(e)[-2] == "merge_fields"
            and e.validator == "type"
            and isinstance(e.instance, str | int | float)
        ),
    ),
    SpecDefect(
        # The member `status` enum lacks "archived", which Mailchimp answers for an archived
        # contact (its reference: 'Possible values: "subscribed", "unsubscribed", "cleaned",
        # "pending", "transactional", or "archived"').
        "archived members' status missing from the enum",
        lambda template, e: (
            template.startswith("/lists/{list_id}/members")
            and _path(e)[-1:] == ["status"]
            and e.validator == "enum"
            and e.instance == "archived"
        ),
    ),
    SpecDefect(
        # A report's last open / click is "" until there is one (airbytehq/airbyte,
        # source-mailchimp streams.py, `Reports.remove_empty_datetime_fields`: "the
        # 'clicks.last_click' and 'opens.last_open' fields are returned as an empty string").
        "reports' unset last_open / last_click sent as an empty string",
        lambda template, e: (
            template.startswith("/reports")
            and _path(e)[-2:] in (["opens", "last_open"], ["clicks", "last_click"])
            and e.validator == "format"
            and e.instance == ""
        ),
    ),
)


# Operations the spec answers with "204" *and* a JSON body ("Empty Response", an object):
# HTTP 204 has no content (RFC 9110, 15.3.5), and Mailchimp sends none.
BODYLESS_204: frozenset[tuple[str, str]] = frozenset(
    {
        ("delete", "/ecommerce/stores/{store_id}"),
        ("post", "/customer-journeys/journeys/{journey_id}/steps/{step_id}/actions/trigger"),
    }
)


def _schema(name: str) -> dict[str, Any]:
    return {"$ref": f"{SPEC_URI}#/components/schemas/{name}"}


_MEMBER = _schema("List_Members_1")  # one member, as Mailchimp answers it (tags included)
_MEMBERS = {"allOf": [_schema("List_Members_2")], "properties": {"members": {"items": _MEMBER}}}
# The spec has no schema of one webhook: its fields are those a webhook is created with, plus
# the ids Mailchimp adds (https://mailchimp.com/developer/marketing/api/list-webhooks/).
_WEBHOOK = {
    "allOf": [_schema("Add_Webhook")],
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "list_id": {"type": "string"},
        "_links": {"type": "array"},
    },
}
_WEBHOOKS = {"allOf": [_schema("List_Webhooks")], "properties": {"webhooks": {"items": _WEBHOOK}}}

# Operations whose "200" schema in the spec is a mangled name collision: single members and
# webhooks are typed as their *collection* (whose items are the collection again), which would
# let any object through. They are checked against the right schema instead.
SCHEMA_OVERRIDES: dict[tuple[str, str], dict[str, Any]] = {
    ("get", "/lists/{list_id}/members"): _MEMBERS,
    ("post", "/lists/{list_id}/members"): _MEMBER,
    ("get", "/lists/{list_id}/members/{subscriber_hash}"): _MEMBER,
    ("patch", "/lists/{list_id}/members/{subscriber_hash}"): _MEMBER,
    ("put", "/lists/{list_id}/members/{subscriber_hash}"): _MEMBER,
    ("get", "/lists/{list_id}/webhooks"): _WEBHOOKS,
    ("post", "/lists/{list_id}/webhooks"): _WEBHOOK,
    ("get", "/lists/{list_id}/webhooks/{webhook_id}"): _WEBHOOK,
    ("patch", "/lists/{list_id}/webhooks/{webhook_id}"): _WEBHOOK,
}


def _known_defect(template: str, error: ValidationError) -> bool:
    return any(defect.applies(template, error) for defect in KNOWN_SPEC_DEFECTS)


@functools.cache
def _validator(pointer: str, override: tuple[str, str] | None = None) -> OAS30Validator:
    # Formats are checked: `""` is a string but not a date-time.
    schema = SCHEMA_OVERRIDES[override] if override else {"$ref": f"{SPEC_URI}#{pointer}"}
    return OAS30Validator(schema, registry=_registry(), format_checker=oas30_format_checker)


def _date_times_are_checked() -> None:
    # jsonschema checks date-time only with rfc3339-validator installed; without it every
    # string would pass silently.
    assert not oas30_format_checker.conforms("", "date-time"), "install rfc3339-validator"


def _partial(query: Mapping[str, Any]) -> bool:
    """``fields`` / ``exclude_fields`` ask for part of a resource: required keys may be left
    out, as Mailchimp does."""
    return bool(query.get("fields") or query.get("exclude_fields"))


def _decode(body: bytes | object | None) -> tuple[object | None, bool]:
    """(JSON value or None, whether the bytes were JSON at all)."""
    if not isinstance(body, bytes | bytearray):
        return body, True
    if not body:
        return None, True
    try:
        return json.loads(body), True
    except ValueError:
        return None, False


def _errors(
    validator: OAS30Validator, body: object, template: str, query: Mapping[str, Any]
) -> list[str]:
    out = []
    for error in sorted(validator.iter_errors(body), key=lambda e: list(e.path)):
        if _known_defect(template, error):
            continue
        if _partial(query) and error.validator == "required":
            continue
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        message = error.message if len(error.message) <= 300 else error.message[:300] + "..."
        out.append(f"{where}: {message}")
    return out


def validate_response(
    method: str,
    path: str,
    query: Mapping[str, Any],
    status: int,
    body: bytes | object | None,
) -> list[str]:
    """Contract violations of one answer (``[]`` when valid). ``body`` is the raw bytes of an
    HTTP answer or the parsed JSON of a direct call (``None``: no body)."""
    _date_times_are_checked()
    method = method.upper()
    template, _ = match_template(method, path)
    prefix = f"{method} {template or path} -> {status}"
    value, is_json = _decode(body)
    if not is_json:
        # A gateway's HTML page on a 5xx is what the real service's proxies send too.
        return [] if status >= 500 else [f"{prefix}: body is not JSON"]
    if template is None:
        # A path not in the spec (the request check reports it) is answered by an error.
        if status < 400:
            return [f"{prefix}: success for a path not in the spec"]
        code, pointer = "default", "/components/schemas/Problem_Detail_Document"
        content: dict[str, Any] = {"application/json": {}}
    else:
        responses = load_spec()["paths"][template][method.lower()].get("responses", {})
        code = str(status)
        if code not in responses:
            if status < 400:
                return [f"{prefix}: status {status} is not declared for this operation"]
            code = "default"
        content = responses.get(code, {}).get("content") or {}
        if status == 204 and (method.lower(), template) in BODYLESS_204:
            content = {}
        pointer = _pointer(
            "paths", template, method.lower(), "responses", code, "content", "application/json"
        )
        pointer += "/schema"
    if not content:
        return [] if value is None else [f"{prefix}: a body where the spec has none"]
    if value is None:
        return [f"{prefix}: no body where the spec has one"]
    override = (method.lower(), template or "")
    validator = _validator(
        pointer, override if code == "200" and override in SCHEMA_OVERRIDES else None
    )
    return [f"{prefix}: {e}" for e in _errors(validator, value, template or path, query)]


class ResponseRecorder:
    """Checks every answer of every Mailchimp sandbox while installed (see the plugin)."""

    def __init__(self) -> None:
        self.violations: list[str] = []
        self.checked = 0

    def check(
        self, method: str, path: str, query: Mapping[str, Any], status: int, body: object
    ) -> None:
        self.checked += 1
        for violation in validate_response(method, api_path(path), query, status, body):
            if violation not in self.violations:
                self.violations.append(violation)
