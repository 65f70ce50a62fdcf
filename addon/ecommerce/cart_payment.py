"""A checkout paid through a payment app but not (yet) completed is no abandoned cart.

A shopper pays (or the gateway confirms later) and never comes back to `checkoutComplete`;
with the channel's `automaticallyCompleteFullyPaidCheckouts` off (Saleor's default) the checkout
stays, and Saleor's expiry spares it while money is on its transactions (saleor/checkout/
tasks.py `delete_expired_checkouts` skips checkouts with money on their transactions). Its cart
would bring the abandoned-cart e-mails to someone who paid. Saleor sends CHECKOUT_FULLY_PAID when
a transaction pays it (since 3.22 CHECKOUT_FULLY_AUTHORIZED too), no CHECKOUT_UPDATED
(saleor/checkout/actions.py `_transaction_amounts_for_checkout_updated`); the push reads the
checkout's statuses, whatever event brought it. The order made of it later converts as usual.

Not for good: the payment can go away with no webhook (Saleor releases the funds of a checkout
left alone for hours, saleor/payment/tasks.py `transaction_release_funds_for_checkout_task`; a
pending payment fails; the payment app cancels or refunds). The daily cart sweep reads the
statuses of the checkouts whose carts were removed as paid (`CART_PAID_NOTE`) and pushes each
one no longer covered, whose cart comes back (`cart_sweep._unpaid`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# Saleor's `CheckoutChargeStatusEnum` / `CheckoutAuthorizeStatusEnum` values meaning "covered".
PAID_CHARGE_STATUSES = frozenset({"FULL", "OVERCHARGED"})
AUTHORIZED_IN_FULL = "FULL"
CART_PAID_NOTE = "Its checkout is paid: it is no abandoned cart."


class _Amount(BaseModel):
    amount: Decimal


class _Total(BaseModel):
    gross: _Amount


class CheckoutPayment(BaseModel):
    """What payment apps' transactions cover of a checkout (`ecommerce_checkout.graphql`)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)

    charge_status: str = Field(alias="chargeStatus")
    authorize_status: str = Field(alias="authorizeStatus")
    total: _Total = Field(alias="totalPrice")

    @property
    def covered(self) -> bool:
        """Charged in full (or more), or authorized in full: the shopper has paid. Not a
        checkout with nothing to pay: Saleor calls both statuses FULL for one whose lines cost
        nothing (a free sample, a gift card covering it) with nothing paid
        (saleor/checkout/payment_utils.py `_update_charge_status`,
        `checkout_with_only_zero_price_lines`): its shopper has not checked out."""
        if self.total.gross.amount <= 0:
            return False
        return (
            self.charge_status in PAID_CHARGE_STATUSES
            or self.authorize_status == AUTHORIZED_IN_FULL
        )


def paid(raw: dict[str, Any]) -> bool:
    """Whether the checkout `ecommerce_checkout.graphql` read is paid or authorized in full."""
    return CheckoutPayment.model_validate(raw).covered
