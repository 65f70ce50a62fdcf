"""The admin's choices for the fields marketers segment on (the E-commerce page's models): which
Saleor data becomes a product's `vendor` and `type`, how a shipment's carrier and tracking link
are made, and a store's language and time zone when the channel does not say.

Kept apart from `settings_api.py` (which uses them) so `marketing.py` can read both without a cycle.
"""

from __future__ import annotations

import re
import zoneinfo
from typing import Literal, TypeVar

import pycountry
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from addon.ecommerce.links import checked_template

# Where a product's `vendor` or `type` comes from in Saleor.
ProductFieldSource = Literal["category", "product_type", "attribute", "metadata", "none"]
KEYED_SOURCES = ("attribute", "metadata")


class ProductField(BaseModel):
    """One product field's source: `attribute` names the attribute's slug (e.g. "brand"),
    `metadata` the key (public metadata first, then private); the others take no key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: ProductFieldSource
    key: str | None = Field(None, max_length=255)

    @field_validator("key")
    @classmethod
    def _trimmed(cls, value: str | None) -> str | None:
        return (value or "").strip() or None

    @model_validator(mode="after")
    def _key_when_needed(self) -> ProductField:
        if self.source in KEYED_SOURCES and self.key is None:
            noun = "attribute's slug" if self.source == "attribute" else "metadata key"
            raise ValueError(f"name the {noun} to read, e.g. brand")
        return self


# The app's behaviour before these were settings: vendor from the product's public metadata key
# "vendor" (usually empty), type from its product type.
DEFAULT_VENDOR = ProductField(source="metadata", key="vendor")
DEFAULT_TYPE = ProductField(source="product_type")

TRACKING_FIELDS = {"number", "postal_code", "country"}


class TrackingRule(BaseModel):
    """The carrier and tracking link of the orders shipped by one shipping method (its name as
    Saleor shows it on the order); an empty `shipping_method` is the rule for every other one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    shipping_method: str = Field("", max_length=255)
    carrier: str = Field(..., min_length=1, max_length=100)
    url_template: str | None = Field(
        None,
        max_length=1024,
        description="e.g. https://track.example.com/?n={number} (placeholders: {number}, "
        "{postal_code}, {country} of the shipping address).",
    )

    @field_validator("shipping_method", "carrier")
    @classmethod
    def _trimmed(cls, value: str) -> str:
        return " ".join(value.split())

    @field_validator("carrier")
    @classmethod
    def _carrier(cls, value: str) -> str:
        if not value:
            raise ValueError("name the carrier, e.g. DHL")
        return value


Rule = TypeVar("Rule", bound=TrackingRule)


class TrackingRuleInput(TrackingRule):
    """A rule as an admin saves it, its link template checked (`links.checked_template`). One
    saved before a check was added is read as it is (`TrackingRule`): refused on reading, it
    would break the E-commerce page and the very save that would fix it; at push, a link it
    cannot make is left out, the carrier still sent (`marketing.order_tracking`)."""

    @field_validator("url_template")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        return checked_template(
            value, TRACKING_FIELDS, "https://track.example.com/?n={number}", required="number"
        )


def check_rules(rules: list[Rule]) -> list[Rule]:
    """One rule per shipping method (names compared as Saleor's dashboard shows them, case
    aside), so which rule applies is never a matter of order."""
    seen: set[str] = set()
    for rule in rules:
        name = rule.shipping_method.casefold()
        if name in seen:
            which = f"shipping method {rule.shipping_method!r}" if name else "every other method"
            raise ValueError(f"there are two rules for {which}; keep one")
        seen.add(name)
    return rules


# Mailchimp's `primary_locale` is a two-letter language code ("en", "de": the Marketing API's
# store schema); its `timezone` takes a time zone name (mc-woocommerce sends WordPress's
# `timezone_string`, an IANA name such as "Europe/Warsaw").
_LOCALE = re.compile(r"^[a-z]{2}$")


def check_locale(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip().lower()
    # ISO 639-1's codes (Mailchimp's `primary_locale`: "The two-letter code", e.g. en, fr):
    # "xx" has the shape of one and names no language.
    if not _LOCALE.match(value) or pycountry.languages.get(alpha_2=value) is None:
        raise ValueError("must be a two-letter language code such as en or de")
    return value


def check_timezone(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if not is_timezone(value):
        raise ValueError("must be a time zone name such as Europe/Warsaw or America/New_York")
    return value


def is_timezone(value: str) -> bool:
    if "/" not in value and value != "UTC":
        return False  # "EST", "CET": abbreviations are ambiguous
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True
