"""Domain models of the Saleor sandbox store (pydantic).

They mirror the Saleor objects an app sees through the API: channels, customers (``User``),
products with variants and per-channel pricing, checkouts, orders, apps and their webhooks.
Primary keys are integers (Saleor uses integers for most objects); ``global_id`` renders the
Relay ID exactly as Saleor does. Monetary amounts are :class:`~decimal.Decimal`.

Orders, with their lines, discounts, payments and fulfilments, are in ``order_models``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from .ids import to_global_id


def utcnow() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return datetime.now(UTC)


# saleor/site/models.py DEFAULT_LIMIT_QUANTITY_PER_CHECKOUT: the site's limit, which the sandbox
# keeps at Saleor's default.
LIMIT_QUANTITY_PER_CHECKOUT = 50


class CreationWrites:
    """How many times an order's `created` or a customer's `date_joined` was assigned (the
    generator and tests backdate them after making them): the store's creation indexes are
    rebuilt when it moved."""

    count = 0


class SortWrites:
    """How many times another field a listing is sorted by was assigned (an order's status; a
    product's name, slug or creation time; see orderings.py): the store's sorted listings are
    made again when it moved."""

    count = 0


class EmailWrites:
    """How many times a customer's `email` was assigned (an e-mail change, anywhere): the
    store's index of customers by e-mail is rebuilt when it moved."""

    count = 0


class SandboxModel(BaseModel):
    """Base class: validated on assignment so that updates stay well-typed."""

    model_config = ConfigDict(validate_assignment=True, extra="forbid")


class Node(SandboxModel):
    """An object with an integer pk and a Saleor global ID."""

    graphql_type: ClassVar[str] = ""
    id: int

    @property
    def global_id(self) -> str:
        return to_global_id(self.graphql_type or type(self).__name__, self.id)


class WithMetadata(Node):
    """An object carrying Saleor public and private metadata."""

    metadata: dict[str, str] = Field(default_factory=dict)
    private_metadata: dict[str, str] = Field(default_factory=dict)


class Channel(WithMetadata):
    graphql_type: ClassVar[str] = "Channel"
    slug: str
    name: str
    currency_code: str = "USD"
    default_country: str = "US"
    is_active: bool = True
    # `orderSettings.automaticallyConfirmAllNewOrders` (saleor/channel/models.py, default on).
    automatically_confirm_all_new_orders: bool = True
    # `checkoutSettings.allowUnpaidOrders` (saleor/channel/models.py `allow_unpaid_orders`,
    # default off, at 3.20.119 and 723cd4e): `checkoutComplete` of a checkout its payments do
    # not cover makes an unpaid order instead of refusing.
    allow_unpaid_orders: bool = False
    # `use_legacy_line_discount_propagation_for_order` (saleor/channel/models.py:68 at 723cd4e,
    # default True; 3.21+): how an order placed from a checkout shows a line-level voucher
    # (checkout_vouchers.py `placed_line_voucher`).
    use_legacy_line_discount_propagation_for_order: bool = True


class Address(WithMetadata):
    graphql_type: ClassVar[str] = "Address"
    first_name: str = ""
    last_name: str = ""
    company_name: str = ""
    street_address_1: str = ""
    street_address_2: str = ""
    city: str = ""
    city_area: str = ""
    postal_code: str = ""
    country: str = "US"
    country_area: str = ""
    phone: str | None = None


class Customer(WithMetadata):
    """A shop customer (Saleor ``User``)."""

    graphql_type: ClassVar[str] = "User"
    email: str
    first_name: str = ""
    last_name: str = ""
    is_active: bool = True
    is_confirmed: bool = True
    is_staff: bool = False
    note: str | None = None
    language_code: str = "EN"
    addresses: list[Address] = Field(default_factory=list)
    default_shipping_address_id: int | None = None
    default_billing_address_id: int | None = None
    date_joined: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    last_login: datetime | None = None
    jwt_token_key: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])

    def __setattr__(self, name: str, value: object) -> None:
        super().__setattr__(name, value)
        if name == "date_joined":
            CreationWrites.count += 1
        elif name == "email":
            EmailWrites.count += 1


class ProductType(Node):
    graphql_type: ClassVar[str] = "ProductType"
    name: str
    slug: str
    has_variants: bool = True
    is_shipping_required: bool = True
    tax_class_id: int | None = None  # its products' unless theirs is set (store_taxes.py)


class Category(Node):
    graphql_type: ClassVar[str] = "Category"
    name: str
    slug: str
    parent_id: int | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class MediaType(StrEnum):
    IMAGE = "IMAGE"
    VIDEO = "VIDEO"


class ProductMedia(Node):
    graphql_type: ClassVar[str] = "ProductMedia"
    url: str
    alt: str = ""
    type: MediaType = MediaType.IMAGE
    sort_order: int = 0


class VariantChannelListing(Node):
    """A variant's price in one channel (currency = the channel's)."""

    graphql_type: ClassVar[str] = "ProductVariantChannelListing"
    channel_id: int
    price: Decimal
    cost_price: Decimal | None = None
    currency: str
    # The price with the best catalogue promotion off, as Saleor's periodic recalculation last
    # stored it (`promotions.py`); None until one ran: the price.
    discounted_price: Decimal | None = None
    # Preorder in this channel (saleor/product/models.py `ProductVariantChannelListing`,
    # 3.20.119): its `preorder_quantity_threshold` (None: no channel limit), and the units its
    # `PreorderAllocation`s hold (sold during the preorder: `PreorderThreshold.soldUnits`).
    preorder_threshold: int | None = None
    preorder_sold: int = 0


class ProductVariant(WithMetadata):
    graphql_type: ClassVar[str] = "ProductVariant"
    product_id: int
    name: str = ""
    sku: str | None = None
    channel_listings: list[VariantChannelListing] = Field(default_factory=list)
    track_inventory: bool = True
    # How many one checkout may hold (`quantity_limit_per_customer`; None: the site's
    # `limit_quantity_per_checkout`), checked by checkoutCreate (saleor/warehouse/availability.py
    # `_check_quantity_limits`).
    quantity_limit_per_customer: int | None = None
    # The product's media assigned to this variant (Saleor's `VariantMedia`), e.g. its colour.
    media_ids: list[int] = Field(default_factory=list)
    # Its stock row in the sandbox's one warehouse: whether it has one
    # (`productVariantStocksCreate` makes it, `productVariantStocksDelete` removes it), its
    # quantity and what orders allocate of it.
    stocked: bool = True
    quantity: int = 0
    quantity_allocated: int = 0
    # Preorder (saleor/product/models.py `ProductVariant`, 3.20.119): sold without stock while
    # active, up to its thresholds (this global one, each channel listing's).
    is_preorder: bool = False
    preorder_end_date: datetime | None = None
    preorder_global_threshold: int | None = None
    created: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    def listing_for(self, channel_id: int) -> VariantChannelListing | None:
        return next((cl for cl in self.channel_listings if cl.channel_id == channel_id), None)

    def is_preorder_active(self, now: datetime) -> bool:
        """`ProductVariant.is_preorder_active`: on preorder, and its end date (if any) not
        passed; Saleor's hourly `deactivate_preorder_for_variants_task` clears it later, with
        no webhook (saleor/product/tasks.py, 3.20.119)."""
        end = self.preorder_end_date
        return self.is_preorder and (end is None or now <= end)

    @property
    def quantity_available(self) -> int:
        return max(self.quantity - self.quantity_allocated, 0)

    @property
    def quantity_for_one_checkout(self) -> int:
        """`ProductVariant.quantityAvailable` ("available for sale in one checkout"): the
        site's limit for a variant whose stock is not tracked, else its stock capped by that
        limit (saleor/graphql/product/types/products.py `resolve_quantity_available`,
        saleor/graphql/warehouse/dataloaders.py
        `AvailableQuantityByProductVariantIdAndChannelSlugLoader`; the same at 3.20.119)."""
        if not self.track_inventory:
            return LIMIT_QUANTITY_PER_CHECKOUT
        return min(self.quantity_available, LIMIT_QUANTITY_PER_CHECKOUT)


class ProductAttribute(SandboxModel):
    """An attribute assigned to a product with its values (Saleor's `SelectedAttribute`), e.g.
    slug "brand", values ["Acme"]; apps and staff see all, shoppers only the visible ones."""

    slug: str
    name: str
    values: list[str] = Field(default_factory=list)
    visible_in_storefront: bool = True


class ProductPublication(SandboxModel):
    """How a product is offered in one channel it is listed in: the publication fields of its
    `ProductChannelListing` (saleor/product/models.py, `PublishableModel` in
    saleor/core/models.py). Customers see it once published (`is_visible`) and can buy it once
    available (`is_available_for_purchase`: never while `available_for_purchase_at` is None)."""

    is_published: bool = True
    published_at: datetime | None = None
    visible_in_listings: bool = True
    available_for_purchase_at: datetime | None = None

    def is_visible(self, now: datetime) -> bool:
        return self.is_published and (self.published_at is None or self.published_at <= now)

    def is_available_for_purchase(self, now: datetime) -> bool:
        return self.available_for_purchase_at is not None and now >= self.available_for_purchase_at


class Product(WithMetadata):
    graphql_type: ClassVar[str] = "Product"
    name: str
    slug: str
    description: str | None = None
    """Editor.js JSON string, as Saleor stores rich text."""
    seo_title: str | None = None
    seo_description: str | None = None
    product_type_id: int
    category_id: int | None = None
    tax_class_id: int | None = None  # None: its product type's (store_taxes.py)
    attributes: list[ProductAttribute] = Field(default_factory=list)
    media: list[ProductMedia] = Field(default_factory=list)
    variants: list[ProductVariant] = Field(default_factory=list)
    channel_ids: list[int] = Field(default_factory=list)
    """Channels the product is listed in (has a `ProductChannelListing` in)."""
    # Its publication where it differs from the sandbox's default: published, and available
    # for purchase long since (`publication_in`).
    publications: dict[int, ProductPublication] = Field(default_factory=dict)
    created: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    def __setattr__(self, name: str, value: object) -> None:
        super().__setattr__(name, value)
        if name in ("name", "slug", "created"):  # ProductOrderField.CREATED_AT's, and "slug"
            SortWrites.count += 1

    def publication_in(self, channel_id: int) -> ProductPublication:
        return self.publications.get(channel_id) or ON_SALE


# The sandbox's products are on sale from a date before any clock a test sets (the app's
# clock may be held at the moment a test began, before its products were made).
ON_SALE = ProductPublication(available_for_purchase_at=datetime(2000, 1, 1, tzinfo=UTC))


class CheckoutLine(WithMetadata):
    graphql_type: ClassVar[str] = "CheckoutLine"
    variant_id: int
    quantity: int


class CheckoutTransaction(SandboxModel):
    """A payment app's transaction on a checkout: what it charged and authorized. The order
    made of the checkout gets it as a `TransactionItem` (`payment_actions.adopt_transaction`)."""

    name: str = "Sandbox payment app"
    charged: Decimal = Decimal("0")
    authorized: Decimal = Decimal("0")


class Checkout(WithMetadata):
    graphql_type: ClassVar[str] = "Checkout"
    token: uuid.UUID = Field(default_factory=uuid.uuid4)
    email: str | None = None
    user_id: int | None = None
    channel_id: int
    lines: list[CheckoutLine] = Field(default_factory=list)
    shipping_price: Decimal = Decimal("0")
    billing_address: Address | None = None
    shipping_address: Address | None = None
    customer_note: str = ""
    # The balance of the gift cards the shopper added (`checkoutAddPromoCode` with a card's
    # code): `totalPrice` is net of it, and so is the order's total
    # (saleor/checkout/calculations.py `calculate_checkout_total_with_gift_cards`).
    gift_card_balance: Decimal = Decimal("0")
    # The voucher code applied (`checkoutAddPromoCode`; saleor/checkout/models.py
    # `Checkout.voucher_code`): prices follow from it (`checkout_vouchers`).
    voucher_code: str | None = None
    # Its payment apps' transactions (`transactionCreate` on the checkout): its payment
    # statuses follow from their sums (`checkout_payments`), and `checkoutComplete` moves them
    # to the order.
    transactions: list[CheckoutTransaction] = Field(default_factory=list)
    created: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    last_change: datetime = Field(default_factory=utcnow)
    completed_order_id: int | None = None

    @property
    def transactions_charged(self) -> Decimal:
        """The transactions' charged (and charge-pending) amounts."""
        return sum((t.charged for t in self.transactions), Decimal("0"))

    @property
    def transactions_authorized(self) -> Decimal:
        """The transactions' authorized (and authorize-pending) amounts."""
        return sum((t.authorized for t in self.transactions), Decimal("0"))

    @property
    def global_id(self) -> str:
        # Saleor's Checkout is keyed by its token.
        return to_global_id("Checkout", str(self.token))


class WebhookConfig(Node):
    """A webhook of an installed app (from its manifest)."""

    graphql_type: ClassVar[str] = "Webhook"
    app_id: int
    name: str | None = None  # Saleor's is nullable (a webhook made without one)
    target_url: str
    is_active: bool = True
    async_events: list[str] = Field(default_factory=list)
    sync_events: list[str] = Field(default_factory=list)
    query: str | None = None
    # Saleor's column is nullable (saleor/webhook/models.py `Webhook.custom_headers`): a
    # `customHeaders` Saleor could not parse is stored as null (`app_webhooks`).
    custom_headers: dict[str, str] | None = Field(default_factory=dict)


class SandboxApp(WithMetadata):
    """An installed app (Saleor ``App``), with its auth token and webhooks."""

    graphql_type: ClassVar[str] = "App"
    name: str
    identifier: str | None = None
    version: str | None = None
    permissions: list[str] = Field(default_factory=list)
    manifest_url: str | None = None
    manifest: dict[str, object] = Field(default_factory=dict)
    app_url: str | None = None
    token_target_url: str | None = None
    about_app: str | None = None
    homepage_url: str | None = None
    support_url: str | None = None
    data_privacy_url: str | None = None
    author: str | None = None
    is_active: bool = True
    auth_token: str = ""
    created: datetime = Field(default_factory=utcnow)
    webhooks: list[WebhookConfig] = Field(default_factory=list)
