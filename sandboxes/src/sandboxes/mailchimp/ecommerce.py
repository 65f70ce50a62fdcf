"""E-commerce: what a store's resources share (their path, finding the store, the clock).

The resources themselves: stores (`stores.py`), customers (`customers.py`), products and
variants (`products.py`), orders (`orders.py`) and carts (`carts.py`). Creating a resource whose
id exists is a 400.
"""

from __future__ import annotations

from .errors import MailchimpError, not_found
from .routing import ApiRequest
from .state import StoreData

STORE = "/ecommerce/stores/{store_id}"


def already_exists(kind: str) -> MailchimpError:
    """As Mailchimp words it: 400 "Bad Request", "We were unable to process the request. An
    order with the provided ID already exists in the account." (ibericode/mailchimp-for-
    wordpress#494; a product's, nopSolutions/mailchimp-plugin-for-nopcommerce#14)."""
    article = "An" if kind[0] in "aeiou" else "A"
    return MailchimpError(
        400,
        "Bad Request",
        "We were unable to process the request. "
        f"{article} {kind} with the provided ID already exists in the account.",
    )


def store_data(request: ApiRequest) -> StoreData:
    found = request.account.stores.get(request.params["store_id"])
    if found is None:
        raise not_found()
    return found


def now(request: ApiRequest) -> str:
    return request.sandbox.clock.iso()
