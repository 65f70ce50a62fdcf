"""Whether the stock of a checkout's variants covers what it asks for, as Saleor checks it
(read at tag 3.20.119 and commit 723cd4e, the same in both for what the sandbox models: one
warehouse, no reservations):

* Adding lines (``checkoutCreate``, ``checkoutLinesAdd``, ``checkoutLinesUpdate``):
  saleor/graphql/checkout/mutations/utils.py `check_lines_quantity` and
  saleor/warehouse/availability.py `check_stock_and_preorder_quantity_bulk`. For a variant not on
  an active preorder (`check_stock_quantity_bulk`): the quantity it would have (the line's plus
  the one added, or the one set: `replace`) over the variant's `quantity_limit_per_customer`
  (else the site's limit) is QUANTITY_GREATER_THAN_LIMIT, the first such line ending the check;
  a variant tracking its inventory without a stock row, or wanting more than the row has left
  (`quantity - quantity_allocated`), is INSUFFICIENT_STOCK, every such line reported. For a
  variant on preorder (`check_preorder_threshold_bulk`) the same limit, then the quantity *added*
  (not the line's total: Saleor compares `quantity`, not `cumulative_quantity`) against what is
  left of the channel listing's threshold and of the global one.
* Completing (``checkoutComplete``): saleor/warehouse/management.py `allocate_stocks` (a tracked
  variant not on preorder: no row, or a line above what the row has left, is short) and
  `allocate_preorders` (a line above what is left of either threshold), raised as
  `InsufficientStock` and answered as CheckoutError INSUFFICIENT_STOCK "Insufficient product
  stock: ..." (saleor/checkout/complete_checkout.py `complete_checkout_with_transaction`,
  saleor/graphql/checkout/utils.py `prepare_insufficient_stock_checkout_validation_error`): no
  order is made and the checkout stays.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from .models import LIMIT_QUANTITY_PER_CHECKOUT, ProductVariant, utcnow


def variant_label(variant: ProductVariant) -> str:
    """`str(ProductVariant)` in Saleor: its name, else its SKU, else its id."""
    return variant.name or variant.sku or f"ID:{variant.id}"


class InsufficientStock(ValueError):
    """Saleor's `InsufficientStock` (saleor/core/exceptions.py) as the mutation answers it:
    nothing changed. `variants`: the lines short of stock, `available`: what each has left."""

    code = "INSUFFICIENT_STOCK"

    def __init__(
        self, short: Sequence[tuple[ProductVariant, int]], message: str | None = None
    ) -> None:
        self.variants = [variant for variant, _ in short]
        self.available = [available for _, available in short]
        labels = ", ".join(variant_label(variant) for variant in self.variants)
        super().__init__(message or f"Insufficient stock for {labels}")


class QuantityOverLimit(ValueError):
    """QUANTITY_GREATER_THAN_LIMIT (saleor/warehouse/availability.py `_check_quantity_limits`)."""

    code = "QUANTITY_GREATER_THAN_LIMIT"


def left_in_row(variant: ProductVariant) -> int | None:
    """What the variant's stock row has left to sell, None when it has no row."""
    return max(variant.quantity - variant.quantity_allocated, 0) if variant.stocked else None


def preorder_left(variant: ProductVariant, channel_id: int) -> list[int]:
    """What is left of the variant's preorder thresholds that apply (the channel listing's,
    then the global one): `threshold - units allocated`, never below 0."""
    left = []
    listing = variant.listing_for(channel_id)
    if listing is not None and listing.preorder_threshold is not None:
        left.append(max(listing.preorder_threshold - listing.preorder_sold, 0))
    if variant.preorder_global_threshold is not None:
        sold = sum(cl.preorder_sold for cl in variant.channel_listings)
        left.append(max(variant.preorder_global_threshold - sold, 0))
    return left


def _short(
    variant: ProductVariant, quantity: int, channel_id: int, now: datetime
) -> tuple[ProductVariant, int] | None:
    """The variant with what it has left when `quantity` of it cannot be had, else None."""
    if variant.is_preorder_active(now):
        for left in preorder_left(variant, channel_id):
            if quantity > left:
                return variant, left
        return None
    if not variant.track_inventory:
        return None
    in_row = left_in_row(variant)
    if in_row is None or quantity > in_row:
        return variant, in_row or 0
    return None


def check_lines_quantity(
    wanted: Sequence[tuple[ProductVariant, int, int]], channel_id: int, now: datetime
) -> None:
    """`check_lines_quantity` of lines asked for: (variant, quantity the line would have,
    quantity added). Raises `QuantityOverLimit` or `InsufficientStock` (its message as
    ``checkoutLinesAdd`` answers each line: "Could not add items X. Only N remaining in
    stock.")."""
    short: list[tuple[ProductVariant, int]] = []
    for variant, total, added in wanted:
        if total <= 0:  # a line set to 0 is removed: nothing to check
            continue
        limit = variant.quantity_limit_per_customer or LIMIT_QUANTITY_PER_CHECKOUT
        if total > limit:
            raise QuantityOverLimit(
                f"Cannot add more than {limit} times this item: {variant_label(variant)}."
            )
        preorder = variant.is_preorder_active(now)
        found = _short(variant, added if preorder else total, channel_id, now)
        if found is not None:
            short.append(found)
    if short:
        raise InsufficientStock(
            short,
            " ".join(
                f"Could not add items {variant_label(variant)}. Only {left} remaining in stock."
                for variant, left in short
            ),
        )


def check_checkout_lines(
    variant_of: Callable[[int], ProductVariant],
    channel_id: int,
    held: Mapping[int, int],
    asked: Sequence[tuple[int, int]],
    *,
    replace: bool = False,
) -> None:
    """`check_lines_quantity` of (variant pk, quantity) asked of a checkout holding `held`
    (variant pk → quantity): added to its lines (``checkoutCreate``, ``checkoutLinesAdd``) or,
    with `replace`, set as their quantities (``checkoutLinesUpdate``, 0 removing a line)."""
    grouped: dict[int, int] = {}
    for variant_id, quantity in asked:  # `get_variants_and_total_quantities`
        grouped[variant_id] = grouped.get(variant_id, 0) + quantity
    wanted = [
        (variant_of(pk), quantity if replace else held.get(pk, 0) + quantity, quantity)
        for pk, quantity in grouped.items()
    ]
    check_lines_quantity(wanted, channel_id, utcnow())


def check_allocation(
    lines: Sequence[tuple[ProductVariant, int]], channel_id: int, now: datetime
) -> None:
    """`allocate_stocks` then `allocate_preorders` of a checkout's lines at completion: raises
    `InsufficientStock` ("Insufficient product stock: ...") for the lines they cannot allocate
    (the stock lines first; preorder lines are checked only once every stock line fits)."""
    for preorder in (False, True):
        short = [
            found
            for variant, quantity in lines
            if variant.is_preorder_active(now) is preorder
            and (found := _short(variant, quantity, channel_id, now)) is not None
        ]
        if short:
            labels = ", ".join(variant_label(variant) for variant, _ in short)
            raise InsufficientStock(short, f"Insufficient product stock: {labels}")
