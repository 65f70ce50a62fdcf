"""The voucher mutations' input cleaning in the sandbox: what Saleor checks before it writes a
voucher, its codes or its channel values, and the errors it answers (`VoucherRefused`).
Checked against Saleor's source as `vouchers.py` is; each rule names where it comes from.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import ValidationError

from .order_models import DiscountValueType
from .store_base import StoreBase
from .voucher_models import Voucher, VoucherChannelListing, VoucherCode, is_precise


class Unset(Enum):
    UNSET = "UNSET"  # a field the mutation's input leaves out


UNSET = Unset.UNSET


class VoucherRefused(ValueError):
    """What Saleor's mutation answers with `errors` (field, code, message)."""

    def __init__(self, field: str | None, code: str, message: str) -> None:
        super().__init__(message)
        self.field, self.code = field, code


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def validated(data: dict[str, Any]) -> Voucher:
    """The model's field validation (`full_clean` in `clean_instance`); Django's max_length /
    min_value codes reach the API as INVALID (saleor/graphql/core/utils/error_codes.py)."""
    try:
        return Voucher.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise VoucherRefused(camel(str(error["loc"][0])), "INVALID", error["msg"]) from exc


def check_dates(voucher: Voucher) -> None:
    # `validate_end_is_after_start` (saleor/graphql/core/validators/__init__.py) refuses only an
    # end *before* the start; voucher_create.py `clean_voucher_instance` makes it INVALID.
    if voucher.end_date is not None and voucher.start_date > voucher.end_date:
        raise VoucherRefused("endDate", "INVALID", "End date cannot be before the start date.")


def _all_codes(store: StoreBase) -> dict[str, VoucherCode]:
    return {c.code: c for v in store.vouchers.values() for c in v.codes}


def new_codes(store: StoreBase, voucher: Voucher, codes: Iterable[str]) -> list[VoucherCode]:
    """voucher_create.py `_clean_new_codes`: stripped, no duplicates, none taken, a blank
    one generated (`generate_promo_code`, saleor/core/utils/promo_code.py)."""
    wanted = [c.strip() for c in codes]
    if len(set(wanted)) != len(wanted):
        raise VoucherRefused("codes", "DUPLICATED_INPUT_ITEM", "Duplicated promo codes provided.")
    taken = _all_codes(store)
    if any(c in taken for c in wanted if c):
        raise VoucherRefused("codes", "ALREADY_EXISTS", "Promo code already exists.")
    made = []
    for code in wanted:
        while not code or code in taken:
            raw = secrets.token_hex(6).upper()
            code = "-".join(raw[i : i + 4] for i in range(0, 12, 4))
        if len(code) > 255:  # `clean_codes_instance`: the model's max_length
            raise VoucherRefused("code", "INVALID", "Ensure this value has at most 255 characters.")
        made.append(VoucherCode(id=store.next_id(), voucher_id=voucher.id, code=code))
    return made


def channel_listing(
    store: StoreBase,
    voucher: Voucher,
    channel: str,
    value: Decimal,
    min_spent: Decimal | Unset | None,
) -> VoucherChannelListing:
    """voucher_channel_listing_update.py `clean_discount_values_per_channel` and
    `add_channels` (`update_or_create`: a channel already listed keeps its id and, when the
    input leaves it out, its minimum spend); values are `PositiveDecimal` (never negative)."""
    chan = store.channel_by_slug(channel)
    current = voucher.listing_for(chan.id)
    for field, amount in (("discountValue", value), ("minAmountSpent", min_spent)):
        if isinstance(amount, Decimal) and amount < 0:
            raise VoucherRefused(field, "GRAPHQL_ERROR", f"Expected type PositiveDecimal: {amount}")
    if not value and current is None:
        raise VoucherRefused("discountValue", "REQUIRED", "Value is required for voucher.")
    if voucher.discount_value_type is DiscountValueType.FIXED:
        if not is_precise(value, chan.currency_code):
            raise VoucherRefused("discountValue", "INVALID", "Invalid amount precision.")
    elif value > 100:
        raise VoucherRefused("discountValue", "INVALID", "Invalid percentage value.")
    if isinstance(min_spent, Decimal) and not is_precise(min_spent, chan.currency_code):
        raise VoucherRefused("minAmountSpent", "INVALID", "Invalid amount precision.")
    if min_spent is UNSET:
        min_spent = current.min_spent if current else None
    return VoucherChannelListing(
        id=current.id if current else store.next_id(),
        channel_id=chan.id,
        discount_value=value,
        currency=chan.currency_code,
        min_spent=min_spent,
    )
