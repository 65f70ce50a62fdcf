"""The currency codes Mailchimp takes: ISO 4217's current ones. A store, an order or a cart in a
code that is not one is refused: "The provided code 'BYR' is not a valid ISO 4217 currency
code." (mailchimp/mc-woocommerce#180: a cart in the Belarusian rouble's code withdrawn in 2016;
the spec's `E_commerce_Store.currency_code`, `E_commerce_Order.currency_code`: "The three-letter
ISO 4217 code"). Saleor checks a channel's code only for its length (saleor/graphql/channel/
mutations/channel_create.py, `currency_code = graphene.String`), so a store may use any.

The list is ISO 4217's current one as pycountry carries it (26.2: BGN withdrawn, XCG and ZWG
in)."""

from __future__ import annotations

import functools

import pycountry

from .errors import field_invalid


@functools.cache
def current_codes() -> frozenset[str]:
    return frozenset(currency.alpha_3 for currency in pycountry.currencies)


def check_currency(code: str, field: str = "currency_code") -> None:
    if code.upper() not in current_codes():
        raise field_invalid(
            field, f"The provided code '{code}' is not a valid ISO 4217 currency code."
        )
