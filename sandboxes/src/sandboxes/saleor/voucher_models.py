"""Vouchers as Saleor stores them (saleor/discount/models.py `Voucher`, `VoucherCode`,
`VoucherChannelListing`, `VoucherCustomer`): a voucher has one or more codes (each with its own
`used` count, since 3.18), a discount value type (FIXED, PERCENTAGE) and a type (ENTIRE_ORDER,
SPECIFIC_PRODUCT, SHIPPING), and per channel its discount value, currency and minimum spend.
The field constraints are the model's (`CharField(max_length=255)`, `PositiveIntegerField`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import ClassVar
from uuid import UUID, uuid4

from pydantic import Field

from .ids import to_global_id
from .models import Node, WithMetadata, utcnow
from .money import currency_places
from .order_models import DiscountValueType, OrderLine

# The fields of `VoucherInput` (saleor/graphql/discount/mutations/voucher/voucher_create.py)
# the sandbox models, besides `name`, `type`, `discountValueType` and the codes; the catalogue
# fields (products, variants, collections, categories) and `countries` are not modelled.
VOUCHER_INPUT_FIELDS = frozenset(
    {
        "name",
        "type",
        "discount_value_type",
        "start_date",
        "end_date",
        "usage_limit",
        "apply_once_per_order",
        "apply_once_per_customer",
        "single_use",
        "only_for_staff",
        "min_checkout_items_quantity",
    }
)


class VoucherType(StrEnum):
    SHIPPING = "SHIPPING"
    ENTIRE_ORDER = "ENTIRE_ORDER"
    SPECIFIC_PRODUCT = "SPECIFIC_PRODUCT"


class VoucherCode(Node):
    graphql_type: ClassVar[str] = "VoucherCode"
    voucher_id: int
    code: str = Field(min_length=1, max_length=255)
    used: int = Field(0, ge=0)
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    # Saleor's VoucherCode pk is a UUID (`id = models.UUIDField(primary_key=True, ...)`), so its
    # global ID is "VoucherCode:<uuid>", never an integer; `id` stays the sandbox's own key.
    uuid: UUID = Field(default_factory=uuid4)
    # `VoucherCustomer` rows: the e-mails that used this code of an apply-once-per-customer
    # voucher (`add_voucher_usage_by_customer`, saleor/discount/utils/voucher.py).
    customer_emails: set[str] = Field(default_factory=set)

    @property
    def global_id(self) -> str:
        return to_global_id(self.graphql_type, str(self.uuid))


class VoucherChannelListing(Node):
    graphql_type: ClassVar[str] = "VoucherChannelListing"
    channel_id: int
    discount_value: Decimal = Field(ge=0)
    currency: str
    min_spent: Decimal | None = Field(None, ge=0)


class Voucher(WithMetadata):
    graphql_type: ClassVar[str] = "Voucher"
    name: str | None = Field(None, max_length=255)
    type: VoucherType = VoucherType.ENTIRE_ORDER
    discount_value_type: DiscountValueType = DiscountValueType.FIXED
    start_date: datetime = Field(default_factory=utcnow)
    end_date: datetime | None = None
    usage_limit: int | None = Field(None, ge=0)
    apply_once_per_order: bool = False
    apply_once_per_customer: bool = False
    single_use: bool = False
    only_for_staff: bool = False
    min_checkout_items_quantity: int | None = Field(0, ge=0)
    codes: list[VoucherCode] = Field(default_factory=list)
    channel_listings: list[VoucherChannelListing] = Field(default_factory=list)

    def listing_for(self, channel_id: int) -> VoucherChannelListing | None:
        return next((lst for lst in self.channel_listings if lst.channel_id == channel_id), None)

    def code_named(self, code: str) -> VoucherCode | None:
        return next((c for c in self.codes if c.code == code), None)

    def total_used(self) -> int | None:
        """`Sum("codes__used")` as `VoucherQueryset.active` computes it: NULL without codes."""
        return sum(c.used for c in self.codes) if self.codes else None

    def is_active_at(self, now: datetime) -> bool:
        """`VoucherQueryset.active(date)` (saleor/discount/models.py): started, not ended, and
        under its usage limit (a limit with no codes to sum is never under it: SQL NULL)."""
        if self.start_date > now or (self.end_date is not None and self.end_date < now):
            return False
        if self.usage_limit is None:
            return True
        used = self.total_used()
        return used is not None and self.usage_limit > used

    def count_use(self, code: VoucherCode, email: str | None) -> None:
        """An order placed with `code` (`increase_voucher_usage`, saleor/discount/utils/
        voucher.py; 3.20 and now alike): `used` counts only with a usage limit, the buyer's
        e-mail is kept for once-per-customer, and a single-use code is spent."""
        if self.usage_limit:
            code.used += 1
        if self.apply_once_per_customer and email:
            code.customer_emails.add(email)
        if self.single_use:
            code.is_active = False

    def is_expired_at(self, now: datetime) -> bool:
        """`VoucherQueryset.expired(date)`: started before now, and used up or ended."""
        used = self.total_used()
        used_up = self.usage_limit is not None and used is not None and self.usage_limit <= used
        ended = self.end_date is not None and self.end_date < now
        return self.start_date < now and (used_up or ended)


# -- amounts (saleor/discount/models.py, saleor/discount/utils/voucher.py) ----------------


def is_precise(value: Decimal, currency: str) -> bool:
    """`validate_price_precision`: no more decimal places than the currency has."""
    if not value:
        return True
    exponent = value.normalize().as_tuple().exponent
    return not isinstance(exponent, int) or exponent >= -currency_places(currency)


def discount_amount(
    value_type: DiscountValueType, value: Decimal, base: Decimal, places: int
) -> Decimal:
    """`Voucher.get_discount_amount_for`: a percentage rounded ROUND_HALF_UP to the currency
    (`percentage_discount(..., rounding=ROUND_HALF_UP)`), never more than the price."""
    if value_type is DiscountValueType.PERCENTAGE:
        amount = (base * value / 100).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    else:
        amount = value
    return min(max(amount, Decimal(0)), base)


def apply_line_level(
    voucher: Voucher,
    code: str,
    kind: DiscountValueType,
    value: Decimal,
    lines: list[OrderLine],
    product_ids: Iterable[int] | None,
    places: int,
) -> Decimal:
    """`calculate_line_discount_amount_from_voucher`: a percentage off each line's total, a
    fixed value off each unit, or (apply once per order) off one unit of the cheapest line;
    taken off the lines' totals, which carry the code. Returns the lines' total discount."""
    wanted = set(product_ids) if product_ids is not None else None
    eligible = [ln for ln in lines if wanted is None or ln.product_id in wanted]
    if voucher.apply_once_per_order and eligible:  # `get_the_cheapest_line`
        eligible = [min(eligible, key=lambda ln: ln.unit_price_gross)]
    total = Decimal(0)
    for line in eligible:
        if voucher.apply_once_per_order:
            off = discount_amount(kind, value, line.unit_price_gross, places)
        elif kind is DiscountValueType.PERCENTAGE:
            off = discount_amount(kind, value, line.unit_price_gross * line.quantity, places)
        else:
            off = discount_amount(kind, value, line.unit_price_gross, places) * line.quantity
        # Off the line's total (`OrderLine.voucher_off`), not spread over its units.
        line.voucher_off = off
        line.voucher_code = code
        line.voucher_value_type, line.voucher_value = kind.value, value
        total += off
    return total
