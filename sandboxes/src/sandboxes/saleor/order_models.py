"""Order models of the Saleor sandbox store (pydantic): orders and their lines, discounts and
fulfilments. What pays an order (transactions, legacy payments, granted refunds, their statuses)
is in `payment_models.py`, whose names this module still exports. Amounts are
:class:`~decimal.Decimal`."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from .ids import to_global_id
from .models import Address, CreationWrites, Node, SortWrites, WithMetadata, utcnow
from .money import currency_step
from .payment_models import GrantedRefund as GrantedRefund
from .payment_models import OrderAuthorizeStatus as OrderAuthorizeStatus
from .payment_models import OrderChargeStatus as OrderChargeStatus
from .payment_models import Payment as Payment
from .payment_models import PaymentChargeStatus as PaymentChargeStatus
from .payment_models import PaymentTransaction as PaymentTransaction
from .payment_models import PaymentTransactionKind as PaymentTransactionKind
from .payment_models import TransactionEvent as TransactionEvent
from .payment_models import TransactionEventType as TransactionEventType
from .payment_models import TransactionItem as TransactionItem


class OrderOrigin(StrEnum):
    """Where an order came from (saleor/order/__init__.py `OrderOrigin`, `Order.origin`)."""

    CHECKOUT = "CHECKOUT"
    DRAFT = "DRAFT"
    REISSUE = "REISSUE"
    BULK_CREATE = "BULK_CREATE"


class OrderStatus(StrEnum):
    DRAFT = "DRAFT"
    UNCONFIRMED = "UNCONFIRMED"
    UNFULFILLED = "UNFULFILLED"
    PARTIALLY_FULFILLED = "PARTIALLY_FULFILLED"
    PARTIALLY_RETURNED = "PARTIALLY_RETURNED"
    RETURNED = "RETURNED"
    FULFILLED = "FULFILLED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"


class OrderLine(WithMetadata):
    """An order line; names, SKU and prices are copied at purchase time, as in Saleor."""

    graphql_type: ClassVar[str] = "OrderLine"
    # Saleor's `OrderLine.variant` (on_delete=SET_NULL): None once the variant is deleted.
    variant_id: int | None
    # The variant's global id as a string, copied at purchase time and kept after the variant's
    # deletion (saleor/order/models.py `OrderLine.product_variant_id`, set in
    # saleor/checkout/complete_checkout.py and saleor/order/utils.py).
    product_variant_id: str | None = None
    product_id: int | None
    product_name: str
    variant_name: str
    product_sku: str | None = None
    quantity: int
    quantity_fulfilled: int = 0
    # Stock this line holds in its variant (Saleor's `Allocation`, one warehouse here): set when
    # a checkout becomes the order, given back when the order is cancelled.
    quantity_allocated: int = 0
    unit_price_net: Decimal
    unit_price_gross: Decimal
    undiscounted_unit_price_gross: Decimal
    tax_rate: Decimal = Decimal("0")
    # The code of a line-level voucher (SPECIFIC_PRODUCT, apply-once-per-order) applied to the
    # line (saleor/order/models.py `OrderLine.voucher_code`), and what it took off the line's
    # total: Saleor takes it off the base total, not off each unit (saleor/checkout/
    # base_calculations.py `calculate_base_line_total_price`: base unit price times quantity, less
    # the catalogue discounts, less `calculate_line_discount_amount_from_voucher`), and the unit
    # price is that total over the quantity, rounded (`calculate_base_line_unit_price`).
    voucher_code: str | None = None
    voucher_off: Decimal = Decimal("0")
    # The voucher's value type and value, which its OrderLineDiscount keeps (order_discounts.py).
    voucher_value_type: str = "FIXED"
    voucher_value: Decimal = Decimal("0")
    # The line's part of the order-level discounts (entire-order voucher, order promotion, manual
    # discount), which Saleor spreads over the lines' totals in proportion to them
    # (saleor/order/base_calculations.py `propagate_order_discount_on_order_lines_prices`,
    # saleor/checkout/base_calculations.py `get_line_total_price_with_propagated_checkout_
    # discount`); `unit_price_*` stay the base prices (catalogue discounts only).
    discount_share: Decimal = Decimal("0")

    @property
    def base_total_gross(self) -> Decimal:
        """The total with the catalogue and line-level discounts off, before order-level ones."""
        return max(self.unit_price_gross * self.quantity - self.voucher_off, Decimal(0))

    @property
    def total_gross(self) -> Decimal:
        return max(self.base_total_gross - self.discount_share, Decimal(0))

    @property
    def total_net(self) -> Decimal:
        base = self.unit_price_net * self.quantity
        off = self.voucher_off + self.discount_share
        if not off:
            return base
        return max(base - (off / (1 + self.tax_rate)).quantize(Decimal("0.001")), Decimal(0))

    def price_gross(self, step: Decimal) -> Decimal:
        """Saleor's `unit_price` of the line: its total over the quantity, rounded to the
        currency (`step`: 0.01, 1, 0.001) as `quantize_price` does (`assign_order_line_prices`;
        saleor/checkout/calculations.py `checkout_line_unit_price` for an order placed from a
        checkout)."""
        if not self.voucher_off and not self.discount_share:
            return self.unit_price_gross
        return self._per_unit(self.total_gross, step)

    def price_net(self, step: Decimal) -> Decimal:
        if not self.voucher_off and not self.discount_share:
            return self.unit_price_net
        return self._per_unit(self.total_net, step)

    def unit_discount(self, step: Decimal, *, placed_from_checkout: bool) -> Decimal:
        """An order placed from a checkout: `undiscounted_unit_price - unit_price`, the line's
        part of order-level discounts included (`_create_line_for_order` at 3.20.119; 3.21+
        with the channel's legacy propagation, its default). Any other (a draft, an order
        edited): the line-level discounts only (saleor/discount/utils/order.py
        `_copy_unit_discount_data_to_order_line`)."""
        if placed_from_checkout:
            price = self.price_gross(step)
        else:
            price = self._per_unit(self.base_total_gross, step)
        return self.undiscounted_unit_price_gross - price

    def _per_unit(self, total: Decimal, step: Decimal) -> Decimal:
        return (total / max(self.quantity, 1)).quantize(step, ROUND_HALF_UP)


class DiscountValueType(StrEnum):
    FIXED = "FIXED"
    PERCENTAGE = "PERCENTAGE"


class OrderDiscountType(StrEnum):
    SALE = "SALE"
    VOUCHER = "VOUCHER"
    MANUAL = "MANUAL"
    PROMOTION = "PROMOTION"
    ORDER_PROMOTION = "ORDER_PROMOTION"


class OrderDiscount(Node):
    graphql_type: ClassVar[str] = "OrderDiscount"
    type: OrderDiscountType = OrderDiscountType.VOUCHER
    name: str | None = None
    value_type: DiscountValueType = DiscountValueType.FIXED
    value: Decimal
    amount: Decimal
    reason: str | None = None
    # A voucher discount already taken off a price, so not subtracted from the total again: a
    # SHIPPING voucher's off the shipping price (saleor/discount/utils/voucher.py
    # `create_or_update_discount_object_from_order_level_voucher`), a line-level one off the
    # unit prices (shown as one OrderDiscount with legacy propagation). Not a GraphQL field.
    in_prices: bool = False
    # The part of `amount` taken off the shipping price: a SHIPPING voucher's all of it, a manual
    # discount's its share (saleor/order/base_calculations.py
    # `propagate_order_discount_on_order_prices`); added back to `undiscountedTotal`.
    shipping_part: Decimal = Decimal("0")


class FulfillmentStatus(StrEnum):
    """saleor/order/__init__.py `FulfillmentStatus` (the GraphQL enum's upper-case names)."""

    FULFILLED = "FULFILLED"
    REFUNDED = "REFUNDED"
    RETURNED = "RETURNED"
    REPLACED = "REPLACED"
    REFUNDED_AND_RETURNED = "REFUNDED_AND_RETURNED"
    CANCELED = "CANCELED"
    WAITING_FOR_APPROVAL = "WAITING_FOR_APPROVAL"


class Fulfillment(WithMetadata):
    """A shipment of an order (saleor/order/models.py `Fulfillment`): numbered in the order
    (`fulfillment_order`), with a free-text tracking number ("" when none was given)."""

    graphql_type: ClassVar[str] = "Fulfillment"
    fulfillment_order: int
    status: FulfillmentStatus = FulfillmentStatus.FULFILLED
    tracking_number: str = Field("", max_length=255)
    # Its lines (Saleor's `FulfillmentLine`): order line pk → quantity.
    lines: dict[int, int] = Field(default_factory=dict)
    created: datetime = Field(default_factory=utcnow)


class OrderEventType(StrEnum):
    """The `OrderEventsEnum` values the sandbox records (saleor/order/__init__.py
    `OrderEvents`); Saleor records many more (payments, e-mails, fulfilments), which it lists
    among these in the order they happened."""

    DRAFT_CREATED = "DRAFT_CREATED"
    PLACED = "PLACED"
    PLACED_FROM_DRAFT = "PLACED_FROM_DRAFT"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"
    NOTE_ADDED = "NOTE_ADDED"
    FULFILLMENT_CANCELED = "FULFILLMENT_CANCELED"
    FULFILLMENT_FULFILLED_ITEMS = "FULFILLMENT_FULFILLED_ITEMS"


class OrderEvent(Node):
    """What happened to an order, and when (saleor/order/models.py `OrderEvent`: `date`
    defaults to the time it is recorded, `editable=False`)."""

    graphql_type: ClassVar[str] = "OrderEvent"
    type: OrderEventType
    date: datetime = Field(default_factory=utcnow)
    message: str | None = None  # a note's (NOTE_ADDED: `parameters["message"]`)
    # The user of the request that did it (`OrderEvent.user`): PLACED's is whoever completed
    # the checkout, none for a guest even when the order is given to an account
    # (`SandboxStoreEvents.complete_checkout`).
    user_id: int | None = None


class Order(WithMetadata):
    graphql_type: ClassVar[str] = "Order"
    number: int
    # Since Saleor 3.2 an order's primary key is a UUID and its number an integer apart
    # (saleor/order/models.py: `id = models.UUIDField(primary_key=True, ...)`, `number`): its
    # global id names the UUID (`global_id`). The sandbox keeps an integer pk for its tables.
    token: uuid.UUID = Field(default_factory=uuid.uuid4)
    channel_id: int
    user_id: int | None = None
    user_email: str | None = None
    # An order from before Saleor 3.2 (its migration order/0128_set_order_number set it on all of
    # them): a guest's e-mail and addresses come back obfuscated (`order_schema.py`).
    use_old_id: bool = False
    lines: list[OrderLine] = Field(default_factory=list)
    currency: str
    shipping_price_net: Decimal = Decimal("0")
    shipping_price_gross: Decimal = Decimal("0")
    # The shipping price as entered (net where the channel enters prices without tax), before
    # vouchers and manual discounts: Saleor's `undiscounted_base_shipping_price`
    # (`undiscountedShippingPrice`), set when the order is made (`create_order`).
    undiscounted_base_shipping_price: Decimal = Decimal("0")
    shipping_tax_rate: Decimal = Decimal("0")  # a fraction (`Order.shippingTaxRate`)
    shipping_method_name: str | None = None
    discounts: list[OrderDiscount] = Field(default_factory=list)
    voucher_code: str | None = None
    # Saleor's `Order.voucher` is a foreign key set when the order is placed (SET_NULL when the
    # voucher is deleted), not a lookup by code: deleting the code keeps it
    # (saleor/order/models.py).
    voucher_id: int | None = None
    status: OrderStatus = OrderStatus.UNFULFILLED
    origin: OrderOrigin = OrderOrigin.CHECKOUT
    # Payments: transactions (the current API) and legacy payments. The amounts and statuses
    # below are stored on the order as Saleor stores them, kept up to date by
    # `payments.update_order_amounts` (Saleor's `updates_amounts_for_order`); `paymentStatus`,
    # `totalRefunded` and `isPaid` are derived when read (see `payments`).
    transactions: list[TransactionItem] = Field(default_factory=list)
    payments: list[Payment] = Field(default_factory=list)
    granted_refunds: list[GrantedRefund] = Field(default_factory=list)
    refunded_fulfillments: list[Decimal] = Field(default_factory=list)
    fulfillments: list[Fulfillment] = Field(default_factory=list)
    """`total_refund_amount` of the REFUNDED fulfillments the legacy `orderRefund` creates."""
    charge_status: OrderChargeStatus = OrderChargeStatus.NONE
    authorize_status: OrderAuthorizeStatus = OrderAuthorizeStatus.NONE
    total_charged: Decimal = Decimal("0")
    total_authorized: Decimal = Decimal("0")
    billing_address: Address | None = None
    shipping_address: Address | None = None
    customer_note: str = ""
    checkout_token: uuid.UUID | None = None
    # The gift cards' balance the checkout used: Saleor takes it off the order's total, gross, and
    # off its net in proportion (saleor/checkout/calculations.py
    # `calculate_checkout_total_with_gift_cards`), not off its subtotal or lines. Not a GraphQL
    # field (Saleor has `giftCards`, the cards themselves).
    gift_cards_used: Decimal = Decimal("0")
    language_code: str = "en"
    created: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # Its events, oldest first (`OrderEventsByOrderIdLoader` orders them by pk).
    events: list[OrderEvent] = Field(default_factory=list)

    def __setattr__(self, name: str, value: object) -> None:
        super().__setattr__(name, value)
        if name == "created":
            CreationWrites.count += 1
        elif name in ("status", "token"):  # OrderSortField.CREATED_AT's (the token as pk)
            SortWrites.count += 1

    @property
    def subtotal_net(self) -> Decimal:
        return sum((line.total_net for line in self.lines), Decimal("0"))

    @property
    def subtotal_gross(self) -> Decimal:
        return sum((line.total_gross for line in self.lines), Decimal("0"))

    @property
    def undiscounted_subtotal_gross(self) -> Decimal:
        lines = self.lines
        return sum((ln.undiscounted_unit_price_gross * ln.quantity for ln in lines), Decimal("0"))

    @property
    def total_gross(self) -> Decimal:
        total = self.subtotal_gross + self.shipping_price_gross - self.gift_cards_used
        return max(total, Decimal(0))

    @property
    def total_net(self) -> Decimal:
        net = self.subtotal_net + self.shipping_price_net
        gross = self.subtotal_gross + self.shipping_price_gross
        if not self.gift_cards_used or not net or not gross:
            return max(net, Decimal(0))
        # `total.net = total.gross / gross_percentage`, quantized to the currency.
        return (self.total_gross / (gross / net)).quantize(self.step, ROUND_HALF_UP)

    @property
    def step(self) -> Decimal:
        """The currency's smallest amount (saleor/core/prices.py `quantize_price`)."""
        return currency_step(self.currency)

    @property
    def global_id(self) -> str:
        return to_global_id("Order", str(self.token))
