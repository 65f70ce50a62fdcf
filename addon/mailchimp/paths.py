"""Marketing API paths, built in one place from ids that come from elsewhere (Saleor, admins).

The client's calls and the operations of a batch (`batches.py`) both address resources by
these paths, so an id is checked and quoted the same way whichever way it is sent.
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote

__all__ = [
    "audience",
    "cart",
    "carts",
    "customer",
    "customers",
    "member",
    "order",
    "orders",
    "product",
    "products",
    "segment",
    "store",
    "subscriber_hash",
    "variant",
]


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


def customers(store_id: str) -> str:
    return f"{store(store_id)}/customers"


def customer(store_id: str, customer_id: str) -> str:
    return f"{customers(store_id)}/{segment(customer_id)}"


def products(store_id: str) -> str:
    return f"{store(store_id)}/products"


def product(store_id: str, product_id: str) -> str:
    return f"{products(store_id)}/{segment(product_id)}"


def variant(store_id: str, product_id: str, variant_id: str) -> str:
    return f"{product(store_id, product_id)}/variants/{segment(variant_id)}"


def orders(store_id: str) -> str:
    return f"{store(store_id)}/orders"


def order(store_id: str, order_id: str) -> str:
    return f"{orders(store_id)}/{segment(order_id)}"


def carts(store_id: str) -> str:
    return f"{store(store_id)}/carts"


def cart(store_id: str, cart_id: str) -> str:
    return f"{carts(store_id)}/{segment(cart_id)}"
