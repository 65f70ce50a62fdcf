"""E-commerce promo rules and their promo codes (`/ecommerce/stores/{store_id}/promo-rules`).

Modelled on Mailchimp's OpenAPI contract (shared/contracts/mailchimp-marketing.json, 3.0.81):
a rule needs `id`, `description`, `amount`, `type` (fixed, percentage) and `target` (per_item,
total, shipping); a percentage `amount` is a fraction between 0.0 and 1.0 ("amount must be a
decimal value between 0.0 and 1.0, inclusive"); `ends_at` must be after `starts_at`; a code
needs `id`, `code` and `redemption_url` (ids and codes up to 50 characters, the URL up to 2000,
a rule's title up to 100 and its description up to 255). Rules and codes have GET, POST, PATCH
and DELETE (no PUT); creating an id that exists is a 400, an unknown id a 404, and deleting a
rule deletes its codes. The same handlers serve batch operations (`batches.py`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .errors import MailchimpError, field_invalid, invalid_resource, not_found
from .routing import ApiRequest, Router, paginate
from .state import StoreData

router = Router()

RULES = "/ecommerce/stores/{store_id}/promo-rules"
RULE = f"{RULES}/{{promo_rule_id}}"
CODES = f"{RULE}/promo-codes"
CODE = f"{CODES}/{{promo_code_id}}"
DATES = ("starts_at", "ends_at", "created_at_foreign", "updated_at_foreign")


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


def _instant(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise field_invalid(name, "This value should be a valid ISO 8601 date-time.") from None


class PromoRuleIn(_In):
    id: str = Field(min_length=1, max_length=50)
    title: str = Field("", max_length=100)
    description: str = Field(min_length=1, max_length=255)
    starts_at: str = ""
    ends_at: str = ""
    amount: float
    type: Literal["fixed", "percentage"]
    target: Literal["per_item", "total", "shipping"]
    enabled: bool = True
    created_at_foreign: str = ""
    updated_at_foreign: str = ""


class PromoCodeIn(_In):
    id: str = Field(min_length=1, max_length=50)
    code: str = Field(min_length=1, max_length=50)
    redemption_url: str = Field(min_length=1, max_length=2000)
    usage_count: int = Field(0, ge=0)
    enabled: bool = True
    created_at_foreign: str = ""
    updated_at_foreign: str = ""


class PromoRuleData(BaseModel):
    """A rule as stored, with its codes (deleted together)."""

    rule: dict[str, Any]
    codes: dict[str, dict[str, Any]] = Field(default_factory=dict)


def _rules(data: StoreData) -> dict[str, PromoRuleData]:
    return data.promo_rules


def _store(request: ApiRequest) -> StoreData:
    found = request.account.stores.get(request.params["store_id"])
    if found is None:
        raise not_found()
    return found


def _rule(request: ApiRequest) -> tuple[StoreData, PromoRuleData]:
    data = _store(request)
    found = _rules(data).get(request.params["promo_rule_id"])
    if found is None:
        raise not_found()
    return data, found


def _rule_rules(rule: PromoRuleIn) -> None:
    if rule.amount < 0:
        raise field_invalid("amount", "This value should be 0 or more.")
    if rule.type == "percentage" and rule.amount > 1:
        raise field_invalid("amount", "A percentage amount must be between 0.0 and 1.0.")
    starts, ends = _instant(rule.starts_at, "starts_at"), _instant(rule.ends_at, "ends_at")
    if starts is not None and ends is not None and ends <= starts:
        raise field_invalid("ends_at", "ends_at must be after starts_at.")


def _checked_rule(request: ApiRequest, body: dict[str, Any]) -> PromoRuleIn:
    rule = request.parse(PromoRuleIn, body)
    _rule_rules(rule)
    return rule


def _stamp(request: ApiRequest, doc: dict[str, Any], created: str | None) -> dict[str, Any]:
    now = request.sandbox.clock.iso()
    doc["created_at_foreign"] = doc.get("created_at_foreign") or created or now
    doc["updated_at_foreign"] = doc.get("updated_at_foreign") or now
    return doc


def _render(doc: dict[str, Any]) -> dict[str, Any]:
    # An unset date is left out (Mailchimp never answers "" for a date-time).
    return {**{k: v for k, v in doc.items() if v != "" or k not in DATES}, "_links": []}


def _exists(kind: str) -> MailchimpError:
    return invalid_resource(f"A {kind} with the provided ID already exists in the account.")


# --- rules ---------------------------------------------------------------------------------


@router.route("POST", RULES)
def post_rule(request: ApiRequest) -> dict[str, Any]:
    data = _store(request)
    rule = _checked_rule(request, request.json_object())
    if rule.id in _rules(data):
        raise _exists("promo rule")
    doc = _stamp(request, rule.model_dump(), None)
    _rules(data)[rule.id] = PromoRuleData(rule=doc)
    return _render(doc)


@router.route("GET", RULES)
def get_rules(request: ApiRequest) -> dict[str, Any]:
    data = _store(request)
    items = [_render(r.rule) for r in _rules(data).values()]
    return {**paginate(request, "promo_rules", items), "store_id": data.info.id}


@router.route("GET", RULE)
def get_rule(request: ApiRequest) -> dict[str, Any]:
    return _render(_rule(request)[1].rule)


@router.route("PATCH", RULE)
def patch_rule(request: ApiRequest) -> dict[str, Any]:
    _, found = _rule(request)
    body = {k: v for k, v in request.json_object().items() if k != "id"}
    merged = {**found.rule, **body}
    if "updated_at_foreign" not in body:
        merged.pop("updated_at_foreign", None)
    rule = _checked_rule(request, merged)
    found.rule = _stamp(request, rule.model_dump(), found.rule["created_at_foreign"])
    return _render(found.rule)


@router.route("DELETE", RULE)
def delete_rule(request: ApiRequest) -> None:
    data, found = _rule(request)
    del _rules(data)[found.rule["id"]]


# --- codes ---------------------------------------------------------------------------------


def _code(request: ApiRequest) -> tuple[PromoRuleData, dict[str, Any]]:
    _, rule = _rule(request)
    found = rule.codes.get(request.params["promo_code_id"])
    if found is None:
        raise not_found()
    return rule, found


@router.route("POST", CODES)
def post_code(request: ApiRequest) -> dict[str, Any]:
    _, rule = _rule(request)
    code = request.parse(PromoCodeIn)
    if code.id in rule.codes:
        raise _exists("promo code")
    doc = _stamp(request, code.model_dump(), None)
    rule.codes[code.id] = doc
    return _render(doc)


@router.route("GET", CODES)
def get_codes(request: ApiRequest) -> dict[str, Any]:
    data, rule = _rule(request)
    items = [_render(c) for c in rule.codes.values()]
    return {**paginate(request, "promo_codes", items), "store_id": data.info.id}


@router.route("GET", CODE)
def get_code(request: ApiRequest) -> dict[str, Any]:
    return _render(_code(request)[1])


@router.route("PATCH", CODE)
def patch_code(request: ApiRequest) -> dict[str, Any]:
    rule, found = _code(request)
    body = {k: v for k, v in request.json_object().items() if k != "id"}
    merged = {**found, **body}
    if "updated_at_foreign" not in body:
        merged.pop("updated_at_foreign", None)
    code = request.parse(PromoCodeIn, merged)
    rule.codes[code.id] = _stamp(request, code.model_dump(), found["created_at_foreign"])
    return _render(rule.codes[code.id])


@router.route("DELETE", CODE)
def delete_code(request: ApiRequest) -> None:
    rule, found = _code(request)
    del rule.codes[found["id"]]
