"""Promo rules and promo codes of a store (`/ecommerce/stores/{store_id}/promo-rules`): typed
models and calls (`PromoClient`), and batch operations for codes sent in bulk.

Mailchimp's contract (OpenAPI 3.0.81): a rule needs `id`, `description`, `amount`, `type`
(fixed, percentage: a fraction 0.0-1.0) and `target` (per_item, total, shipping); a code needs
`id`, `code` and `redemption_url`. Rules and codes have POST, GET, PATCH and DELETE (no PUT);
deleting a rule deletes its codes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from . import paths
from .client import MailchimpClient
from .models import BatchOperation, MailchimpInput, MailchimpResource

PromoType = Literal["fixed", "percentage"]
PromoTarget = Literal["per_item", "total", "shipping"]


# A promo rule's title: "Restricted to UTF-8 characters with max length of 100 bytes"
# (E_commerce_Promo_Rule_1): 100 characters of Cyrillic or Greek are about 200 bytes.
TITLE_MAX_BYTES = 100


def fit_title(text: str) -> str:
    """`text` cut to `TITLE_MAX_BYTES` of UTF-8, never inside a character."""
    return text.encode()[:TITLE_MAX_BYTES].decode(errors="ignore")


class PromoRulePatch(MailchimpInput):
    title: str | None = Field(None, max_length=100)
    description: str | None = Field(None, max_length=255)
    starts_at: str | None = None
    ends_at: str | None = None
    amount: float | None = None
    type: PromoType | None = None
    target: PromoTarget | None = None
    enabled: bool | None = None
    created_at_foreign: str | None = None
    updated_at_foreign: str | None = None

    @field_validator("title")
    @classmethod
    def _title_bytes(cls, title: str | None) -> str | None:
        if title is not None and len(title.encode()) > TITLE_MAX_BYTES:
            raise ValueError(f"The title must be at most {TITLE_MAX_BYTES} bytes in UTF-8.")
        return title


class PromoRuleInput(PromoRulePatch):
    id: str = Field(max_length=50)
    description: str = Field(max_length=255)
    amount: float
    type: PromoType
    target: PromoTarget


class PromoRule(MailchimpResource):
    id: str
    title: str = ""
    description: str = ""
    amount: float = 0.0
    type: str = ""
    target: str = ""
    enabled: bool = True
    starts_at: str | None = None
    ends_at: str | None = None  # left out (or "") when the rule has no end


class PromoCodePatch(MailchimpInput):
    code: str | None = Field(None, max_length=50)
    redemption_url: str | None = Field(None, max_length=2000)
    usage_count: int | None = None
    enabled: bool | None = None
    created_at_foreign: str | None = None
    updated_at_foreign: str | None = None


class PromoCodeInput(PromoCodePatch):
    id: str = Field(max_length=50)
    code: str = Field(max_length=50)
    redemption_url: str = Field(max_length=2000)


class PromoCode(MailchimpResource):
    id: str
    code: str = ""
    redemption_url: str = ""
    usage_count: int = 0
    enabled: bool = True


def rules_path(store_id: str, rule_id: str | None = None) -> str:
    path = f"{paths.store(store_id)}/promo-rules"
    return path if rule_id is None else f"{path}/{paths.segment(rule_id)}"


def codes_path(store_id: str, rule_id: str, code_id: str | None = None) -> str:
    path = f"{rules_path(store_id, rule_id)}/promo-codes"
    return path if code_id is None else f"{path}/{paths.segment(code_id)}"


class PromoClient:
    """The promo calls of one account (on the account's `MailchimpClient`)."""

    def __init__(self, client: MailchimpClient) -> None:
        self.client = client

    async def create_rule(self, store_id: str, rule: PromoRuleInput) -> PromoRule:
        data = await self.client.request("POST", rules_path(store_id), json=rule.body())
        return self.client._parse(PromoRule, data, rules_path(store_id))

    async def get_rule(self, store_id: str, rule_id: str) -> PromoRule:
        path = rules_path(store_id, rule_id)
        data = await self.client.request("GET", path)
        return self.client._parse(PromoRule, data, path)

    async def update_rule(self, store_id: str, rule_id: str, patch: PromoRulePatch) -> PromoRule:
        path = rules_path(store_id, rule_id)
        data = await self.client.request("PATCH", path, json=patch.body())
        return self.client._parse(PromoRule, data, path)

    async def delete_rule(self, store_id: str, rule_id: str) -> None:
        await self.client.request("DELETE", rules_path(store_id, rule_id))

    async def create_code(self, store_id: str, rule_id: str, code: PromoCodeInput) -> PromoCode:
        path = codes_path(store_id, rule_id)
        data = await self.client.request("POST", path, json=code.body())
        return self.client._parse(PromoCode, data, path)

    async def update_code(
        self, store_id: str, rule_id: str, code_id: str, patch: PromoCodePatch
    ) -> PromoCode:
        path = codes_path(store_id, rule_id, code_id)
        data = await self.client.request("PATCH", path, json=patch.body())
        return self.client._parse(PromoCode, data, path)

    async def delete_code(self, store_id: str, rule_id: str, code_id: str) -> None:
        await self.client.request("DELETE", codes_path(store_id, rule_id, code_id))


# --- batch operations ------------------------------------------------------------------------


def create_code_op(
    store_id: str, rule_id: str, code: PromoCodeInput, *, operation_id: str
) -> BatchOperation:
    return BatchOperation.of("POST", codes_path(store_id, rule_id), code, operation_id=operation_id)


def update_code_op(
    store_id: str, rule_id: str, code_id: str, patch: PromoCodePatch, *, operation_id: str
) -> BatchOperation:
    path = codes_path(store_id, rule_id, code_id)
    return BatchOperation.of("PATCH", path, patch, operation_id=operation_id)


def delete_code_op(
    store_id: str, rule_id: str, code_id: str, *, operation_id: str
) -> BatchOperation:
    path = codes_path(store_id, rule_id, code_id)
    return BatchOperation.of("DELETE", path, operation_id=operation_id)


def create_rule_op(store_id: str, rule: PromoRuleInput, *, operation_id: str) -> BatchOperation:
    return BatchOperation.of("POST", rules_path(store_id), rule, operation_id=operation_id)
