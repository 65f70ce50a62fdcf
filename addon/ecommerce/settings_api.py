"""The E-commerce page's settings: what the admin may change (`SettingsUpdate`) and what the
page reads (`SettingsRead`), with their checks in words; and those checks answered without
saving (`SettingsDraft` → `SettingProblem`s), so the page shows the server's own verdict on its
link templates and tracking rules at each field instead of keeping a copy of the rule."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    computed_field,
    field_validator,
)
from pydantic_core import ErrorDetails

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
from addon.ecommerce.promo_schemas import PromoSettingsUpdate
from addon.subscriptions.schemas import Email
from addon.validation_messages import plain_message

PRODUCT_FIELDS = {"slug", "id", "channel"}
CHECKOUT_FIELDS = {"token", "channel", "restore"}
ORDER_FIELDS = {"number", "id", "channel"}


# The link templates' column (`EcommerceSettings`, String(1024)): a longer one is refused here,
# not by the database's write (a 500 on PostgreSQL).
TEMPLATE_LIMIT = 1024


class SettingsUpdate(BaseModel):
    """What the admin may change; omitted fields keep their value."""

    model_config = ConfigDict(extra="forbid")

    tracking_enabled: StrictBool | None = None
    abandoned_carts_enabled: StrictBool | None = None
    product_url_template: str | None = Field(
        None,
        max_length=TEMPLATE_LIMIT,
        description="Storefront product page, e.g. https://shop.example.com/products/{slug} "
        "(placeholders: {slug}, {id}, {channel}).",
    )
    checkout_url_template: str | None = Field(
        None,
        max_length=TEMPLATE_LIMIT,
        description="Where a shopper resumes their checkout, e.g. "
        "https://shop.example.com/cart/restore?link={restore} (placeholders: {restore}, a "
        "signed expiring link; {token}, the bare checkout token; {channel}).",
    )
    order_url_template: str | None = Field(
        None,
        max_length=TEMPLATE_LIMIT,
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


# The settings the check answers for: the link templates, the tracking rules, and the promo
# codes' redemption link (saved by PUT /api/ecommerce/promos).
CheckedField = Literal[
    "product_url_template",
    "checkout_url_template",
    "order_url_template",
    "tracking_rules",
    "redemption_url_template",
]


class RuleDraft(BaseModel):
    """A tracking rule's row as the page holds it, unchecked (the check says what is wrong)."""

    model_config = ConfigDict(extra="forbid")

    shipping_method: str = ""
    carrier: str = ""
    url_template: str | None = None


class SettingsDraft(BaseModel):
    """Values the admin has not saved yet; a field left out is not checked."""

    model_config = ConfigDict(extra="forbid")

    product_url_template: str | None = None
    checkout_url_template: str | None = None
    order_url_template: str | None = None
    tracking_rules: list[RuleDraft] | None = None
    redemption_url_template: str | None = None


class SettingProblem(BaseModel):
    """What a save would refuse, where: `row` and `column` name a tracking rule's field (the
    row counted from 0); `message` is the save's own words (`validation_messages`)."""

    field: CheckedField
    row: int | None = None
    column: str | None = None
    message: str


class SettingsCheck(BaseModel):
    problems: list[SettingProblem]


def setting_problems(draft: SettingsDraft) -> list[SettingProblem]:
    """`draft` checked by the very models that save it (`SettingsUpdate`, `PromoSettingsUpdate`):
    one rule, answered per field."""
    named = draft.model_fields_set
    problems = _problems(
        SettingsUpdate, draft.model_dump(include=named - {"redemption_url_template"})
    )
    if "redemption_url_template" in named:
        # The offer is not checked here; any value lets the template's check run.
        promo = {"offer": "none", "redemption_url_template": draft.redemption_url_template}
        problems += _problems(PromoSettingsUpdate, promo)
    return problems


def _problems(model: type[BaseModel], values: dict[str, Any]) -> list[SettingProblem]:
    try:
        model.model_validate(values)
    except ValidationError as exc:
        return [_problem(error) for error in exc.errors()]
    return []


def _problem(error: ErrorDetails) -> SettingProblem:
    loc = error["loc"]
    row = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
    column = str(loc[2]) if row is not None and len(loc) > 2 else None
    return SettingProblem.model_validate(
        {"field": loc[0], "row": row, "column": column, "message": plain_message([error])}
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

    @computed_field  # type: ignore[prop-decorator]
    @property
    def problems(self) -> list[SettingProblem]:
        """What a save would refuse in the stored values: a template or rule saved before its
        check was added, read leniently (`marketing_settings.TrackingRuleInput`), is shown to
        the admin with the reason where it is."""
        return setting_problems(
            SettingsDraft(
                product_url_template=self.product_url_template,
                checkout_url_template=self.checkout_url_template,
                order_url_template=self.order_url_template,
                tracking_rules=[RuleDraft(**rule.model_dump()) for rule in self.tracking_rules],
            )
        )
