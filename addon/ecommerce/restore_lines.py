"""What of a cart's lines its restored copy can hold now (`restore.py` makes the copy).

Saleor's `checkoutCreate` refuses the whole checkout when one line asks for more than a checkout
may hold: more than the variant's `quantityLimitPerCustomer` (else the site's
`limitQuantityPerCheckout`) is `QUANTITY_GREATER_THAN_LIMIT`, more than its stock
`INSUFFICIENT_STOCK` (saleor/warehouse/availability.py `_check_quantity_limits`,
`check_stock_quantity_bulk`). Neither error names its variant, so the copy cannot leave the line
out the way it does for a product no longer sold. A stock sold down or a limit lowered since
the cart was e-mailed would then make every link of that cart fail. Instead the copy takes as
many of each line as Saleor says one checkout may hold now (`quantityAvailable`, read in the
cart's channel, and the variant's own limit), and says how many lines it reduced or left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

# The refusals a smaller quantity answers (on `quantity`, naming no variant).
QUANTITY_REFUSALS = frozenset({"INSUFFICIENT_STOCK", "QUANTITY_GREATER_THAN_LIMIT"})


class _Saleor(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class _Variant(_Saleor):
    id: str
    # Stock in the channel capped by the site's limit per checkout; the limit alone for a
    # variant whose stock is not tracked (None: neither applies).
    quantity_available: int | None = Field(None, alias="quantityAvailable")
    quantity_limit_per_customer: int | None = Field(None, alias="quantityLimitPerCustomer")


class _Line(_Saleor):
    quantity: int
    variant: _Variant


class _Email(_Saleor):
    email: str


class _Channel(_Saleor):
    slug: str


class CartToRestore(_Saleor):
    """The original checkout, as `ecommerce_checkout_to_restore` reads it."""

    id: str
    email: str | None = None
    user: _Email | None = None
    channel: _Channel
    lines: list[_Line]
    # Consent and campaign attribution, to be written on the copy (`restore._carry`).
    carried: dict[str, str] | None = None
    # The voucher code the shopper applied, to be added to the copy (`restore_voucher.py`).
    voucher_code: str | None = Field(None, alias="voucherCode")

    @property
    def contact(self) -> str | None:
        return self.email or (self.user.email if self.user else None)


class LineInput(_Saleor):
    model_config = ConfigDict(populate_by_name=True, frozen=True)

    variant_id: str = Field(alias="variantId")
    quantity: int


def lines_of(cart: CartToRestore) -> list[LineInput]:
    """One line per variant, its quantities added up, in the cart's order: what
    `checkoutCreate` makes of them anyway (`group_lines_input_on_add`), and what its limits
    are checked against."""
    totals: dict[str, int] = {}
    for line in cart.lines:
        totals[line.variant.id] = totals.get(line.variant.id, 0) + line.quantity
    return [LineInput(variant_id=variant, quantity=count) for variant, count in totals.items()]


@dataclass(frozen=True)
class Fitted:
    lines: list[LineInput]
    dropped: int  # none of it can be bought now
    reduced: int  # fewer than the cart held


def fit(lines: list[LineInput], cart: CartToRestore) -> Fitted:
    """Each line at most what one checkout may hold of its variant now: its stock (capped by
    the site's limit) and the variant's own limit, when Saleor gives them. A variant whose own
    limit is above the site's may get fewer than Saleor would take (its stock above the site's
    limit is not shown): a copy made is worth more than the last few items."""
    variants = {line.variant.id: line.variant for line in cart.lines}
    kept: list[LineInput] = []
    dropped = reduced = 0
    for line in lines:
        variant = variants.get(line.variant_id)
        bounds = (
            [variant.quantity_available, variant.quantity_limit_per_customer] if variant else []
        )
        most = min([line.quantity, *(bound for bound in bounds if bound is not None)])
        if most <= 0:
            dropped += 1
            continue
        if most < line.quantity:
            reduced += 1
        kept.append(LineInput(variant_id=line.variant_id, quantity=most))
    return Fitted(lines=kept, dropped=dropped, reduced=reduced)
