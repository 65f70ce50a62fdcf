"""Marketing API paths, built in one place from ids that come from elsewhere (Saleor, admins).

The client's calls and the operations of a batch (`batches.py`) both address resources by
these paths, so an id is checked and quoted the same way whichever way it is sent.
"""

from __future__ import annotations

import hashlib
from typing import Literal
from urllib.parse import quote

__all__ = [
    "ACCOUNT_ORDERS",
    "CAMPAIGNS",
    "StoreCollection",
    "audience",
    "connected_site",
    "email_activity",
    "in_store",
    "member",
    "order_line",
    "report",
    "segment",
    "store",
    "subscriber_hash",
    "variant",
    "verify_script",
]

CAMPAIGNS = "/campaigns"
# Every store's orders of the account (filtered by `campaign_id`, `outreach_id`, ...).
ACCOUNT_ORDERS = "/ecommerce/orders"


def subscriber_hash(email: str) -> str:
    """Mailchimp's member id: the MD5 hex digest of the lower-cased e-mail address."""
    return hashlib.md5(email.strip().lower().encode(), usedforsecurity=False).hexdigest()


def segment(value: str) -> str:
    """Quote one path segment (ids come from Saleor and may contain anything).

    A ``/`` cannot be sent even percent-encoded (servers decode ``%2F`` before routing), so
    such ids are refused here rather than hitting the wrong resource.
    """
    if not value or "/" in value:
        raise ValueError(f"{value!r} cannot be used as a Mailchimp id (empty or contains '/')")
    return quote(value, safe="")


def audience(list_id: str) -> str:
    return f"/lists/{segment(list_id)}"


def member(list_id: str, email_or_hash: str) -> str:
    """A member by e-mail address or subscriber hash."""
    key = email_or_hash if "@" not in email_or_hash else subscriber_hash(email_or_hash)
    return f"{audience(list_id)}/members/{segment(key)}"


def store(store_id: str) -> str:
    return f"/ecommerce/stores/{segment(store_id)}"


# The collections of a store (each of its items is addressed by `in_store(store, name, id)`).
StoreCollection = Literal["customers", "products", "orders", "carts"]


def in_store(store_id: str, collection: StoreCollection, item_id: str | None = None) -> str:
    """A store's collection, or one item of it."""
    path = f"{store(store_id)}/{collection}"
    return path if item_id is None else f"{path}/{segment(item_id)}"


def variant(store_id: str, product_id: str, variant_id: str) -> str:
    return f"{in_store(store_id, 'products', product_id)}/variants/{segment(variant_id)}"


def order_line(store_id: str, order_id: str, line_id: str) -> str:
    return f"{in_store(store_id, 'orders', order_id)}/lines/{segment(line_id)}"


def report(campaign_id: str) -> str:
    """A sent campaign's report."""
    return f"/reports/{segment(campaign_id)}"


def email_activity(campaign_id: str) -> str:
    return f"{report(campaign_id)}/email-activity"


def connected_site(site_id: str) -> str:
    return f"/connected-sites/{segment(site_id)}"


def verify_script(site_id: str) -> str:
    """The action that checks the connected site's script is installed."""
    return f"{connected_site(site_id)}/actions/verify-script-installation"
