"""Saleor's checkouts as the app reads them for abandoned carts (`ecommerce_checkout.graphql`):
pydantic models of the answers, beside `saleor_schemas.py`'s orders and products."""

from __future__ import annotations

from pydantic import Field

from addon.ecommerce.saleor_schemas import (
    ChannelRef,
    ProductPublication,
    SaleorAddress,
    SaleorModel,
    SaleorUser,
    TaxedAmount,
)


class CartProduct(SaleorModel):
    id: str
    # Its publication (`publication.py`): a cart leaves out what customers cannot buy.
    channel_listings: list[ProductPublication] | None = Field(None, alias="channelListings")


class CartVariant(SaleorModel):
    id: str
    product: CartProduct


class SaleorCheckoutLine(SaleorModel):
    quantity: int
    total_price: TaxedAmount = Field(alias="totalPrice")
    variant: CartVariant


class SaleorCheckout(SaleorModel):
    id: str
    token: str
    email: str | None = None
    user: SaleorUser | None = None
    billing_address: SaleorAddress | None = Field(None, alias="billingAddress")
    channel: ChannelRef
    total_price: TaxedAmount = Field(alias="totalPrice")
    shipping_price: TaxedAmount = Field(alias="shippingPrice")
    attribution: dict[str, str] | None = None
    consent: dict[str, str] | None = None
    lines: list[SaleorCheckoutLine]
