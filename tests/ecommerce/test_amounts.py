"""Amounts have their currency's places as Saleor rounds them (`ecommerce/amounts.py`): babel's
data of the releases Saleor uses, and a line's price of one item half up."""

from __future__ import annotations

from decimal import Decimal

import pytest

from addon.ecommerce.amounts import amount_text, money
from addon.ecommerce.sale_payloads import unit_price


@pytest.mark.parametrize(
    ("currency", "amount", "sent"),
    [
        ("USD", "9.995", 10.0),
        ("KWD", "1.2345", 1.235),
        ("JPY", "666.5", 667.0),
        # Where babel 2.19's CLDR data differs from the 2.14 to 2.18 Saleor uses.
        ("HUF", "1234.56", 1234.56),
        ("IDR", "15999.50", 15999.5),
        ("COP", "2500.75", 2500.75),
        ("RSD", "99.5", 100.0),
    ],
)
def test_amounts_keep_the_places_saleor_gives_their_currency(
    currency: str, amount: str, sent: float
) -> None:
    assert money(Decimal(amount), currency) == sent


def test_a_price_of_one_item_rounds_half_up_as_saleors_unit_price() -> None:
    # saleor/checkout/base_calculations.py `calculate_base_line_unit_price`: a `prices.Money`
    # quantized, ROUND_HALF_UP: 10.05 over 2 is 5.03 (half to even would make 5.02).
    assert unit_price(Decimal("10.05"), 2, "USD") == 5.03
    assert amount_text(Decimal("5"), "KWD") == "5.000"
    assert amount_text(Decimal("1500"), "JPY") == "1500"
