"""`customers` and `orders` pages are found by testing candidates from the cursor on, counting
all of them only for a selected `totalCount` (connections.py): every page, count and error is
the one `paginate` gives for the list filtered first (what the sandbox did before), forwards
and backwards, with every filter the listings take, after the store changed (in Saleor's
default orderings; `sortBy` in test_orderings.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import sandboxes.saleor.listings as listings
from sandboxes.saleor import SaleorSandbox, SandboxApp
from sandboxes.saleor.connections import paginate
from sandboxes.saleor.order_models import OrderStatus
from sandboxes.saleor.versions import CURRENT_VERSION

STAFF = SandboxApp(
    id=0, name="staff", identifier="x", version="1", permissions=["MANAGE_ORDERS", "MANAGE_USERS"]
)
DAY = datetime(2026, 3, 10, tzinfo=UTC)


def _filtered_first(info: Any, items: Any, key: Any, *, keep: Any = None, **args: Any) -> Any:
    """The reference: the whole list filtered, then paged."""
    kept = [item for item in items if keep(item)] if keep is not None else items
    return paginate(info, kept, key, **args)


def _sandbox() -> SaleorSandbox:
    saleor = SaleorSandbox(version=CURRENT_VERSION)
    saleor.generate_store(products=4, customers=30, orders=60, seed=11)
    store = saleor.store
    second = store.add_channel("second")
    users = sorted(store.customers.values(), key=lambda c: c.id)
    for index, user in enumerate(users):
        user.date_joined = DAY + timedelta(hours=index * 7 % 41)
        user.updated_at = DAY + timedelta(hours=index % 5)
        user.is_staff = index % 4 == 0  # staff count as customers only with an order
    orders = sorted(store.orders.values(), key=lambda o: o.id)
    for index, order in enumerate(orders):
        order.created = DAY + timedelta(hours=index * 11 % 47)
        order.updated_at = DAY + timedelta(hours=index % 3)
        if index % 5 == 0:
            order.status = OrderStatus.DRAFT
        if index % 6 == 0:
            store.update_order(order, channel_id=second.id)
    return saleor


CUSTOMERS = """query($f: CustomerFilterInput, $w: CustomerWhereInput, $s: String, $first: Int,
  $last: Int, $after: String, $before: String, $t: Boolean!) {
  customers(filter: $f, where: $w, search: $s, first: $first, last: $last, after: $after,
            before: $before) {
    totalCount @include(if: $t)
    again: totalCount @skip(if: true)
    edges { cursor node { id email } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""

ORDERS = """query($f: OrderFilterInput, $w: OrderWhereInput, $s: String, $c: String, $first: Int,
  $last: Int, $after: String, $before: String, $t: Boolean!) {
  orders(filter: $f, where: $w, search: $s, channel: $c, first: $first, last: $last,
         after: $after, before: $before) {
    ...Counted
    edges { cursor node { id number status } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
fragment Counted on OrderCountableConnection { ... { totalCount @include(if: $t) } }"""

LOW, HIGH = (DAY + timedelta(hours=4)).isoformat(), (DAY + timedelta(hours=30)).isoformat()
CUSTOMER_FILTERS: list[dict[str, Any]] = [
    {},
    {"f": {"dateJoined": {"gte": "2026-03-10", "lte": "2026-03-10"}}},
    {"w": {"dateJoined": {"gte": LOW, "lte": HIGH}}},
    {"f": {"updatedAt": {"gte": (DAY + timedelta(hours=1)).isoformat()}}},
    {"s": "example"},
    {"s": "no such customer"},
]
ORDER_FILTERS: list[dict[str, Any]] = [
    {},
    {"c": "default-channel"},
    {"w": {"createdAt": {"gte": LOW, "lte": HIGH}}, "c": "second"},
    {"w": {"createdAt": {"gte": LOW}, "updatedAt": {"lte": DAY.isoformat()}}},
    {"f": {"created": {"gte": "2026-03-11"}, "updatedAt": {"gte": DAY.isoformat()}}},
    {"s": "1"},
    {"w": {"createdAt": {"gte": HIGH, "lte": LOW}}},  # empty
]


async def _both(
    saleor: SaleorSandbox, monkeypatch: pytest.MonkeyPatch, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    """The answer, asserted to be the reference's too."""
    ours = await saleor.execute(query, variables, app=STAFF)
    with monkeypatch.context() as patched:
        patched.setattr(listings, "paginate", _filtered_first)
        reference = await saleor.execute(query, variables, app=STAFF)
    assert ours == reference
    return ours


async def _walk(
    saleor: SaleorSandbox,
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    name: str,
    filters: dict[str, Any],
) -> list[str]:
    """Every page forwards then backwards, three at a time; the ids read forwards."""
    ids: list[str] = []
    cursor: str | None = None
    for step in range(100):
        variables = {**filters, "first": 3, "after": cursor, "t": step % 2 == 0}
        body = await _both(saleor, monkeypatch, query, variables)
        assert "errors" not in body, body
        connection = body["data"][name]
        assert ("totalCount" in connection) == (step % 2 == 0)
        ids += [edge["node"]["id"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        cursor = connection["pageInfo"]["endCursor"]
    backwards: list[str] = []
    cursor = None
    for step in range(100):
        variables = {**filters, "last": 3, "before": cursor, "t": step % 2 == 1}
        body = await _both(saleor, monkeypatch, query, variables)
        connection = body["data"][name]
        backwards = [edge["node"]["id"] for edge in connection["edges"]] + backwards
        if not connection["pageInfo"]["hasPreviousPage"]:
            break
        cursor = connection["pageInfo"]["startCursor"]
    assert backwards == ids
    return ids


@pytest.mark.parametrize(
    ("query", "name", "filters"),
    [(CUSTOMERS, "customers", f) for f in CUSTOMER_FILTERS]
    + [(ORDERS, "orders", f) for f in ORDER_FILTERS],
)
async def test_pages_are_those_of_the_list_filtered_first(
    monkeypatch: pytest.MonkeyPatch, query: str, name: str, filters: dict[str, Any]
) -> None:
    saleor = _sandbox()
    await _walk(saleor, monkeypatch, query, name, filters)
    # The store changes once the indexes exist: a staff user's first order, a draft confirmed,
    # an order made a draft, users and orders made, backdated and deleted.
    store = saleor.store
    staff = next(c for c in store.customers.values() if c.is_staff and not store.has_orders(c.id))
    users = sorted(store.customers.values(), key=lambda c: c.id)
    orders = sorted(store.orders.values(), key=lambda o: o.id)
    store.create_order(user=staff).created = DAY + timedelta(hours=6)
    orders[0].status = OrderStatus.UNFULFILLED
    orders[1].status = OrderStatus.DRAFT
    orders[2].created = DAY + timedelta(hours=5)
    users[1].date_joined = DAY + timedelta(hours=5)
    store.update_customer(users[2], email="moved@example.com")
    store.delete_customer(users[3])
    store.delete_order(orders[3])
    store.create_customer("late@example.com").date_joined = DAY + timedelta(hours=7)
    await _walk(saleor, monkeypatch, query, name, filters)


@pytest.mark.parametrize(
    "args",
    [
        {"first": 0},
        {},
        {"first": -1},
        {"first": 101},
        {"last": 101},
        {"first": 2, "last": 2},
        {"first": 2, "before": "WyI1Il0="},
        {"last": 2, "after": "WyI1Il0="},
        {"first": 2, "after": "not a cursor"},
        {"first": 2, "after": "WyJ4Il0="},  # ["x"]
        {"last": 2, "before": "WyIxMDAwMDAiXQ=="},  # beyond the last pk
        {"first": 2, "after": "WyItMSJd"},  # ["-1"]
        {"first": 2, "ids": True},
    ],
)
async def test_arguments_and_errors_are_those_of_the_list_filtered_first(
    monkeypatch: pytest.MonkeyPatch, args: dict[str, Any]
) -> None:
    saleor = _sandbox()
    if args.pop("ids", False):
        some = sorted(saleor.store.customers.values(), key=lambda c: c.id)[:9]
        args["f"] = {"ids": [c.global_id for c in some]}
    for query in (CUSTOMERS, ORDERS):
        await _both(saleor, monkeypatch, query, {**args, "t": True})


@pytest.mark.parametrize(
    ("query", "name", "channel"),
    [(CUSTOMERS, "customers", None), (ORDERS, "orders", None), (ORDERS, "orders", "second")],
)
async def test_by_ids_the_listing_holds_those_a_scan_keeps(
    monkeypatch: pytest.MonkeyPatch, query: str, name: str, channel: str | None
) -> None:
    """`filter: {ids}` looks its ids up instead of scanning: the same entities, in the same order,
    with the creation range and the other filters too."""
    saleor = _sandbox()
    store = saleor.store
    every = [*store.customers.values(), *store.orders.values()]
    chosen = [item.global_id for index, item in enumerate(every) if index % 3 == 0]
    chosen += ["VXNlcjo5OTk5OQ==", "T3JkZXI6OTk5OTk="]  # User:99999, Order:99999
    scope = {"c": channel} if name == "orders" else {}
    day = {"gte": "2026-03-10", "lte": "2026-03-10"}
    dated = {"f": {"created" if name == "orders" else "dateJoined": day}}
    for extra in ({}, dated):
        scanned = await _walk(saleor, monkeypatch, query, name, {**scope, **extra})
        filters = {**scope, **extra}
        filters["f"] = {**filters.get("f", {}), "ids": chosen}
        by_ids = await _walk(saleor, monkeypatch, query, name, filters)
        assert by_ids == [i for i in scanned if i in chosen] != []


async def test_a_malformed_id_is_refused_before_a_cursor_of_another_ordering() -> None:
    """Saleor filters (`filter_connection_queryset`: the ids resolved) before it pages
    (`connection_from_queryset_slice`: the cursor read)."""
    saleor = _sandbox()
    body = await saleor.execute(
        '{ orders(filter: {ids: ["bad"]}, first: 1, after: "WyI1Il0=", '
        "sortBy: {field: CREATED_AT, direction: ASC}) { totalCount } }",
        app=STAFF,
    )
    assert body["errors"][0]["message"] == "Couldn't resolve id: bad.", body
    body = await saleor.execute(
        '{ orders(first: 1, after: "WyI1Il0=", sortBy: {field: CREATED_AT, direction: ASC}) '
        "{ totalCount } }",
        app=STAFF,
    )
    assert body["errors"][0]["message"] == "Received cursor is invalid.", body
