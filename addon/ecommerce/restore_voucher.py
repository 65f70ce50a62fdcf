"""The voucher code of a restored cart (`restore.py` makes the copy).

`checkoutCreate` takes no voucher, so a cart copied from its link would lose the shopper's
discount. The copy gets the original's `voucherCode` with `checkoutAddPromoCode` once made.
Saleor checks the code again then (saleor/checkout/utils.py `add_promo_code_to_checkout`): one
no longer active in the channel (ended, used up, deactivated, or gone) is INVALID, one the copy
does not meet (minimum spent or quantity, once per customer, staff only) VOUCHER_NOT_APPLICABLE.
Either way the cart is still worth restoring: the copy is handed out without the code, and the
answer names the code left out, with Saleor's reason, so the storefront can tell the shopper why
the price changed, or apply it again later: a SHIPPING voucher is VOUCHER_NOT_APPLICABLE on any
checkout without a delivery method ("Please select a delivery method first.",
saleor/checkout/utils.py `_get_shipping_voucher_discount_for_checkout`), and the copy has none
(the link grants the cart, not the shopper's addresses).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pydantic import BaseModel, Field, ValidationError

from addon.errors import ErrorCode, UpstreamUnavailable

# Runs a named document as the app (`restore._saleor`: the app's one Saleor client path).
Run = Callable[[str, dict[str, object]], Awaitable[dict[str, object]]]


class _PromoCodeError(BaseModel):
    field: str | None = None
    code: str
    message: str | None = None


class _WithVoucher(BaseModel):
    id: str
    voucher_code: str | None = Field(None, alias="voucherCode")


class _PromoCodeAdded(BaseModel):
    errors: list[_PromoCodeError]
    checkout: _WithVoucher | None = None


@dataclass(frozen=True)
class VoucherLeftOut:
    """A voucher code Saleor refused on the copy, and its error code (`INVALID`,
    `VOUCHER_NOT_APPLICABLE`)."""

    code: str
    reason: str


async def carry_voucher(run: Run, checkout_id: str, code: str | None) -> VoucherLeftOut | None:
    """Add `code` to the copy `checkout_id`; answer the code and Saleor's reason when it
    refused it (the copy has no discount), None when there was none or it was carried."""
    if not code:
        return None
    data = await run("ecommerce_checkout_add_promo_code", {"id": checkout_id, "promoCode": code})
    try:
        answer = _PromoCodeAdded.model_validate(data.get("checkoutAddPromoCode"))
    except ValidationError as exc:
        raise UpstreamUnavailable(
            f"Saleor's answer to checkoutAddPromoCode is not understood: {exc}",
            code=ErrorCode.SALEOR_ERROR,
        ) from exc
    if answer.errors or answer.checkout is None:
        reason = answer.errors[0].code if answer.errors else "INVALID"
        return VoucherLeftOut(code, reason)
    return None
