"""Whether Mailchimp takes a channel's currency: only ISO 4217's current codes. It refused a cart
in the Belarusian rouble's code withdrawn in 2016: "The provided code 'BYR' is not a valid ISO
4217 currency code." (mailchimp/mc-woocommerce#180), and its spec asks every store, order and
cart for "The three-letter ISO 4217 code". Saleor checks a channel's code only for its length
(saleor/channel/models.py `currency_code`, a CharField of 3; channel_create.py takes any string),
and no store's currency can change in Mailchimp, so such a channel cannot have a new store.

The codes are ISO 4217's current list as pycountry carries it (26.2: BGN withdrawn with the euro
in Bulgaria, XCG and ZWG added), not CLDR's: babel's territory data lags ISO and varies with the
release (`pyproject.toml`).
"""

from __future__ import annotations

import functools

import pycountry


@functools.cache
def _current() -> frozenset[str]:
    return frozenset(currency.alpha_3 for currency in pycountry.currencies)


def accepted_by_mailchimp(code: str) -> bool:
    return code.strip().upper() in _current()


def refusal(channel_name: str, code: str) -> str:
    """Why the channel cannot be tracked, in words."""
    return (
        f"Mailchimp accepts only current ISO 4217 currency codes, and {channel_name} uses "
        f"{code!r}: Mailchimp refuses its store. Create a channel in a current currency in "
        "Saleor to track its sales."
    )
