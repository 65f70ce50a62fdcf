"""Vouchers as Saleor stores them (saleor/discount/models.py `Voucher`, `VoucherCode`,
`VoucherChannelListing`): a voucher has one or more codes (each with its own `used` count,
since 3.18), a discount value type (FIXED, PERCENTAGE) and a type (ENTIRE_ORDER,
SPECIFIC_PRODUCT, SHIPPING), and per channel its discount value, currency and minimum spend."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from .models import DiscountValueType, Node, WithMetadata, utcnow


class VoucherType(StrEnum):
    SHIPPING = "SHIPPING"
    ENTIRE_ORDER = "ENTIRE_ORDER"
    SPECIFIC_PRODUCT = "SPECIFIC_PRODUCT"


class VoucherCode(Node):
    graphql_type: ClassVar[str] = "VoucherCode"
    voucher_id: int
    code: str = Field(min_length=1, max_length=255)
    used: int = 0
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class VoucherChannelListing(Node):
    graphql_type: ClassVar[str] = "VoucherChannelListing"
    channel_id: int
    discount_value: Decimal
    currency: str
    min_spent: Decimal | None = None


class Voucher(WithMetadata):
    graphql_type: ClassVar[str] = "Voucher"
    name: str | None = None
    type: VoucherType = VoucherType.ENTIRE_ORDER
    discount_value_type: DiscountValueType = DiscountValueType.FIXED
    start_date: datetime = Field(default_factory=utcnow)
    end_date: datetime | None = None
    usage_limit: int | None = None
    apply_once_per_order: bool = False
    apply_once_per_customer: bool = False
    single_use: bool = False
    only_for_staff: bool = False
    min_checkout_items_quantity: int | None = 0
    codes: list[VoucherCode] = Field(default_factory=list)
    channel_listings: list[VoucherChannelListing] = Field(default_factory=list)

    def listing_for(self, channel_id: int) -> VoucherChannelListing | None:
        return next((lst for lst in self.channel_listings if lst.channel_id == channel_id), None)

    def code_named(self, code: str) -> VoucherCode | None:
        return next((c for c in self.codes if c.code == code), None)
