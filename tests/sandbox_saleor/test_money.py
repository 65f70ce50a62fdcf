"""Money and TaxedMoney are shared per amount (money.py): each answer is the one made afresh,
whatever amounts were asked before, a zero's sign included; amounts that cannot be kept (NaN,
a signalling NaN, an infinity) answer or fail as they did."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

import pytest

from sandboxes.saleor import money
from sandboxes.saleor.money import Money, TaxedMoney

AMOUNTS: list[Decimal | float | int] = [
    Decimal("1.5"),
    Decimal("1.50"),
    1.5,
    Decimal("0.125"),  # half to even: 0.12
    Decimal("0.135"),
    0.1,
    Decimal("0.1"),
    Decimal("0"),
    Decimal("-0"),
    Decimal("0.00"),
    Decimal("-0.00"),
    0.0,
    -0.0,
    0,
    Decimal("-12.345"),
    Decimal("1E+3"),
    7,
    True,
]


def _fresh(amount: Decimal | float, currency: str) -> tuple[str, float, bool]:
    made = Money._made(amount, currency)
    return made.currency, made.amount, math.copysign(1.0, made.amount) < 0


def _as_made(found: Money) -> tuple[str, float, bool]:
    return found.currency, found.amount, math.copysign(1.0, found.amount) < 0


@pytest.mark.parametrize("order", [1, -1])
def test_money_is_what_it_was_made_whatever_came_before(order: int) -> None:
    money._MONEY.clear()
    for _ in range(2):
        for amount in AMOUNTS[::order]:
            for currency in ("USD", "EUR"):
                assert _as_made(Money.of(amount, currency)) == _fresh(amount, currency), amount


def test_taxed_money_is_what_it_was_made_whatever_came_before() -> None:
    money._TAXED.clear()
    decimals = [a for a in AMOUNTS if isinstance(a, Decimal)]
    for _ in range(2):
        for net in decimals:
            for gross in decimals:
                found = TaxedMoney.of(net, gross, "USD")
                made = TaxedMoney._made(net, gross, "USD")
                for part in ("gross", "net", "tax"):
                    assert _as_made(getattr(found, part)) == _as_made(getattr(made, part))
                assert found == made


def test_amounts_that_are_not_kept_answer_as_before() -> None:
    assert math.isnan(Money.of(Decimal("NaN"), "USD").amount)
    assert math.isnan(Money.of(math.nan, "USD").amount)
    for _ in range(2):
        with pytest.raises(InvalidOperation):
            Money.of(Decimal("sNaN"), "USD")
        with pytest.raises(InvalidOperation):
            Money.of(Decimal("Infinity"), "USD")
        with pytest.raises(InvalidOperation):
            TaxedMoney.of(Decimal("sNaN"), Decimal(1), "USD")


def test_the_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(money, "MEMO_LIMIT", 10)
    money._MONEY.clear()
    for cents in range(1, 100):
        assert Money.of(Decimal(cents) / 100, "USD").amount == cents / 100
    assert len(money._MONEY) <= 10
