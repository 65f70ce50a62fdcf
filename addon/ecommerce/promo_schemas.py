"""Pydantic models of promo codes: Saleor's vouchers (addon/saleor/queries/promo_*.graphql)
and the E-commerce page's promo settings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from addon.ecommerce.links import checked_template
from addon.ecommerce.promo_models import PromoOffer
from addon.ecommerce.saleor_schemas import Amount, SaleorModel


class _Slug(SaleorModel):
    slug: str


class _MetadataItem(SaleorModel):
    key: str
    value: str


class VoucherListing(SaleorModel):
    channel: _Slug
    discount_value: Decimal = Field(alias="discountValue")
    currency: str
    min_spent: Amount | None = Field(None, alias="minSpent")


class VoucherCode(SaleorModel):
    id: str
    code: str | None = None
    used: int | None = 0
    is_active: bool | None = Field(True, alias="isActive")


class _CodeEdge(SaleorModel):
    node: VoucherCode


class _PageInfo(SaleorModel):
    has_next_page: bool = Field(False, alias="hasNextPage")
    end_cursor: str | None = Field(None, alias="endCursor")


class VoucherCodes(SaleorModel):
    page_info: _PageInfo = Field(default_factory=_PageInfo, alias="pageInfo")
    edges: list[_CodeEdge] = Field(default_factory=list)


class SaleorVoucher(SaleorModel):
    id: str
    name: str | None = None
    type: Literal["SHIPPING", "ENTIRE_ORDER", "SPECIFIC_PRODUCT"]
    discount_value_type: Literal["FIXED", "PERCENTAGE"] = Field(alias="discountValueType")
    apply_once_per_order: bool = Field(False, alias="applyOncePerOrder")
    start_date: datetime = Field(alias="startDate")
    end_date: datetime | None = Field(None, alias="endDate")
    usage_limit: int | None = Field(None, alias="usageLimit")
    only_for_staff: bool = Field(False, alias="onlyForStaff")
    min_items: int | None = Field(None, alias="minCheckoutItemsQuantity")
    metadata: list[_MetadataItem] = Field(default_factory=list)
    channel_listings: list[VoucherListing] = Field(default_factory=list, alias="channelListings")
    codes: VoucherCodes = Field(default_factory=VoucherCodes)

    def listing(self, channel: str) -> VoucherListing | None:
        return next((lst for lst in self.channel_listings if lst.channel.slug == channel), None)

    def meta(self, key: str) -> str | None:
        return next((item.value for item in self.metadata if item.key == key), None)

    @property
    def used_up(self) -> bool:
        """Used as often as its usage limit allows, all its codes together: Saleor no longer
        applies it (saleor/discount/models.py `VoucherQueryset.active`: `usage_limit` above the
        codes' summed `used`, which Saleor counts only under a limit)."""
        used = sum(edge.node.used or 0 for edge in self.codes.edges)
        return self.usage_limit is not None and used >= self.usage_limit


# --- the E-commerce page ---------------------------------------------------------------------

REDEMPTION_FIELDS = {"code", "channel"}
_EXAMPLE = "https://shop.example.com/cart?promo={code}"


class PromoSettingsRead(BaseModel):
    offer: PromoOffer
    flag_key: str
    redemption_url_template: str | None


class PromoSettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    offer: PromoOffer = Field(
        description="Which vouchers become Mailchimp promo codes: none, all, or those whose "
        'public metadata `flag_key` is "true".'
    )
    flag_key: str = Field(
        "mailchimp_promo", min_length=1, max_length=255, pattern=r"^[A-Za-z0-9_.:-]+$"
    )
    redemption_url_template: str | None = Field(
        None,
        max_length=1024,
        description="Where a shopper redeems a code, e.g. "
        "https://shop.example.com/cart?promo={code} (placeholders: {code}, {channel}).",
    )

    @field_validator("redemption_url_template")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        return checked_template(value, REDEMPTION_FIELDS, _EXAMPLE)
