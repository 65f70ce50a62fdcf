"""Pydantic models of Saleor's answers to e-commerce's documents
(addon/saleor/queries/ecommerce_*.graphql): channels, products and their variants and
publications, customers, orders and checkouts, read by their GraphQL names (the aliases) and
frozen once read. The promo codes' are in `promo_schemas.py`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from addon.ecommerce.amounts import quantize
from addon.ecommerce.preorder import PreorderData, PreorderThreshold


class SaleorModel(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)


class Amount(SaleorModel):
    amount: Decimal


class TaxedAmount(SaleorModel):
    currency: str = ""
    gross: Amount
    tax: Amount | None = None


class GrossOnly(SaleorModel):
    gross: Amount


class Country(SaleorModel):
    code: str
    country: str = ""


class SaleorAddress(SaleorModel):
    first_name: str = Field("", alias="firstName")
    last_name: str = Field("", alias="lastName")
    company_name: str = Field("", alias="companyName")
    street_address_1: str = Field("", alias="streetAddress1")
    street_address_2: str = Field("", alias="streetAddress2")
    city: str = ""
    postal_code: str = Field("", alias="postalCode")
    country: Country | None = None
    country_area: str = Field("", alias="countryArea")
    phone: str | None = None


class SaleorChannel(SaleorModel):
    id: str | None = None
    slug: str
    name: str = ""
    currency_code: str = Field("", alias="currencyCode")
    is_active: bool = Field(True, alias="isActive")
    default_country: Country | None = Field(None, alias="defaultCountry")
    # The channel's own store language and time zone, if the admin set them in its metadata
    # (Saleor's Channel has neither field: `marketing.store_locale`).
    store_metadata: dict[str, str] | None = Field(None, alias="storeMetadata")


class ChannelRef(SaleorModel):
    id: str | None = None
    slug: str
    name: str = ""
    currency_code: str = Field("", alias="currencyCode")


class PriceEntry(SaleorModel):
    prices_entered_with_tax: bool = Field(True, alias="pricesEnteredWithTax")


class OrderChannel(ChannelRef):
    # How its prices are entered (`Channel.taxConfiguration`, staff and apps).
    tax_configuration: PriceEntry | None = Field(None, alias="taxConfiguration")


class NamedRef(SaleorModel):
    name: str = ""


class IdRef(SaleorModel):
    id: str


class TransactionEventRef(SaleorModel):
    type: str
    psp_reference: str | None = Field(None, alias="pspReference")
    amount: Amount | None = None


class OrderTransaction(SaleorModel):
    """A payment app's transaction of an order: what it refunded, and whether it ever charged
    (a refund staff record by hand is a transaction of a refund alone: `payment_state.py`)."""

    id: str
    refunded_amount: Amount = Field(alias="refundedAmount")
    events: list[TransactionEventRef] = Field(default_factory=list)


class Image(SaleorModel):
    url: str


class ListingChannel(SaleorModel):
    slug: str
    id: str | None = None  # asked where the channel must be the store's (`channel_presence`)
    is_active: bool = Field(True, alias="isActive")  # asked by `ProductPublication`


class ChannelListing(SaleorModel):
    channel: ListingChannel
    price: Amount | None = None
    preorder_threshold: PreorderThreshold | None = Field(None, alias="preorderThreshold")


class AttributeRef(SaleorModel):
    slug: str | None = None  # nullable on Saleor 3.20
    name: str | None = None


class AttributeValue(SaleorModel):
    name: str | None = None


class SelectedAttribute(SaleorModel):
    attribute: AttributeRef
    values: list[AttributeValue] = Field(default_factory=list)


class StockLevel(SaleorModel):
    quantity: int = 0
    quantity_allocated: int = Field(0, alias="quantityAllocated")


class VariantMedia(SaleorModel):
    type: str = "IMAGE"
    url: str


class NetAndGross(SaleorModel):
    net: Amount
    gross: Amount


class VariantPricing(SaleorModel):
    """`VariantPricingInfo`: the price with a catalogue promotion off."""

    price: NetAndGross | None = None


class ProductPricing(SaleorModel):
    """`ProductPricingInfo`: whether the channel's storefront shows prices with tax (its tax
    configuration for the channel's default country)."""

    display_gross_prices: bool = Field(True, alias="displayGrossPrices")


class SaleorVariant(SaleorModel):
    id: str
    name: str = ""
    sku: str | None = None
    media: list[VariantMedia] | None = None
    track_inventory: bool = Field(True, alias="trackInventory")
    # The channel's warehouses' stock (Saleor answers `stocks` in the channel's context);
    # None when not read.
    stocks: list[StockLevel] | None = None
    preorder: PreorderData | None = None  # while its preorder is active (`preorder.py`)
    channel_listings: list[ChannelListing] | None = Field(None, alias="channelListings")
    pricing: VariantPricing | None = None


class ProductPublication(SaleorModel):
    """A product's `ProductChannelListing`: how it is offered in one channel."""

    channel: ListingChannel
    is_published: bool = Field(alias="isPublished")
    visible_in_listings: bool = Field(True, alias="visibleInListings")
    published_at: datetime | None = Field(None, alias="publishedAt")
    available_for_purchase_at: datetime | None = Field(None, alias="availableForPurchaseAt")


class SaleorProduct(SaleorModel):
    id: str
    name: str
    slug: str
    description: str | None = None
    updated_at: datetime | None = Field(None, alias="updatedAt")
    product_type: NamedRef | None = Field(None, alias="productType")
    category: NamedRef | None = None
    attributes: list[SelectedAttribute] = Field(default_factory=list)
    # The metadata keys the vendor and type settings read (`$productKeys`).
    metafields: dict[str, str] | None = None
    private_metafields: dict[str, str] | None = Field(None, alias="privateMetafields")
    thumbnail: Image | None = None
    variants: list[SaleorVariant] | None = None
    channel_listings: list[ProductPublication] | None = Field(None, alias="channelListings")
    pricing: ProductPricing | None = None  # None when not sold in the channel


class SaleorUser(SaleorModel):
    id: str
    email: str
    first_name: str = Field("", alias="firstName")
    last_name: str = Field("", alias="lastName")
    default_billing_address: SaleorAddress | None = Field(None, alias="defaultBillingAddress")
    consent: dict[str, str] | None = None  # the shopper's recorded marketing consent
    updated_at: datetime | None = Field(None, alias="updatedAt")  # a customer's (not a buyer's)
    last_login: datetime | None = Field(None, alias="lastLogin")  # a customer's last sign-in


class LineVariant(SaleorModel):
    id: str
    product: IdRef


class LineDiscount(SaleorModel):
    total: Amount
    type: str = "VOUCHER"  # SALE, VOUCHER, MANUAL, PROMOTION, ORDER_PROMOTION
    value_type: str = Field("FIXED", alias="valueType")


class SaleorOrderLine(SaleorModel):
    id: str
    quantity: int
    total_price: GrossOnly = Field(alias="totalPrice")
    undiscounted_total_price: GrossOnly = Field(alias="undiscountedTotalPrice")
    # None once the variant is deleted (saleor/order/models.py `OrderLine.variant`, SET_NULL);
    # the copies below stay: the variant's global id as a string, its names, SKU and price.
    variant: LineVariant | None = None
    product_variant_id: str | None = Field(None, alias="productVariantId")
    product_name: str = Field("", alias="productName")
    variant_name: str = Field("", alias="variantName")
    product_sku: str | None = Field(None, alias="productSku")
    unit_price: GrossOnly | None = Field(None, alias="unitPrice")
    voucher_code: str | None = Field(None, alias="voucherCode")
    # The line's own discounts (a catalogue promotion's, a line-level voucher's: `OrderLine.
    # discounts`); None where Saleor has no such field (before 3.21) or it was not asked for.
    discounts: list[LineDiscount] | None = None


class OrderDiscount(SaleorModel):
    amount: Amount
    type: str = "VOUCHER"  # SALE, VOUCHER, MANUAL, PROMOTION, ORDER_PROMOTION
    value_type: str = Field("FIXED", alias="valueType")


class OrderVoucher(SaleorModel):
    id: str
    type: str = "ENTIRE_ORDER"  # SHIPPING, ENTIRE_ORDER, SPECIFIC_PRODUCT
    discount_value_type: str = Field("FIXED", alias="discountValueType")


class SaleorFulfillment(SaleorModel):
    fulfillment_order: int = Field(0, alias="fulfillmentOrder")
    status: str
    tracking_number: str = Field("", alias="trackingNumber")
    created: datetime


class OrderEventRef(SaleorModel):
    """One of an order's events (`Order.events`, MANAGE_ORDERS): what happened, and when.
    Both nullable in Saleor's schema."""

    type: str | None = None
    date: datetime | None = None


# The event that makes an order of a draft, and those that end an order unsold, each named as
# the status it gives (Saleor's `OrderEventsEnum`; saleor/order/events.py `order_created_event`,
# `order_canceled_event`; saleor/order/tasks.py `_order_expired_events`).
PLACED_FROM_DRAFT = "PLACED_FROM_DRAFT"
ENDED_EVENTS = ("CANCELED", "EXPIRED")


class SaleorOrder(SaleorModel):
    id: str
    number: str
    created: datetime
    updated_at: datetime = Field(alias="updatedAt")
    status: str
    # CHECKOUT, DRAFT, REISSUE or BULK_CREATE (`orderBulkCreate`: an import, no new purchase).
    origin: str
    # Payment state (see sale_payloads.financial_status): the amounts are net of refunds for both
    # payment models; `paymentStatus` shows refunds only for legacy payments.
    payment_status: str = Field(alias="paymentStatus")
    charge_status: str = Field(alias="chargeStatus")
    transactions: list[OrderTransaction] = Field(default_factory=list)
    payments: list[IdRef] = Field(default_factory=list)
    total_charged: Amount = Field(alias="totalCharged")
    total_refunded: Amount = Field(alias="totalRefunded")
    total_refund_pending: Amount = Field(alias="totalRefundPending")
    # Refunds staff granted (`orderGrantRefundCreate`), sent to the payment app or not.
    total_granted_refund: Amount = Field(
        default_factory=lambda: Amount(amount=Decimal(0)), alias="totalGrantedRefund"
    )
    user_email: str | None = Field(None, alias="userEmail")
    user: SaleorUser | None = None
    channel: OrderChannel
    checkout_id: str | None = Field(None, alias="checkoutId")
    total: TaxedAmount
    undiscounted_total: GrossOnly = Field(alias="undiscountedTotal")
    subtotal: TaxedAmount
    shipping_price: TaxedAmount = Field(alias="shippingPrice")
    # The shipping price before discounts, as entered (net where the channel enters prices
    # without tax; nullable on 3.20): a shipping voucher's discount shows here once its voucher
    # is deleted (`voucher` becomes null).
    undiscounted_shipping_price: Amount | None = Field(None, alias="undiscountedShippingPrice")
    shipping_tax_rate: Decimal = Field(Decimal(0), alias="shippingTaxRate")  # a fraction
    voucher_code: str | None = Field(None, alias="voucherCode")
    voucher: OrderVoucher | None = None
    discounts: list[OrderDiscount] = Field(default_factory=list)
    attribution: dict[str, str] | None = None
    consent: dict[str, str] | None = None
    billing_address: SaleorAddress | None = Field(None, alias="billingAddress")
    shipping_address: SaleorAddress | None = Field(None, alias="shippingAddress")
    shipping_method_name: str | None = Field(None, alias="shippingMethodName")
    fulfillments: list[SaleorFulfillment] = Field(default_factory=list)
    lines: list[SaleorOrderLine]
    # When it was placed from a draft, cancelled or expired (`placed`, `ended`).
    events: list[OrderEventRef] = Field(default_factory=list)

    def _first(self, event_type: str) -> datetime | None:
        return next((e.date for e in self.events if e.type == event_type and e.date), None)

    @property
    def placed(self) -> datetime:
        """When it became an order: a draft's completion (its PLACED_FROM_DRAFT event), not the
        draft's creation, which `draftOrderComplete` keeps as the order's `created`
        (saleor/graphql/order/mutations/draft_order_complete.py saves `status` and
        `updated_at` only; saleor/order/actions.py `order_created(from_draft=True)` records
        the event). Any other order was placed when it was created."""
        return self._first(PLACED_FROM_DRAFT) or self.created

    @property
    def ended(self) -> datetime | None:
        """When it was cancelled or expired: the date of the event that did it (saleor/order/
        actions.py `cancel_order`, saleor/order/tasks.py `_expire_orders`), which no later save
        moves, as it does `updatedAt`. None: not ended, or ended without one (an import,
        `orderBulkCreate`, records none)."""
        return self._first(self.status) if self.status in ENDED_EVENTS else None

    @property
    def undiscounted_shipping_gross(self) -> Decimal | None:
        """`undiscountedShippingPrice`, the base price as entered on every path (Saleor's
        `undiscounted_base_shipping_price`; null on 3.20 at times), as gross: where the channel
        enters prices without tax, taxed at the order's shipping rate, rounded half up as
        Saleor taxes it (saleor/tax/calculations/__init__.py `calculate_flat_rate_tax`). The
        channel's setting is read now: one changed since the order was placed misreads it."""
        base = self.undiscounted_shipping_price
        if base is None:
            return None
        entry = self.channel.tax_configuration
        if entry is None or entry.prices_entered_with_tax:
            return base.amount
        currency = self.total.currency or self.channel.currency_code
        return quantize(base.amount * (1 + self.shipping_tax_rate), currency)

    def _last(self, event_type: str) -> datetime | None:
        return max((e.date for e in self.events if e.type == event_type and e.date), default=None)

    @property
    def shipment_cancelled(self) -> datetime | None:
        """When a shipment was last cancelled (`fulfillmentCancel` records FULFILLMENT_CANCELED:
        saleor/order/actions.py `cancel_fulfillment`); None: never."""
        return self._last("FULFILLMENT_CANCELED")

    @property
    def last_shipped(self) -> datetime | None:
        """When items were last shipped: FULFILLMENT_FULFILLED_ITEMS, recorded when a shipment
        is made or approved (saleor/order/actions.py `order_fulfilled`, which an approval runs
        too, a shipment's `created` staying its request's); else the newest shipment's
        creation."""
        shipped = [f.created for f in self.fulfillments if f.status == "FULFILLED"]
        return self._last("FULFILLMENT_FULFILLED_ITEMS") or max(shipped, default=None)


class PlacedOrder(SaleorModel):
    status: str
    channel: ChannelRef


class _PlacedEdge(SaleorModel):
    node: PlacedOrder


class _Placed(SaleorModel):
    edges: list[_PlacedEdge]


class ShopperChannels(SaleorModel):
    """A customer and their orders' channels (`customer_order_channels.graphql`)."""

    id: str
    orders: _Placed

    def bought_in(self) -> set[str]:
        """The channels of their orders; not drafts, which are staff's."""
        return {edge.node.channel.slug for edge in self.orders.edges if edge.node.status != "DRAFT"}
