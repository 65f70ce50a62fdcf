"""The currency codes Mailchimp takes: ISO 4217's current ones. A store, an order or a cart in a
code that is not one is refused: "The provided code 'BYR' is not a valid ISO 4217 currency
code." (mailchimp/mc-woocommerce#180: a cart in the Belarusian rouble's code withdrawn in 2016;
the spec's `E_commerce_Store.currency_code`, `E_commerce_Order.currency_code`: "The three-letter
ISO 4217 code"). Saleor checks a channel's code only for its length (saleor/graphql/channel/
mutations/channel_create.py, `currency_code = graphene.String`), so a store may use any.

The list is the currencies of some territory today, tender or not, in CLDR's data as babel has
it (ISO 4217's list one less what CLDR adds: CNH, the offshore yuan, is CLDR's, not ISO's)."""

from __future__ import annotations

import functools
from datetime import date

from babel.core import get_global
from babel.numbers import get_territory_currencies

from .errors import field_invalid

NOT_ISO = frozenset({"CNH"})


@functools.cache
def current_codes(today: date) -> frozenset[str]:
    codes: set[str] = set()
    for territory in get_global("territory_currencies"):
        codes.update(get_territory_currencies(territory, today, tender=True, non_tender=True))
    return frozenset(codes - NOT_ISO)


def check_currency(code: str, field: str = "currency_code") -> None:
    if code.upper() not in current_codes(date.today()):
        raise field_invalid(
            field, f"The provided code '{code}' is not a valid ISO 4217 currency code."
        )
