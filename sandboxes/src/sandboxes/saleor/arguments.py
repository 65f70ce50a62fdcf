"""Arguments the sandbox's resolvers share: a global id as a pk, a connection's page arguments,
``search``, the deprecated ``filter: {ids: [...]}``, the ``channel`` a product is read in and a
date/time range input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .connections import saleor_error
from .context import Info, api_context
from .ids import InvalidGlobalId, from_global_id, pk_from_global_id
from .models import Channel
from .store_base import NotFound, StoreBase


def pk_or_none(global_id: str, type_name: str) -> int | None:
    try:
        return pk_from_global_id(global_id, type_name)
    except InvalidGlobalId:
        return None


def page_args(args: dict[str, Any]) -> dict[str, Any]:
    return {k: args.get(k) for k in ("first", "last", "after", "before")}


def matches_search(search: str | None, *values: str | None) -> bool:
    if not search:
        return True
    needle = search.lower()
    return any(needle in (v or "").lower() for v in values)


def ids_filter(
    filter: dict[str, Any] | None,
    type_name: str | None,
    pk_of: Callable[[str], int | None] | None = None,
) -> set[int] | None:
    """The pks a deprecated `filter: {ids: [...]}` keeps; None: no filtering.

    As Saleor 3.20+ does: an absent or empty list filters nothing (`filter_by_id`,
    saleor/graphql/utils/filters.py; `filter_order_by_id`, saleor/graphql/order/filters.py;
    django-filter's MultipleChoiceFilter for customers); a malformed id is an error
    ("Couldn't resolve id", `resolve_global_ids_to_primary_keys`, saleor/graphql/utils/
    __init__.py); an id of another type is skipped for products and orders, while customers'
    `GlobalIDMultipleChoiceFilter(field_name="id")` (saleor/graphql/account/filters.py) takes
    the pk of any type (`type_name` None).
    """
    ids = (filter or {}).get("ids")
    if not ids:
        return None
    pks: set[int] = set()
    for global_id in ids:
        try:
            found_type, pk = from_global_id(global_id)
        except InvalidGlobalId as exc:
            raise saleor_error(f"Couldn't resolve id: {global_id}.") from exc
        if type_name is not None and found_type != type_name:
            continue
        found = pk_of(pk) if pk_of is not None else (int(pk) if pk.isdigit() else None)
        if found is not None:  # the sandbox's pks are integers (`pk_of`: from what ids name)
            pks.add(found)
    return pks


def channel_named(store: StoreBase, slug: str) -> Channel:
    """The channel a query's `channel` argument names; for a slug no channel has, a channel
    of that slug in which nothing is listed. Saleor's `ChannelBySlugLoader` finds nothing and
    the query stays limited to the channel asked for (`limited_channel_access`), so it answers
    no product, variant or voucher listed there, not an error (saleor/graphql/product/schema.py
    `resolve_products` and `resolve_product`, product/managers.py `visible_to_user`,
    discount/resolvers.py `resolve_vouchers`; the same at tag 3.20.119 and commit 723cd4e)."""
    try:
        return store.channel_by_slug(slug)
    except NotFound:
        return Channel(id=0, slug=slug, name=slug)  # pks start at 1: nothing refers to 0


def channel_arg(info: Info, channel: str | None) -> Channel | None:
    context = api_context(info)
    if channel is not None:
        return channel_named(context.store, channel)
    if context.viewer.has_any(["MANAGE_PRODUCTS", "MANAGE_ORDERS", "MANAGE_DISCOUNTS"]):
        return None
    return context.store.default_channel() if context.store.channels else None


def time_range(bounds: dict[str, Any] | None) -> Callable[[Any], bool]:
    """A `DateTimeRangeInput` or `DateRangeInput` as a predicate (an absent or null bound does
    not limit)."""
    low, high = (bounds or {}).get("gte"), (bounds or {}).get("lte")
    return lambda moment: (low is None or moment >= low) and (high is None or moment <= high)
