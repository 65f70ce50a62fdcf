"""Domain models of the Mailchimp sandbox, shaped like the API's response documents.

Each model dumps (``model_dump(mode="json")``) to what the real API returns for the resource;
containers that are not part of a response (a list's members, a store's products…) live in
:mod:`sandboxes.mailchimp.state`.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
)

from .bodies import BodyIn

MemberStatus = Literal[
    "subscribed", "unsubscribed", "cleaned", "pending", "transactional", "archived"
]
InterestType = Literal["checkboxes", "dropdown", "radio", "hidden"]

# `Field(exclude_if=…)` came with pydantic 2.12; the project allows older ones, which get the
# same answers from a wrap serializer (twice the cost of an order's dump: it walks the output
# again).
_HAS_EXCLUDE_IF = "exclude_if" in inspect.signature(Field).parameters


def _is_unset(value: object) -> bool:
    return value is None or value == ""


def omitted_when_unset(default: str | None = "") -> Any:
    """A field of an :class:`OmitsUnset` model that is left out of its dumps when unset; the
    model lists it in ``omit_when_unset`` too."""
    if _HAS_EXCLUDE_IF:
        return Field(default, exclude_if=_is_unset)
    return Field(default)


class OmitsUnset(BaseModel):
    """A resource with date-time or enum fields that may be unset.

    The spec declares them neither nullable nor allowing ``""`` (``format: date-time``, or an
    ``enum`` such as ``tracking_code: ["prec"]``), so an unset one is left out of the answer;
    the attribute itself stays ``""`` for code and tests reading the model. Each is declared
    with :func:`omitted_when_unset` and named in ``omit_when_unset``.
    """

    omit_when_unset: ClassVar[tuple[str, ...]] = ()

    if not _HAS_EXCLUDE_IF:  # pragma: no cover - pydantic < 2.12

        @model_serializer(mode="wrap")
        def _leave_out_unset(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
            data: dict[str, Any] = handler(self)
            for name in self.omit_when_unset:
                if data.get(name) in ("", None):
                    data.pop(name, None)
            return data


class SandboxAccount(BaseModel):
    """A Mailchimp account (one login) that the sandbox can authenticate."""

    id: str
    name: str
    login_email: str
    dc: str
    role: str = "owner"
    api_key: str
    user_id: int
    login_id: str
    first_name: str = ""
    last_name: str = ""
    created_at: str


class OAuthClient(BaseModel):
    """A registered OAuth2 application (client id / secret) and its Redirect URI.

    Mailchimp's "Register An App" form takes the app's Redirect URI with its name ("Register
    Your Application", https://developer.mailchimp.com/documentation/mailchimp/guides/how-to-use-oauth2/,
    now mailchimp.com/developer/marketing/guides/access-user-data-oauth-2/): there is no app
    without one. `/oauth2/authorize` sends a code only to it (`oauth.py`).
    The guide's note allows some wildcards in a registered URI (data-center subdomains, a path
    under it) without saying the rule in full: the sandbox, stricter, takes the registered URI
    alone, character for character, which is all an app that sends the URI it registered needs.
    """

    client_id: str
    client_secret: str
    redirect_uri: str

    @field_validator("redirect_uri")
    @classmethod
    def _absolute_http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"The Redirect URI must be an absolute http(s) URL, not {value!r}")
        return value


class MergeField(BaseModel):
    merge_id: int
    tag: str
    name: str
    type: str
    required: bool = False
    default_value: str = ""
    public: bool = True
    display_order: int = 0
    options: dict[str, Any] = Field(default_factory=dict)
    help_text: str = ""
    list_id: str


class InterestCategory(BaseModel):
    list_id: str
    id: str
    title: str
    display_order: int = 0
    type: InterestType


class Interest(BaseModel):
    category_id: str
    list_id: str
    id: str
    name: str
    subscriber_count: str = "0"
    display_order: int = 0


class MarketingPermission(BaseModel):
    marketing_permission_id: str
    text: str


class MemberMarketingPermission(BaseModel):
    marketing_permission_id: str
    text: str
    enabled: bool = False


class MemberTag(BaseModel):
    id: int
    name: str
    date_added: str


class Member(OmitsUnset):
    omit_when_unset = ("timestamp_signup", "timestamp_opt", "unsubscribe_reason")

    id: str
    email_address: str
    unique_email_id: str
    contact_id: str
    full_name: str = ""
    web_id: int
    email_type: str = "html"
    status: MemberStatus
    unsubscribe_reason: str | None = omitted_when_unset(None)
    consents_to_one_to_one_messaging: bool = True
    merge_fields: dict[str, Any] = Field(default_factory=dict)
    interests: dict[str, bool] = Field(default_factory=dict)
    ip_signup: str = ""
    timestamp_signup: str = omitted_when_unset()
    ip_opt: str = ""
    timestamp_opt: str = omitted_when_unset()
    member_rating: int = 2
    last_changed: str
    language: str = ""
    vip: bool = False
    email_client: str = ""
    location: dict[str, Any] = Field(default_factory=dict)
    marketing_permissions: list[MemberMarketingPermission] = Field(default_factory=list)
    source: str = "API - Generic"
    tags: list[MemberTag] = Field(default_factory=list)
    list_id: str
    status_before_archive: MemberStatus | None = Field(default=None, exclude=True)


# A webhook's events and sources are given in its body as they are answered (`Add_Webhook`):
# booleans, strictly (`BodyIn`).
class WebhookEvents(BodyIn):
    subscribe: bool = True
    unsubscribe: bool = True
    profile: bool = True
    cleaned: bool = True
    upemail: bool = True
    campaign: bool = True


class WebhookSources(BodyIn):
    user: bool = True
    admin: bool = True
    api: bool = False


class ListWebhook(BaseModel):
    id: str
    url: str
    events: WebhookEvents = Field(default_factory=WebhookEvents)
    sources: WebhookSources = Field(default_factory=WebhookSources)
    list_id: str


class AudienceList(BaseModel):
    """A list ("audience"); ``stats`` is computed when rendered."""

    id: str
    web_id: int
    name: str
    contact: dict[str, Any]
    permission_reminder: str
    use_archive_bar: bool = False
    campaign_defaults: dict[str, Any]
    notify_on_subscribe: str = ""
    notify_on_unsubscribe: str = ""
    date_created: str
    list_rating: int = 0
    email_type_option: bool
    subscribe_url_short: str
    subscribe_url_long: str
    beamer_address: str
    visibility: str = "prv"
    double_optin: bool = False
    has_welcome: bool = False
    marketing_permissions: bool = False
    modules: list[str] = Field(default_factory=list)


class Store(BaseModel):
    id: str
    list_id: str
    name: str
    platform: str = ""
    domain: str = ""
    is_syncing: bool = False
    email_address: str = ""
    currency_code: str
    money_format: str = ""
    primary_locale: str = ""
    timezone: str = ""
    phone: str = ""
    address: dict[str, Any] = Field(default_factory=dict)
    list_is_active: bool = True
    created_at: str
    updated_at: str


class Customer(BaseModel):
    id: str
    email_address: str
    opt_in_status: bool
    company: str = ""
    first_name: str = ""
    last_name: str = ""
    orders_count: int = 0
    total_spent: float = 0.0
    address: dict[str, Any] = Field(default_factory=dict)
    created_at: str
    updated_at: str


class Variant(BaseModel):
    id: str
    title: str
    url: str = ""
    sku: str = ""
    price: float = 0.0
    inventory_quantity: int = 0
    image_url: str = ""
    backorders: str = ""
    visibility: str = ""
    created_at: str
    updated_at: str


class ProductImage(BaseModel):
    id: str
    url: str
    variant_ids: list[str] = Field(default_factory=list)


class Product(OmitsUnset):
    omit_when_unset = ("published_at_foreign",)

    id: str
    currency_code: str
    title: str
    handle: str = ""
    url: str = ""
    description: str = ""
    type: str = ""
    vendor: str = ""
    image_url: str = ""
    variants: list[Variant] = Field(default_factory=list)
    images: list[ProductImage] = Field(default_factory=list)
    published_at_foreign: str = omitted_when_unset()


class Line(BaseModel):
    """An order or cart line; titles are filled in from the referenced product/variant."""

    id: str
    product_id: str
    product_title: str = ""
    product_variant_id: str
    product_variant_title: str = ""
    image_url: str = ""
    quantity: int
    price: float
    discount: float = 0.0


class Order(OmitsUnset):
    omit_when_unset = (
        "tracking_code",
        "processed_at_foreign",
        "cancelled_at_foreign",
        "updated_at_foreign",
    )

    id: str
    customer: Customer
    store_id: str
    campaign_id: str = ""
    landing_site: str = ""
    financial_status: str = ""
    fulfillment_status: str = ""
    currency_code: str
    order_total: float
    order_url: str = ""
    discount_total: float = 0.0
    tax_total: float = 0.0
    shipping_total: float = 0.0
    tracking_code: str = omitted_when_unset()
    processed_at_foreign: str = omitted_when_unset()
    cancelled_at_foreign: str = omitted_when_unset()
    updated_at_foreign: str = omitted_when_unset()
    shipping_address: dict[str, Any] = Field(default_factory=dict)
    billing_address: dict[str, Any] = Field(default_factory=dict)
    promos: list[dict[str, Any]] = Field(default_factory=list)
    lines: list[Line] = Field(default_factory=list)
    tracking_number: str = ""
    tracking_carrier: str = ""
    tracking_url: str = ""


class Cart(BaseModel):
    id: str
    customer: Customer
    campaign_id: str = ""
    checkout_url: str = ""
    currency_code: str
    order_total: float
    tax_total: float = 0.0
    lines: list[Line] = Field(default_factory=list)
    created_at: str
    updated_at: str


class LoggedRequest(BaseModel):
    """One request the Marketing API saw (direct or as a batch operation)."""

    method: str
    path: str
    query: dict[str, str]
    body: Any = None
    status: int
    account_id: str | None
    via: Literal["http", "batch"] = "http"
    at: float
