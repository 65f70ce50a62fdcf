"""The E-commerce page's settings: what the admin may change (`SettingsUpdate`) and what the
page reads (`SettingsRead`), with their checks in words."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from addon.db.read import RowRead
from addon.ecommerce.links import checked_template
from addon.ecommerce.marketing_settings import (
    ProductField,
    TrackingRule,
    TrackingRuleInput,
    check_locale,
    check_rules,
    check_timezone,
)
from addon.subscriptions.schemas import Email

PRODUCT_FIELDS = {"slug", "id", "channel"}
CHECKOUT_FIELDS = {"token", "channel", "restore"}
ORDER_FIELDS = {"number", "id", "channel"}


class SettingsUpdate(BaseModel):
    """What the admin may change; omitted fields keep their value."""

    model_config = ConfigDict(extra="forbid")

    tracking_enabled: StrictBool | None = None
    abandoned_carts_enabled: StrictBool | None = None
    product_url_template: str | None = Field(
        None,
        description="Storefront product page, e.g. https://shop.example.com/products/{slug} "
        "(placeholders: {slug}, {id}, {channel}).",
    )
    checkout_url_template: str | None = Field(
        None,
        description="Where a shopper resumes their checkout, e.g. "
        "https://shop.example.com/cart/restore?link={restore} (placeholders: {restore}, a "
        "signed expiring link; {token}, the bare checkout token; {channel}).",
    )
    order_url_template: str | None = Field(
        None,
        description="The order's page on the storefront, e.g. "
        "https://shop.example.com/account/orders/{number} (placeholders: {number}, the order's "
        "number; {id}, Saleor's order id; {channel}).",
    )
    store_email: Email | None = None
    product_vendor: ProductField | None = Field(
        None, description="What becomes a product's vendor (Mailchimp's brand segments)."
    )
    product_type: ProductField | None = Field(None, description="What becomes a product's type.")
    tracking_rules: list[TrackingRuleInput] | None = Field(
        None,
        max_length=50,
        description="The carrier and tracking link per shipping method (an empty method: "
        "every other one).",
    )
    default_locale: str | None = Field(
        None, description="A store's primary_locale when its channel sets none, e.g. en."
    )
    default_timezone: str | None = Field(
        None, description="A store's timezone when its channel gives none, e.g. Europe/Warsaw."
    )

    @field_validator("tracking_rules")
    @classmethod
    def _rules(cls, value: list[TrackingRuleInput] | None) -> list[TrackingRuleInput] | None:
        return None if value is None else check_rules(value)

    @field_validator("default_locale")
    @classmethod
    def _locale(cls, value: str | None) -> str | None:
        return check_locale(value)

    @field_validator("default_timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        return check_timezone(value)

    @field_validator("product_url_template")
    @classmethod
    def _product_template(cls, value: str | None) -> str | None:
        return checked_template(value, PRODUCT_FIELDS, "https://shop.example.com/products/{slug}")

    @field_validator("checkout_url_template")
    @classmethod
    def _checkout_template(cls, value: str | None) -> str | None:
        return checked_template(
            value, CHECKOUT_FIELDS, "https://shop.example.com/checkout?token={token}"
        )

    @field_validator("order_url_template")
    @classmethod
    def _order_template(cls, value: str | None) -> str | None:
        return checked_template(
            value, ORDER_FIELDS, "https://shop.example.com/account/orders/{number}"
        )


class SettingsRead(RowRead):
    tracking_enabled: bool
    abandoned_carts_enabled: bool
    product_url_template: str | None
    checkout_url_template: str | None
    order_url_template: str | None
    store_email: str | None
    product_vendor: ProductField
    product_type: ProductField
    tracking_rules: list[TrackingRule]
    default_locale: str | None
    default_timezone: str | None
