"""GraphQL resolvers of vouchers (`voucher`, `vouchers`, `Voucher`, `VoucherCode`,
`VoucherChannelListing`, `Order.voucher`, `OrderLine.voucherCode`), after Saleor's
saleor/graphql/discount/schema.py and types/vouchers.py.

Saleor's rules kept here: `voucher` and `vouchers` need MANAGE_DISCOUNTS, and so does
`Voucher.channelListings`; `discountValue`, `currency` and `minSpent` are those of the channel
the voucher is read in (`channel` argument) and null without one; `vouchers(channel:)` lists
only the vouchers listed in that channel (saleor/graphql/discount/resolvers.py); `code` is the
voucher's oldest code and `used` the sum of its codes' (`CodeByVoucherIDLoader`,
`UsedByVoucherIDLoader`, saleor/graphql/discount/dataloaders.py); `vouchers` come by name, then
pk (`_ByName`); `codes` come newest first (`VoucherCode.Meta.ordering = ("-created_at",
"code")`, the connection's default order).
Imported by `resolver_map.py` when it builds its resolver map (and `as_view` by `schema.py`).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from .arguments import channel_arg, ids_filter, matches_search, page_args
from .connections import paginate
from .context import Info, api_context
from .cursors import INVALID, Field, Key, Ordering, as_int, as_text, saleor_error
from .metadata_schema import metadata_resolvers
from .models import Channel, utcnow
from .money import Money
from .order_models import Order
from .voucher_models import Voucher, VoucherChannelListing, VoucherCode

MANAGE_DISCOUNTS = "MANAGE_DISCOUNTS"


@dataclass(frozen=True)
class VoucherView:
    """A voucher read in a channel (Saleor's `ChannelContext`), or in none."""

    voucher: Voucher
    channel: Channel | None


def as_view(value: Any, channel: Channel | None = None) -> Any:
    return VoucherView(value, channel) if isinstance(value, Voucher) else value


class _ByName(Ordering[Voucher]):
    """`vouchers`' order without `sortBy`, the same at 3.20.119 and 723cd4e: the model's
    `Meta.ordering = ("name", "pk")` (saleor/discount/models.py `Voucher`), taken by
    saleor/graphql/utils/sorting.py `sort_queryset_by_default`, so a cursor is `[name, pk]`. A
    voucher's name may be null (`null=True`): PostgreSQL puts nulls last in an ascending order,
    and the cursor holds `null` for it (saleor/graphql/core/connection.py `to_global_cursor`;
    `_prepare_filter` reads a null as "the nulls after it"). Names compare by code point here,
    by the database's collation in Saleor: the app may count on no order of names at all."""

    def key(self, item: Voucher) -> Key:
        return (item.name is None, item.name or "", item.id)

    def cursor(self, item: Voucher) -> str:
        return base64.b64encode(json.dumps([item.name, str(item.id)]).encode()).decode()

    def position(self, cursor: str) -> Key:
        try:
            values = json.loads(base64.b64decode(cursor.encode()).decode())
        except (binascii.Error, ValueError, UnicodeError) as exc:
            raise saleor_error(INVALID) from exc
        if not isinstance(values, list) or len(values) != 2:
            raise saleor_error(INVALID)
        name, pk = values
        if isinstance(name, (list, dict)) or pk is None or isinstance(pk, (list, dict)):
            raise saleor_error(INVALID)
        return (name is None, "" if name is None else str(name), as_int(str(pk)))


BY_NAME = _ByName(
    (Field("name", attrgetter("name"), as_text), Field("pk", attrgetter("id"), as_int))
)


def resolve_voucher(
    root: Any, info: Info, id: str, channel: str | None = None
) -> VoucherView | None:
    context = api_context(info)
    context.viewer.require(MANAGE_DISCOUNTS)
    pks = ids_filter({"ids": [id]}, "Voucher") or set()
    found = next((context.store.vouchers.get(pk) for pk in pks), None)
    return VoucherView(found, channel_arg(info, channel)) if found else None


def _metadata_matches(voucher: Voucher, filters: list[dict[str, Any]] | None) -> bool:
    for item in filters or []:
        if item["key"] not in voucher.metadata:
            return False
        if item.get("value") is not None and voucher.metadata[item["key"]] != item["value"]:
            return False
    return True


def _status_matches(voucher: Voucher, statuses: list[str] | None) -> bool:
    """`filter_status` (saleor/graphql/discount/filters.py): ACTIVE `qs.active(now)`, EXPIRED
    `qs.expired(now)`, SCHEDULED a start still to come; none given filters nothing."""
    if not statuses:
        return True
    now = utcnow()
    return (
        ("ACTIVE" in statuses and voucher.is_active_at(now))
        or ("EXPIRED" in statuses and voucher.is_expired_at(now))
        or ("SCHEDULED" in statuses and voucher.start_date > now)
    )


def resolve_vouchers(
    root: Any,
    info: Info,
    filter: dict[str, Any] | None = None,
    query: str | None = None,
    channel: str | None = None,
    **args: Any,
) -> Any:
    context = api_context(info)
    context.viewer.require(MANAGE_DISCOUNTS)
    chan = channel_arg(info, channel)
    pks = ids_filter(filter, "Voucher")
    filters = filter or {}
    # resolvers.py `resolve_vouchers`: `channel` keeps the vouchers listed in it, the deprecated
    # `query` searches like `filter.search` (`filter_voucher_search`), both applying.
    vouchers = [
        v
        for v in sorted(context.store.vouchers.values(), key=BY_NAME.key)
        if (pks is None or v.id in pks)
        and (channel is None or (chan is not None and v.listing_for(chan.id) is not None))
        and matches_search(query, v.name, *(c.code for c in v.codes))
        and matches_search(filters.get("search"), v.name, *(c.code for c in v.codes))
        and _metadata_matches(v, filters.get("metadata"))
        and _status_matches(v, filters.get("status"))
    ]
    return paginate(info, vouchers, BY_NAME, wrap=lambda v: VoucherView(v, chan), **page_args(args))


def _newest_first(voucher: Voucher) -> list[VoucherCode]:
    """The codes as Saleor pages them: newest first (a later code has a larger sandbox id)."""
    return sorted(voucher.codes, key=lambda c: -c.id)


def _listing(view: VoucherView) -> VoucherChannelListing | None:
    return view.voucher.listing_for(view.channel.id) if view.channel else None


def _on_voucher(fn: Callable[..., Any]) -> Callable[..., Any]:
    return lambda view, info, **kwargs: fn(view.voucher, info, **kwargs)


def _channel_listings(view: VoucherView, info: Info) -> list[VoucherChannelListing]:
    api_context(info).viewer.require(MANAGE_DISCOUNTS)
    return list(view.voucher.channel_listings)


def _min_spent(view: VoucherView, info: Info) -> Money | None:
    listing = _listing(view)
    if listing is None or listing.min_spent is None:
        return None
    return Money.of(listing.min_spent, listing.currency)


def _order_voucher(order: Order, info: Info) -> VoucherView | None:
    """The voucher the order was placed with (its foreign key: still there after its code is
    deleted, gone with the voucher), in the order's channel."""
    store = api_context(info).store
    voucher = store.vouchers.get(order.voucher_id) if order.voucher_id is not None else None
    return VoucherView(voucher, store.channels.get(order.channel_id)) if voucher else None


def voucher_resolvers() -> dict[str, dict[str, Callable[..., Any]]]:
    metadata = {name: _on_voucher(fn) for name, fn in metadata_resolvers().items()}
    v = _on_voucher
    return {
        "Query": {"voucher": resolve_voucher, "vouchers": resolve_vouchers},
        "Voucher": {
            **metadata,
            "id": lambda view, info: view.voucher.global_id,
            "name": v(lambda voucher, info: voucher.name),
            "codes": lambda view, info, **args: paginate(
                info, _newest_first(view.voucher), lambda c: -c.id, **page_args(args)
            ),
            "code": v(lambda voucher, info: voucher.codes[0].code if voucher.codes else None),
            "used": v(lambda voucher, info: sum(c.used for c in voucher.codes)),
            "usageLimit": v(lambda voucher, info: voucher.usage_limit),
            "startDate": v(lambda voucher, info: voucher.start_date),
            "endDate": v(lambda voucher, info: voucher.end_date),
            "applyOncePerOrder": v(lambda voucher, info: voucher.apply_once_per_order),
            "applyOncePerCustomer": v(lambda voucher, info: voucher.apply_once_per_customer),
            "singleUse": v(lambda voucher, info: voucher.single_use),
            "onlyForStaff": v(lambda voucher, info: voucher.only_for_staff),
            "minCheckoutItemsQuantity": v(
                lambda voucher, info: voucher.min_checkout_items_quantity
            ),
            "discountValueType": v(lambda voucher, info: voucher.discount_value_type.value),
            "type": v(lambda voucher, info: voucher.type.value),
            "discountValue": lambda view, info: (
                float(listing.discount_value) if (listing := _listing(view)) else None
            ),
            "currency": lambda view, info: (
                listing.currency if (listing := _listing(view)) else None
            ),
            "minSpent": _min_spent,
            "channelListings": _channel_listings,
        },
        "VoucherChannelListing": {
            "channel": lambda listing, info: api_context(info).store.channels[listing.channel_id],
            "discountValue": lambda listing, info: float(listing.discount_value),
            "minSpent": lambda listing, info: (
                Money.of(listing.min_spent, listing.currency)
                if listing.min_spent is not None
                else None
            ),
        },
        "Order": {"voucher": _order_voucher},
        "OrderLine": {"voucherCode": lambda pair, info: pair[0].voucher_code},
    }
