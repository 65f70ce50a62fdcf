"""Saleor's `Money` and `TaxedMoney` as the sandbox answers them: amounts rounded to the
currency's decimal places, as Saleor's `Money.resolve_amount` does (saleor/graphql/core/types/
money.py: `quantize_price`, saleor/core/prices.py, with babel's `get_currency_precision`): to the
cent, to the yen, to the fils.

Both are frozen value objects computed from amounts alone, so one object is made per amount
(and currency) and shared: a page of 100 orders reads thousands of them (every line's prices,
every order's totals), and making each afresh (a Decimal rounded, a frozen dataclass built)
was a sixth of the page's time. The memo is keyed by the amounts' values, which fix the answer:
`Decimal.quantize` rounds by value (`Decimal("1.5")` and `Decimal("1.50")` give the same), as
`float(Decimal(x))` of an equal float does, under the default decimal context (the sandbox never
changes it). Only the sign of a zero is not part of its value (`Decimal("-0") == 0`, yet
`float` keeps it: -0.0), so a zero amount's key says its sign. A value that cannot be a key
(a signalling NaN) or that is not equal to itself (NaN) is computed each time, as before.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from babel.numbers import get_currency_precision

# A few thousand amounts and currencies in a large store; cleared if ever that many more.
MEMO_LIMIT = 1 << 16


@dataclass(frozen=True)
class Money:
    currency: str
    amount: float

    @classmethod
    def of(cls, amount: Decimal | float, currency: str) -> Money:
        key = (_value(amount), currency)
        try:
            known = _MONEY.get(key)
        except TypeError:  # unhashable (a signalling NaN): as before, whatever it gives
            return cls._made(amount, currency)
        if known is None:
            known = cls._made(amount, currency)
            if len(_MONEY) >= MEMO_LIMIT:
                _MONEY.clear()
            _MONEY[key] = known
        return known

    @classmethod
    def _made(cls, amount: Decimal | float, currency: str) -> Money:
        step = currency_step(currency)
        return cls(currency=currency, amount=float(Decimal(amount).quantize(step)))


@dataclass(frozen=True)
class TaxedMoney:
    currency: str
    gross: Money
    net: Money
    tax: Money

    @classmethod
    def of(cls, net: Decimal, gross: Decimal, currency: str) -> TaxedMoney:
        key = (_value(net), _value(gross), currency)
        try:
            known = _TAXED.get(key)
        except TypeError:
            return cls._made(net, gross, currency)
        if known is None:
            known = cls._made(net, gross, currency)
            if len(_TAXED) >= MEMO_LIMIT:
                _TAXED.clear()
            _TAXED[key] = known
        return known

    @classmethod
    def _made(cls, net: Decimal, gross: Decimal, currency: str) -> TaxedMoney:
        return cls(
            currency=currency,
            gross=Money.of(gross, currency),
            net=Money.of(net, currency),
            tax=Money.of(gross - net, currency),
        )

    @classmethod
    def untaxed(cls, amount: Decimal, currency: str) -> TaxedMoney:
        return cls.of(amount, amount, currency)


_MONEY: dict[tuple[Any, str], Money] = {}
_TAXED: dict[tuple[Any, Any, str], TaxedMoney] = {}


def _value(amount: Any) -> Any:
    """The memo's key for an amount: the amount itself, a zero with its sign."""
    if amount:
        return amount
    if isinstance(amount, Decimal):
        return (amount, amount.is_signed())
    if isinstance(amount, float):
        return (amount, math.copysign(1.0, amount) < 0)
    return (amount, type(amount))


def currency_places(currency: str) -> int:
    """Saleor's `get_currency_precision` (babel's CLDR data), which `quantize_price` and
    `validate_price_precision` (saleor/graphql/core/validators/__init__.py) read: 2 for most,
    0 for JPY, 3 for KWD."""
    return _places(currency.upper())


def currency_step(currency: str) -> Decimal:
    """The currency's smallest amount (`quantize_price` rounds to it): 0.01, 1 for JPY."""
    return Decimal(1).scaleb(-currency_places(currency))


@functools.cache
def _places(currency: str) -> int:
    return int(get_currency_precision(currency))
