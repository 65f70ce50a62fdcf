"""A variant on preorder: sold with no stock, up to its thresholds, until its end date.

While a variant's preorder is active (`ProductVariant.is_preorder_active`: on preorder, and its
end date unset or not passed; saleor/product/models.py, 3.20.119) Saleor sells it against its
preorder thresholds only, never its stock: the channel listing's (`preorderThreshold.quantity`,
less what that channel sold) and the variant's global one (`preorder.globalThreshold`, less what
every channel sold), each where set (saleor/warehouse/availability.py
`check_stock_and_preorder_quantity`, `check_preorder_threshold_bulk`). Saleor answers
`preorder` only while it is active (saleor/graphql/product/types/products.py
`resolve_preorder`).

Its end date passes with no webhook (Saleor's hourly `deactivate_preorder_for_variants_task`,
saleor/product/tasks.py, sends none either), after which the variant sells its stock:
`ends_after` says when to push the product again (`offer_dates.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["PreorderData", "PreorderThreshold", "ends_after", "preorder_left"]

# Saleor's preorder is still active at its end date itself (`now <= preorder_end_date`): the
# product is looked at again this long after it.
ENDED_AFTER = timedelta(seconds=1)


class PreorderData(BaseModel):
    """`ProductVariant.preorder` (null unless the preorder is active)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)

    global_threshold: int | None = Field(None, alias="globalThreshold")
    global_sold_units: int = Field(0, alias="globalSoldUnits")
    end_date: datetime | None = Field(None, alias="endDate")

    def active(self, now: datetime) -> bool:
        return self.end_date is None or now <= self.end_date


class PreorderThreshold(BaseModel):
    """`ProductVariantChannelListing.preorderThreshold`: the channel's limit and sales."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)

    quantity: int | None = None
    sold_units: int = Field(0, alias="soldUnits")


def preorder_left(preorder: PreorderData, channel: PreorderThreshold | None) -> int | None:
    """What the variant's preorder can still sell in the channel: the smaller of what its
    thresholds leave (never below 0); None when neither is set (no limit)."""
    left = []
    if preorder.global_threshold is not None:
        left.append(preorder.global_threshold - preorder.global_sold_units)
    if channel is not None and channel.quantity is not None:
        left.append(channel.quantity - channel.sold_units)
    return max(min(left), 0) if left else None


def ends_after(preorders: Iterable[PreorderData | None], now: datetime) -> datetime | None:
    """The first moment after `now` at which one of these active preorders has ended."""
    ends = [p.end_date for p in preorders if p is not None and p.end_date is not None]
    coming = [end + ENDED_AFTER for end in ends if end + ENDED_AFTER > now]
    return min(coming) if coming else None
