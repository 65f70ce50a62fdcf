"""`customers` and `orders`: the listings an initial sync reads page by page, slice by slice.

Each finds its candidates in the ordering asked for (`sortBy`, or Saleor's default: see
orderings.py; a creation range from the store's index, see created_range) and hands its other
filters to `paginate` as one test (`keep`), which tests candidates from the page's cursor on
until the page is full, and all of them only for a selected `totalCount` (see connections.py):
the same page as filtering every candidate first, without testing a whole slice for each of its
pages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any, TypeVar

from graphql import GraphQLError

from .account_schema import is_customer
from .arguments import channel_named, ids_filter, matches_search, page_args, time_range
from .connections import paginate, saleor_error
from .context import Info, api_context
from .created_range import by_creation, where_range
from .models import Checkout, Customer
from .order_models import Order, OrderStatus
from .orderings import CHECKOUT_DEFAULT_CURSOR, checkouts_order, customers_order, orders_order
from .store import SaleorStore

T = TypeVar("T")


def resolve_customers(
    root: Any,
    info: Info,
    search: str | None = None,
    filter: dict[str, Any] | None = None,
    **args: Any,
) -> Any:
    context = api_context(info)
    context.viewer.require("MANAGE_ORDERS", "MANAGE_USERS")
    pks = ids_filter(filter, None)
    # `CustomerFilterInput.updatedAt: DateTimeRangeInput` (in every supported schema): inclusive.
    updated = time_range((filter or {}).get("updatedAt"))
    # Creation first (see created_range): a slice's page looks at its slice only. By ids: those
    # users only, not a scan of every user.
    store = context.store
    order = customers_order(context.saleor_version, args.get("sortBy"))
    dated = by_creation(
        info,
        store.customers.values() if pks is None else _by_ids(store.customers, pks),
        "date_joined",
        order,
        # the store's index, as Saleor's database's
        in_range=partial(store.customers_listed, order) if pks is None else None,
    )

    def keep(c: Customer) -> bool:
        return (
            is_customer(store, c)
            and matches_search(search, c.email, c.first_name, c.last_name)
            and (pks is None or c.id in pks)
            and updated(c.updated_at)
        )

    return paginate(info, dated, order, keep=keep, **page_args(args))


def _by_ids(table: dict[int, T], pks: set[int]) -> list[T]:
    return [table[pk] for pk in sorted(pks) if pk in table]


def resolve_orders(
    root: Any,
    info: Info,
    channel: str | None = None,
    search: str | None = None,
    where: dict[str, Any] | None = None,
    filter: dict[str, Any] | None = None,
    **args: Any,
) -> Any:
    context = api_context(info)
    context.viewer.require("MANAGE_ORDERS")
    if filter and where:  # saleor/graphql/core/connection.py, filter_connection_queryset
        raise GraphQLError("Only one filtering argument (filter or where) can be specified.")
    store = context.store
    # An unknown slug lists nothing (`resolve_orders` filters by `channel__slug`).
    chan = channel_named(store, channel) if channel else None
    chan_id = chan.id if chan is not None else None
    # A malformed id is reported after the creation filters' errors, as before (see below).
    try:
        # An order's id names its UUID (`Order.global_id`).
        pks, ids_error = ids_filter(filter, "Order", store.order_pk), None
    except GraphQLError as error:
        pks, ids_error = None, error
    orders: Iterable[Order] = _channel_orders(store, chan_id)  # listed only if needed
    if pks is not None:  # those orders only (by pk), not a scan of the channel's
        orders = [o for o in _by_ids(store.orders, pks) if chan_id in (None, o.channel_id)]
    order = orders_order(context.saleor_version, args.get("sortBy"))
    in_range = None
    if search:
        orders = [o for o in orders if matches_search(search, str(o.number), o.user_email)]
    elif pks is None:
        # A creation range is looked up in the store's creation index (Saleor's database
        # index on created_at), not by a scan of the channel's orders per page.
        in_range = partial(store.orders_listed, chan_id, order)
    # `filter: {created}`, `where: {createdAt}` and the ordering (see created_range).
    dated = by_creation(info, orders, "created", order, in_range=in_range)
    tests: list[Callable[[Order], bool]] = []
    updated = where_range(where, "updatedAt")
    if updated is not None:
        tests.append(lambda o: updated(o.updated_at))
    if filter and filter.get("updatedAt"):
        within = time_range(filter["updatedAt"])
        tests.append(lambda o: within(o.updated_at))
    # `filter: {status}`: the orders of any status listed (saleor/graphql/order/filters.py
    # `filter_status`: `status__in`, tags 3.20.119 and 723cd4e); an empty list filters nothing
    # (django-filter's `MultipleChoiceFilter.filter`: `if not value: return qs`).
    statuses = frozenset((filter or {}).get("status") or ())
    if statuses:
        tests.append(lambda o: o.status.value in statuses)
    if ids_error is not None:
        raise ids_error

    # No drafts: they are `draftOrders`' (saleor/graphql/order/resolvers.py `resolve_orders`,
    # `Order.objects.non_draft()`, the same at tag 3.20.119 and commit 723cd4e).
    def keep(o: Order) -> bool:
        return o.status is not OrderStatus.DRAFT and all(test(o) for test in tests)

    return paginate(info, dated, order, keep=keep, **page_args(args))


def _channel_orders(store: SaleorStore, channel_id: int | None) -> Iterator[Order]:
    yield from store.orders.values() if channel_id is None else store.orders_in_channel(channel_id)


def resolve_checkouts(
    root: Any,
    info: Info,
    channel: str | None = None,
    filter: dict[str, Any] | None = None,
    **args: Any,
) -> Any:
    """``checkouts`` (saleor/graphql/checkout/schema.py, the same at tag 3.20.119 and commit
    723cd4e): to MANAGE_CHECKOUTS or HANDLE_PAYMENTS; every channel's checkouts, or one
    channel's by slug; ``filter: {updatedAt}`` a DateRangeInput on the UTC day of
    ``last_change`` (saleor/graphql/checkout/filters.py ``filter_updated_at_range``:
    ``last_change__date``), which ``Checkout.updatedAt`` shows; listed as ``Checkout.Meta``
    orders them, ("-last_change", "pk") (saleor/checkout/models.py)."""
    context = api_context(info)
    context.viewer.require("MANAGE_CHECKOUTS", "HANDLE_PAYMENTS")
    store = context.store
    # `queryset.filter(channel__slug=...)` (saleor/graphql/checkout/resolvers.py
    # `resolve_checkouts`): an unknown slug lists nothing, it is no error.
    channel_ids = {c.id for c in store.channels.values() if channel is None or c.slug == channel}
    within = time_range((filter or {}).get("updatedAt"))
    order = checkouts_order(args.get("sortBy"))

    def keep(c: Checkout) -> bool:
        return c.channel_id in channel_ids and within(c.last_change.date())

    if order is None:
        return default_checkouts_page(info, store.checkouts.values(), keep, **page_args(args))
    listed = sorted(store.checkouts.values(), key=order.key)
    return paginate(info, listed, order, keep=keep, **page_args(args))


def default_checkouts_page(
    info: Info,
    checkouts: Iterable[Checkout],
    keep: Callable[[Checkout], bool],
    *,
    first: int | None,
    last: int | None,
    after: str | None,
    before: str | None,
) -> Any:
    """`checkouts` without `sortBy`, paged as Saleor pages it. `Checkout.Meta.ordering` is
    ("-last_change", "pk"): newest change first and, within one moment, pk ascending. But a
    cursor is compared in one direction for every field, the first one's
    (saleor/graphql/utils/sorting.py `sort_queryset_by_default`: `direction` of the first;
    saleor/graphql/core/connection.py `_prepare_filter`: `lt` for each): after a page that ends
    at (X, P), the next holds what changed before X and, at X, the pks below P. So checkouts
    changed at the same moment across a page boundary (Saleor sets `last_change` of many at
    once: saleor/shipping/tasks.py, saleor/giftcard/utils.py) are partly never listed and partly
    listed twice (the same at tag 3.20.119 and commit 723cd4e). Forward only: `last` and
    `before` reverse both fields into one direction, which the sandbox refuses rather than
    models."""
    if last or before:
        raise saleor_error("The sandbox pages `checkouts` without `sortBy` forward only.")
    # Stable sorts: pk ascending within a moment, moments newest first.
    listed = sorted(
        sorted(checkouts, key=lambda c: c.token), key=lambda c: c.last_change, reverse=True
    )
    rest = listed
    if after:
        moment, pk = CHECKOUT_DEFAULT_CURSOR.position(after)
        rest = [
            c
            for c in listed
            if c.last_change < moment or (c.last_change == moment and c.token < pk)
        ]
    connection: dict[str, Any] = paginate(
        info, rest, CHECKOUT_DEFAULT_CURSOR, keep=keep, first=first
    )
    connection["pageInfo"]["hasPreviousPage"] = bool(after)
    if "totalCount" in connection:
        connection["totalCount"] = sum(1 for c in listed if keep(c))
    return connection
