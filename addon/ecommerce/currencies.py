"""Whether Mailchimp takes a channel's currency: only ISO 4217's current codes. It refused a cart
in the Belarusian rouble's code withdrawn in 2016: "The provided code 'BYR' is not a valid ISO
4217 currency code." (mailchimp/mc-woocommerce#180), and its spec asks every store, order and
cart for "The three-letter ISO 4217 code". Saleor checks a channel's code only for its length
(saleor/channel/models.py `currency_code`, a CharField of 3; channel_create.py takes any string),
and no store's currency can change in Mailchimp, so such a channel cannot have a store at all.

The codes are those some territory uses today, tender or not, in CLDR's data as babel has it
(pinned with Saleor's: pyproject.toml), less CNH, the offshore yuan, which is CLDR's, not ISO's.
"""

from __future__ import annotations

import functools
from datetime import date

from babel.core import get_global
from babel.numbers import get_territory_currencies

NOT_ISO = frozenset({"CNH"})


@functools.cache
def _current(today: date) -> frozenset[str]:
    codes: set[str] = set()
    for territory in get_global("territory_currencies"):
        codes.update(get_territory_currencies(territory, today, tender=True, non_tender=True))
    return frozenset(codes - NOT_ISO)


def accepted_by_mailchimp(code: str, today: date) -> bool:
    return code.strip().upper() in _current(today)


def refusal(channel_name: str, code: str) -> str:
    """Why the channel cannot be tracked, in words."""
    return (
        f"Mailchimp accepts only current ISO 4217 currency codes, and {channel_name} uses "
        f"{code!r}: Mailchimp refuses its store. Create a channel in a current currency in "
        "Saleor to track its sales."
    )
