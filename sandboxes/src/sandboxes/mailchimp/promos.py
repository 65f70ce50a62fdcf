"""E-commerce promo rules and their promo codes (`/ecommerce/stores/{store_id}/promo-rules`).

Modelled on Mailchimp's OpenAPI contract (shared/contracts/mailchimp-marketing.json, 3.0.81):
a rule needs `id`, `description`, `amount`, `type` (fixed, percentage) and `target` (per_item,
total, shipping) (`E_commerce_Promo_Rule_1.required` and its enums); a percentage `amount` is a
fraction between 0.0 and 1.0 ("amount must be a decimal value between 0.0 and 1.0, inclusive");
`ends_at` "Must be after starts_at"; a code needs `id`, `code` and `redemption_url`
(`E_commerce_Promo_Code_1.required`). Lengths as the spec words them: ids and codes "max length
50" characters, the URL 2000, the description 255, and the title "max length of 100 bytes"
(counted in UTF-8 bytes, so 60 "é" are refused). Every field has the JSON type the spec gives it
(`amount` a number, `enabled` a boolean, `usage_count` an integer, dates ISO 8601 `date-time`
strings): a string "0.1" or "true" is refused rather than converted (Mailchimp validates bodies
against its JSON schema: "Schema describes ..., ... found instead"). Rules and codes have GET,
POST, PATCH and DELETE (no PUT); creating an id that exists is a 400, an unknown id a 404, and
deleting a rule deletes its codes. The same handlers serve batch operations (`batches.py`).

Not documented, chosen as the stricter side: a negative `amount` or `usage_count` is refused;
a code's `id` is unique within its rule (the path it lives under), and whether two codes of a
store may share the same `code` string is not published, so it is left allowed. A code's
`redemption_url` must be a full link (`order_checks.Link`): the spec titles it "Redemption Url",
"The url that should be used in the promotion campaign restricted to UTF-8 characters with max
length 2000", a string without a format as it types an order's `order_url`, which Mailchimp
refuses when it is not a full URL ("order_url: That is not a valid URL: /view-order/5374/",
mailchimp/mc-woocommerce#217): held to that check, as a product's page is, and never empty
(required).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .bodies import DateTimeIn, date_time
from .errors import MailchimpError, field_invalid, invalid_resource, not_found
from .order_checks import Link
from .routing import ApiRequest, Router, paginate
from .state import StoreData

router = Router()

RULES = "/ecommerce/stores/{store_id}/promo-rules"
RULE = f"{RULES}/{{promo_rule_id}}"
CODES = f"{RULE}/promo-codes"
CODE = f"{CODES}/{{promo_code_id}}"
DATES = ("starts_at", "ends_at", "created_at_foreign", "updated_at_foreign")


class _In(BaseModel):
    # strict: the spec's JSON types as sent, no "0.1" -> 0.1 or "true" -> True (module docstring).
    model_config = ConfigDict(extra="ignore", strict=True)


class PromoRuleIn(_In):
    id: str = Field(min_length=1, max_length=50)
    title: str = Field("", max_length=100)
    description: str = Field(min_length=1, max_length=255)
    starts_at: DateTimeIn = ""
    ends_at: DateTimeIn = ""
    amount: float
    type: Literal["fixed", "percentage"]
    target: Literal["per_item", "total", "shipping"]
    enabled: bool = True
    created_at_foreign: DateTimeIn = ""
    updated_at_foreign: DateTimeIn = ""

    @field_validator("title")
    @classmethod
    def _title_bytes(cls, title: str) -> str:
        # "Restricted to UTF-8 characters with max length of 100 bytes" (E_commerce_Promo_Rule_1).
        if len(title.encode()) > 100:
            raise ValueError("The title must be at most 100 bytes in UTF-8.")
        return title


class PromoCodeIn(_In):
    id: str = Field(min_length=1, max_length=50)
    code: str = Field(min_length=1, max_length=50)
    redemption_url: Link = Field(min_length=1, max_length=2000)  # a full link (docstring)
    usage_count: int = Field(0, ge=0)
    enabled: bool = True
    created_at_foreign: DateTimeIn = ""
    updated_at_foreign: DateTimeIn = ""


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
    if (
        rule.starts_at
        and rule.ends_at
        and (date_time(rule.ends_at, "ends_at") <= date_time(rule.starts_at, "starts_at"))
    ):
        raise field_invalid("ends_at", "ends_at must be after starts_at.")


def _checked_rule(request: ApiRequest, body: dict[str, Any]) -> PromoRuleIn:
    rule = request.parse(PromoRuleIn, body)
    _rule_rules(rule)
    return rule


def _stamp(request: ApiRequest, doc: dict[str, Any], created: str | None) -> dict[str, Any]:
    # An unset date is not kept as "" (a PATCH validates the stored rule with its changes).
    doc = {k: v for k, v in doc.items() if v != "" or k not in DATES}
    now = request.sandbox.clock.iso()
    doc["created_at_foreign"] = doc.get("created_at_foreign") or created or now
    doc["updated_at_foreign"] = doc.get("updated_at_foreign") or now
    return doc


def _render(doc: dict[str, Any]) -> dict[str, Any]:
    # An unset date is left out (`_stamp`): Mailchimp never answers "" for a date-time.
    return {**doc, "_links": []}


def _exists(kind: str) -> MailchimpError:
    return invalid_resource(f"A {kind} with the provided ID already exists in the account.")


def _rule_exists(store_id: str, rule_id: str) -> MailchimpError:
    """Mailchimp's words for a promo rule's id taken in the store: 400 "Invalid Resource", "A
    promo rule for store '7ea313f5c2ed384586c1077a4bb62df3' with the id '2' already exists."
    (the answers quoted in mailchimp/mc-magento#555 and #648). A promo code's are not found
    published (`_exists`)."""
    return invalid_resource(
        f"A promo rule for store '{store_id}' with the id '{rule_id}' already exists."
    )


# --- rules ---------------------------------------------------------------------------------


@router.route("POST", RULES)
def post_rule(request: ApiRequest) -> dict[str, Any]:
    data = _store(request)
    rule = _checked_rule(request, request.json_object())
    if rule.id in _rules(data):
        raise _rule_exists(data.info.id, rule.id)
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
    code = request.parse(PromoCodeIn, request.json_object())
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
