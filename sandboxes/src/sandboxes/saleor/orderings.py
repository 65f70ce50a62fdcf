"""The orderings Saleor lists `customers`, `orders` and `products` in, per version.

Without `sortBy` (saleor/graphql/utils/sorting.py `sort_queryset_by_default`): the model's
`Meta.ordering`, the same from tag 3.20.0 to commit 723cd4e: `User` ("email",)
(saleor/account/models.py), `Order` ("-number",) (saleor/order/models.py), `Product` ("slug",)
(saleor/product/models.py); the direction is the first field's. Since saleor/saleor#19560 (see
versions.py `DEFAULT_ORDER_PK_SINCE`) `pk` is added last, in the same direction, to an ordering
without `pk` or `id`: ["email", "pk"], ["-number", "-pk"], ["slug", "pk"].

With `sortBy: {field: CREATED_AT, direction}` (`sort_queryset`: the sort enum's fields, each in
the direction asked):

* customers: `UserSortField.CREATED_AT = ["date_joined", "pk"]` (saleor/graphql/account/sorters.py,
  every supported version);
* orders: `OrderSortField.CREATED_AT = ["created_at", "status", "pk"]` before 3.22.0,
  `["created_at", "status", "number"]` since (saleor/graphql/order/sorters.py; versions.py);
* products: `ProductOrderField.CREATED_AT = ["created_at", "name", "slug"]`
  (saleor/graphql/product/sorters.py, every supported version).

The sandbox sorts by `CREATED_AT` only, the field the app asks for: any other field is refused
rather than answered in an order Saleor would not give. An order's `status` compares as Saleor
stores it (lower case); an order's pk is a UUID in Saleor (`Order.id = UUIDField(primary_key)`),
which the sandbox's order `token` plays. Text compares by code point (PostgreSQL's "C" collation;
a database with a linguistic collation may order punctuation differently).
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any

from .cursors import Field, Ordering, as_int, as_moment, as_text, as_uuid, saleor_error
from .models import Checkout, Customer, Product
from .order_models import Order
from .versions import default_order_ends_with_pk, orders_created_at_by_number

PK: Field[Any] = Field("pk", attrgetter("id"), as_int)

EMAIL: Field[Customer] = Field("email", attrgetter("email"), as_text)
DATE_JOINED: Field[Customer] = Field("date_joined", attrgetter("date_joined"), as_moment)
UPDATED_AT: Field[Customer] = Field("updated_at", attrgetter("updated_at"), as_moment)

NUMBER: Field[Order] = Field("number", attrgetter("number"), as_int)
ORDER_PK: Field[Order] = Field("pk", attrgetter("token"), as_uuid)
ORDER_CREATED: Field[Order] = Field("created_at", attrgetter("created"), as_moment)
STATUS: Field[Order] = Field("status", lambda order: order.status.value.lower(), as_text)

SLUG: Field[Product] = Field("slug", attrgetter("slug"), as_text)
NAME: Field[Product] = Field("name", attrgetter("name"), as_text)
PRODUCT_CREATED: Field[Product] = Field("created_at", attrgetter("created"), as_moment)

LAST_CHANGE: Field[Checkout] = Field("last_change", attrgetter("last_change"), as_moment)
CHECKOUT_PK: Field[Checkout] = Field("pk", attrgetter("token"), as_uuid)
CHECKOUT_CREATED: Field[Checkout] = Field("created_at", attrgetter("created"), as_moment)


def _descending(sort_by: dict[str, Any]) -> bool:
    return bool(sort_by.get("direction") == "DESC")


def _created_at(sort_by: dict[str, Any], connection: str) -> None:
    if sort_by.get("field") != "CREATED_AT":
        # ProductOrder's `field` is optional (or `attributeId`); Saleor sorts by the others too.
        raise saleor_error(
            f"The sandbox sorts `{connection}` by CREATED_AT only, not {sort_by.get('field')!r}."
        )


def customers_order(version: str, sort_by: dict[str, Any] | None) -> Ordering[Customer]:
    if sort_by is None:
        with_pk = default_order_ends_with_pk(version)
        return Ordering((EMAIL, PK) if with_pk else (EMAIL,))
    if sort_by.get("field") == "LAST_MODIFIED_AT":
        # UserSortField.LAST_MODIFIED_AT: ["updated_at", "pk"] (saleor/graphql/account/sorters.py)
        return Ordering((UPDATED_AT, PK), _descending(sort_by))
    _created_at(sort_by, "customers")
    return Ordering((DATE_JOINED, PK), _descending(sort_by))


def orders_order(version: str, sort_by: dict[str, Any] | None) -> Ordering[Order]:
    if sort_by is None:
        with_pk = default_order_ends_with_pk(version)
        return Ordering((NUMBER, ORDER_PK) if with_pk else (NUMBER,), descending=True)
    _created_at(sort_by, "orders")
    last = NUMBER if orders_created_at_by_number(version) else ORDER_PK
    return Ordering((ORDER_CREATED, STATUS, last), _descending(sort_by))


def products_order(version: str, sort_by: dict[str, Any] | None) -> Ordering[Product]:
    if sort_by is None:
        with_pk = default_order_ends_with_pk(version)
        return Ordering((SLUG, PK) if with_pk else (SLUG,))
    _created_at(sort_by, "products")
    return Ordering((PRODUCT_CREATED, NAME, SLUG), _descending(sort_by))


def checkouts_order(sort_by: dict[str, Any] | None) -> Ordering[Checkout] | None:
    """`sortBy: {field: CREATION_DATE}`: `CheckoutSortField.CREATION_DATE = ["created_at",
    "pk"]` in the direction asked (saleor/graphql/checkout/sorters.py, the same at tag 3.20.119
    and commit 723cd4e). None without `sortBy`: `Checkout.Meta.ordering` ("-last_change",
    "pk") mixes directions, which no `Ordering` is (`listings.default_checkouts_page`)."""
    if sort_by is None:
        return None
    if sort_by.get("field") != "CREATION_DATE":
        raise saleor_error(
            f"The sandbox sorts `checkouts` by CREATION_DATE only, not {sort_by.get('field')!r}."
        )
    return Ordering((CHECKOUT_CREATED, CHECKOUT_PK), _descending(sort_by))


# The cursor of the default ordering: its fields as Saleor names them, [last_change, pk].
CHECKOUT_DEFAULT_CURSOR: Ordering[Checkout] = Ordering((LAST_CHANGE, CHECKOUT_PK))
