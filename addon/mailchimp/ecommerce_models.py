"""Typed shapes of the Mailchimp e-commerce resources (stores, customers, products, orders,
carts); see `models.py` for the conventions of response and request models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import ConfigDict, Field

from .models import MailchimpInput, MailchimpResource


class Address(MailchimpInput):
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    province: str | None = None
    province_code: str | None = None
    postal_code: str | None = None
    country: str | None = None
    country_code: str | None = None


class ReadAddress(Address):
    """An address as Mailchimp answers it (any field it adds is ignored, not an error)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class StoreAddress(Address):
    longitude: float | None = None
    latitude: float | None = None


class OrderAddress(StoreAddress):
    name: str | None = None
    phone: str | None = None
    company: str | None = None


class StorePatch(MailchimpInput):
    name: str | None = None
    platform: str | None = None
    domain: str | None = None
    is_syncing: bool | None = None
    email_address: str | None = None
    currency_code: str | None = None
    money_format: str | None = None
    primary_locale: str | None = None
    timezone: str | None = None
    phone: str | None = None
    address: StoreAddress | None = None


class StoreInput(StorePatch):
    id: str
    list_id: str
    name: str
    currency_code: str


class Store(MailchimpResource):
    id: str
    list_id: str = ""
    name: str = ""
    platform: str = ""
    domain: str = ""
    is_syncing: bool = False
    email_address: str = ""
    currency_code: str = ""


class CustomerPatch(MailchimpInput):
    opt_in_status: bool | None = None
    company: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    address: Address | None = None


class CustomerInput(CustomerPatch):
    """A customer to create or upsert (``opt_in_status`` is required there by the spec)."""

    id: str
    email_address: str
    opt_in_status: bool


class CustomerRef(CustomerPatch):
    """The ``customer`` of an order or cart: ``id`` required, ``email_address`` optional."""

    id: str
    email_address: str | None = None


class Customer(MailchimpResource):
    id: str
    email_address: str = ""
    opt_in_status: bool = False
    company: str | None = None
    first_name: str = ""
    last_name: str = ""
    address: ReadAddress | None = None
    orders_count: int = 0
    total_spent: float = 0


class OrderRef(MailchimpResource):
    id: str
    processed_at_foreign: str = ""


class OrderRefPage(MailchimpResource):
    orders: list[OrderRef] = Field(default_factory=list)
    total_items: int = 0


class CartRef(MailchimpResource):
    id: str


class CartRefPage(MailchimpResource):
    carts: list[CartRef] = Field(default_factory=list)
    total_items: int = 0


class CustomerPage(MailchimpResource):
    customers: list[Customer] = Field(default_factory=list)
    total_items: int = 0


class ProductVariantPatch(MailchimpInput):
    title: str | None = None
    url: str | None = None
    sku: str | None = None
    price: float | None = None
    inventory_quantity: int | None = None
    image_url: str | None = None
    backorders: str | None = None
    visibility: str | None = None


class ProductVariantInput(ProductVariantPatch):
    id: str
    title: str


class ProductImageInput(MailchimpInput):
    id: str
    url: str
    variant_ids: list[str] | None = None


class ProductPatch(MailchimpInput):
    title: str | None = None
    handle: str | None = None
    url: str | None = None
    description: str | None = None
    type: str | None = None
    vendor: str | None = None
    image_url: str | None = None
    images: list[ProductImageInput] | None = None
    published_at_foreign: str | None = None


class ProductInput(ProductPatch):
    id: str
    title: str
    variants: list[ProductVariantInput]


class ProductVariant(MailchimpResource):
    id: str
    title: str = ""
    sku: str = ""
    price: float | None = None
    inventory_quantity: int | None = None


class Product(MailchimpResource):
    id: str
    title: str = ""
    url: str = ""
    variants: list[ProductVariant] = Field(default_factory=list)


class Promo(MailchimpInput):
    code: str
    amount_discounted: float
    type: Literal["fixed", "percentage"]


class CartLinePatch(MailchimpInput):
    product_id: str | None = None
    product_variant_id: str | None = None
    quantity: int | None = None
    price: float | None = None


class OrderLinePatch(CartLinePatch):
    discount: float | None = None


class _LineInput(MailchimpInput):
    """What creating a line of an order or cart requires."""

    id: str
    product_id: str
    product_variant_id: str
    quantity: int
    price: float


class CartLineInput(_LineInput, CartLinePatch):
    pass


class OrderLineInput(_LineInput, OrderLinePatch):
    pass


class _SalePatch(MailchimpInput):
    """What an order and a cart have in common."""

    customer: CustomerPatch | None = None
    campaign_id: str | None = None
    currency_code: str | None = None
    order_total: float | None = None
    tax_total: float | None = None


class _SaleInput(MailchimpInput):
    """What creating an order or a cart requires (besides its lines)."""

    id: str
    customer: CustomerRef
    currency_code: str
    order_total: float


class OrderPatch(_SalePatch):
    landing_site: str | None = None
    financial_status: str | None = None
    fulfillment_status: str | None = None
    order_url: str | None = None
    discount_total: float | None = None
    shipping_total: float | None = None
    processed_at_foreign: str | None = None
    cancelled_at_foreign: str | None = None
    updated_at_foreign: str | None = None
    shipping_address: OrderAddress | None = None
    billing_address: OrderAddress | None = None
    promos: list[Promo] | None = None
    # Each names its line by id: Mailchimp updates the order's line of that id, or adds it
    # (whole, as a new line must be), and keeps the lines not named; those gone are deleted one
    # by one (`delete_order_line`). The spec types these lines without an `id`
    # (`E_commerce_Order_2.lines`), yet both official integrations send it and rely on this
    # (mc-woocommerce `updateStoreOrder`, mc-magento2 `Model/Api/Order.php`, a PATCH of the
    # whole order with its lines).
    lines: Sequence[OrderLineInput] | None = None
    tracking_number: str | None = None
    tracking_carrier: str | None = None
    tracking_url: str | None = None


class OrderInput(_SaleInput, OrderPatch):
    lines: list[OrderLineInput]


class CartPatch(_SalePatch):
    checkout_url: str | None = None
    lines: Sequence[CartLinePatch] | None = None


class CartInput(_SaleInput, CartPatch):
    lines: list[CartLineInput]


class _Line(MailchimpResource):
    id: str
    product_id: str = ""
    product_variant_id: str = ""
    quantity: int = 0
    price: float = 0


class OrderLine(_Line):
    pass


class CartLine(_Line):
    pass


class _Sale(MailchimpResource):
    id: str
    customer: Customer | None = None
    currency_code: str = ""
    order_total: float = 0


class Order(_Sale):
    financial_status: str = ""
    fulfillment_status: str = ""
    lines: list[OrderLine] = Field(default_factory=list)


class Cart(_Sale):
    checkout_url: str = ""
    lines: list[CartLine] = Field(default_factory=list)
