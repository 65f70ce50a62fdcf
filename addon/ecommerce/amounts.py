"""Amounts as Mailchimp gets them: numbers with as many decimal places as their currency has.

Saleor rounds every amount to its currency's places (saleor/core/prices.py `quantize_price`,
with babel's `get_currency_precision`: 2 for most currencies, 0 for JPY, 3 for KWD), and so do
these, by the same data (babel pinned to the releases Saleor uses: pyproject.toml): a dinar
price keeps its fils, a yen price has none. Saleor's amounts come rounded already; what the app
computes is a line's price of one item, its total over the quantity, which Saleor rounds half up
(`calculate_base_line_unit_price` quantizes a `prices.Money`, whose `quantize` rounds
ROUND_HALF_UP): so do these.
"""

from __future__ import annotations

import functools
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import get_currency_precision

__all__ = ["amount_text", "money", "quantize"]


@functools.cache
def _step(currency: str) -> Decimal:
    return Decimal(1).scaleb(-int(get_currency_precision(currency.upper())))


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Rounded to the currency's places, half up."""
    return amount.quantize(_step(currency), ROUND_HALF_UP)


def money(amount: Decimal, currency: str) -> float:
    return float(quantize(amount, currency))


def amount_text(amount: Decimal, currency: str) -> str:
    """E.g. "5.00", "500", "1.250": the amount as the currency writes it."""
    return f"{quantize(amount, currency):f}"
