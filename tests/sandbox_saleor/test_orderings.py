"""`customers`, `orders` and `products` listed in Saleor's orderings (orderings.py): without
`sortBy` in the models' default order (by e-mail, by number newest first, by slug; with `pk`
last on the current Saleor, not on 3.20), with `sortBy: CREATED_AT` by the sort enum's fields of
the version, paged with `after`/`before` cursors either way; a cursor of another ordering is
refused as Saleor refuses it."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sandboxes.saleor import SaleorSandbox, SandboxApp
from sandboxes.saleor.order_models import OrderStatus
from sandboxes.saleor.versions import CURRENT_VERSION, OLDEST_VERSION

STAFF = SandboxApp(
    id=0,
    name="staff",
    identifier="x",
    version="1",
    permissions=["MANAGE_ORDERS", "MANAGE_USERS", "MANAGE_PRODUCTS"],
)
DAY = datetime(2026, 3, 10, tzinfo=UTC)
VERSIONS = [OLDEST_VERSION, CURRENT_VERSION]

PAGE = """query($first: Int, $last: Int, $after: String, $before: String, $sort: %s) {
  %s(first: $first, last: $last, after: $after, before: $before, sortBy: $sort%s) {
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""
QUERIES = {
    "customers": PAGE % ("UserSortingInput", "customers", ""),
    "orders": PAGE % ("OrderSortingInput", "orders", ', channel: "default-channel"'),
    "products": PAGE % ("ProductOrder", "products", ', channel: "default-channel"'),
}
ASC = {"field": "CREATED_AT", "direction": "ASC"}
DESC = {"field": "CREATED_AT", "direction": "DESC"}


def _sandbox(version: str) -> SaleorSandbox:
    """A store whose creation times tie in threes (the sort's later fields decide), out of pk
    order, and whose e-mails, numbers and slugs are out of creation order too."""
    saleor = SaleorSandbox(version=version)
    saleor.generate_store(products=14, customers=17, orders=23, seed=8)
    store = saleor.store
    for index, order in enumerate(sorted(store.orders.values(), key=lambda o: o.id)):
        order.created = DAY + timedelta(hours=index * 5 % 7)
        if index % 2:
            order.status = OrderStatus.FULFILLED
    for index, customer in enumerate(sorted(store.customers.values(), key=lambda c: c.id)):
        customer.date_joined = DAY + timedelta(hours=index * 3 % 6)
    for index, product in enumerate(sorted(store.products.values(), key=lambda p: p.id)):
        product.created = DAY + timedelta(hours=index * 4 % 5)
        product.name = f"Thing {index % 3}"
    return saleor


def _expected(saleor: SaleorSandbox, name: str, sort: dict[str, Any] | None) -> list[str]:
    """The global ids in Saleor's order, worked out here from the sort enums' fields."""
    store, current = saleor.store, saleor.version == CURRENT_VERSION
    items: list[Any]
    if name == "customers":
        items = [c for c in store.customers.values() if not c.is_staff or store.has_orders(c.id)]
        if sort is None:  # ("email",), then pk
            items.sort(key=lambda c: (c.email, c.id))
        else:  # ["date_joined", "pk"]
            items.sort(key=lambda c: (c.date_joined, c.id))
    elif name == "orders":
        items = [o for o in store.orders.values() if o.status is not OrderStatus.DRAFT]
        if sort is None:  # ("-number",), then -pk
            items.sort(key=lambda o: -o.number)
        else:  # ["created_at", "status", "pk"], "number" instead of "pk" since 3.22
            last = (lambda o: o.number) if current else (lambda o: o.token)
            items.sort(key=lambda o: (o.created, o.status.value.lower(), last(o)))
    else:
        items = list(store.products.values())
        if sort is None:  # ("slug",), then pk
            items.sort(key=lambda p: p.slug)
        else:  # ["created_at", "name", "slug"]
            items.sort(key=lambda p: (p.created, p.name, p.slug))
    if sort is not None and sort["direction"] == "DESC":
        items.reverse()
    return [item.global_id for item in items]


async def _page(saleor: SaleorSandbox, name: str, **variables: Any) -> dict[str, Any]:
    body = await saleor.execute(QUERIES[name], variables, app=STAFF)
    assert "errors" not in body, body
    return dict(body["data"][name])


async def _walk(saleor: SaleorSandbox, name: str, sort: dict[str, Any] | None) -> list[str]:
    """Every page forwards, four at a time, then backwards: the same ids."""
    ids: list[str] = []
    cursor = None
    while True:
        connection = await _page(saleor, name, first=4, after=cursor, sort=sort)
        ids += [edge["node"]["id"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        cursor = connection["pageInfo"]["endCursor"]
    backwards: list[str] = []
    cursor = None
    while True:
        connection = await _page(saleor, name, last=4, before=cursor, sort=sort)
        backwards = [edge["node"]["id"] for edge in connection["edges"]] + backwards
        if not connection["pageInfo"]["hasPreviousPage"]:
            break
        cursor = connection["pageInfo"]["startCursor"]
    assert backwards == ids
    return ids


def _values(cursor: str) -> list[str]:
    return list(json.loads(base64.b64decode(cursor)))


def _cursor(*values: str) -> str:
    return base64.b64encode(json.dumps(list(values)).encode()).decode()


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", ["customers", "orders", "products"])
@pytest.mark.parametrize("sort", [None, ASC, DESC], ids=["default", "asc", "desc"])
async def test_pages_follow_saleors_ordering_with_after_and_before(
    version: str, name: str, sort: dict[str, Any] | None
) -> None:
    saleor = _sandbox(version)
    assert await _walk(saleor, name, sort) == _expected(saleor, name, sort) != []


@pytest.mark.parametrize(
    ("version", "fields"),
    [
        (OLDEST_VERSION, {"customers": 1, "orders": 1, "products": 1}),
        (CURRENT_VERSION, {"customers": 2, "orders": 2, "products": 2}),
    ],
)
async def test_default_cursors_hold_the_model_ordering_and_pk_since_the_tie_breaker(
    version: str, fields: dict[str, int]
) -> None:
    """saleor/graphql/utils/sorting.py `sort_queryset_by_default`: ["email"], ["number"],
    ["slug"] at 3.20.119; ["email", "pk"], ["number", "pk"], ["slug", "pk"] since #19560."""
    saleor = _sandbox(version)
    store = saleor.store
    for name, count in fields.items():
        edge = (await _page(saleor, name, first=1))["edges"][0]
        values = _values(edge["cursor"])
        assert len(values) == count, name
        if name == "orders":
            newest = max(store.orders.values(), key=lambda o: o.number)
            assert values[0] == str(newest.number)
            assert values[1:] in ([], [str(newest.token)])  # Saleor's pk, a UUID
        elif name == "customers":
            assert values[0] == min(c.email for c in store.customers.values())
        else:
            assert values[0] == min(p.slug for p in store.products.values())


@pytest.mark.parametrize("version", VERSIONS)
async def test_created_at_cursors_hold_the_versions_sort_fields(version: str) -> None:
    saleor = _sandbox(version)
    first = min(saleor.store.orders.values(), key=lambda o: (o.created, o.status.value.lower()))
    edge = (await _page(saleor, "orders", first=1, sort=ASC))["edges"][0]
    last = str(first.number) if version == CURRENT_VERSION else str(first.token)
    assert _values(edge["cursor"]) == [str(first.created), first.status.value.lower(), last]
    customer = (await _page(saleor, "customers", first=1, sort=ASC))["edges"][0]
    assert len(_values(customer["cursor"])) == 2  # ["date_joined", "pk"]
    product = (await _page(saleor, "products", first=1, sort=ASC))["edges"][0]
    assert len(_values(product["cursor"])) == 3  # ["created_at", "name", "slug"]


async def _refusal(saleor: SaleorSandbox, name: str, after: str, sort: Any) -> dict[str, Any]:
    variables = {"first": 2, "after": after, "sort": sort}
    body = await saleor.execute(QUERIES[name], variables, app=STAFF)
    assert body["data"][name] is None, body
    return dict(body["errors"][0])


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", ["customers", "orders", "products"])
async def test_a_default_order_cursor_is_refused_with_sort_by_and_back(
    version: str, name: str
) -> None:
    """connection_from_queryset_slice: a cursor of another number of fields is invalid, and so
    is one whose value an integer field cannot take; a value a date-time field cannot take is
    Django's ValidationError (not caught)."""
    saleor = _sandbox(version)
    default = (await _page(saleor, name, first=2))["pageInfo"]["endCursor"]
    created = (await _page(saleor, name, first=2, sort=ASC))["pageInfo"]["endCursor"]
    error = await _refusal(saleor, name, default, ASC)
    if name == "customers" and version == CURRENT_VERSION:
        # ["email", "pk"] read as ["date_joined", "pk"]: the e-mail is no date-time.
        assert error["extensions"]["exception"]["code"] == "ValidationError"
        assert "value has an invalid format" in error["message"]
    else:
        assert error["message"] == "Received cursor is invalid."
    if name == "customers" and version == CURRENT_VERSION:
        # ["date_joined", "pk"] read as ["email", "pk"]: both fit (Saleor cannot tell).
        assert "errors" not in await saleor.execute(
            QUERIES[name], {"first": 2, "after": created}, app=STAFF
        )
    else:
        error = await _refusal(saleor, name, created, None)
        assert error["message"] == "Received cursor is invalid."


async def test_an_orders_created_at_cursor_of_3_20_is_refused_by_3_22_and_later() -> None:
    """OrderSortField.CREATED_AT's last field was the pk (a UUID), `number` since 3.22.0: the
    integer field cannot take a UUID ("Received cursor is invalid."), the UUID field cannot take
    a number (ValidationError)."""
    saleor = _sandbox(OLDEST_VERSION)
    old = (await _page(saleor, "orders", first=3, sort=ASC))["pageInfo"]["endCursor"]
    saleor.version = CURRENT_VERSION
    assert (await _refusal(saleor, "orders", old, ASC))["message"] == "Received cursor is invalid."
    new = (await _page(saleor, "orders", first=3, sort=ASC))["pageInfo"]["endCursor"]
    saleor.version = OLDEST_VERSION
    error = await _refusal(saleor, "orders", new, ASC)
    assert error["extensions"]["exception"]["code"] == "ValidationError"
    assert "is not a valid UUID" in error["message"]


@pytest.mark.parametrize(
    "after", [_cursor("x", "y", "z"), _cursor(str(DAY), "unfulfilled"), "not a cursor"]
)
async def test_malformed_created_at_cursors_are_refused(after: str) -> None:
    saleor = _sandbox(CURRENT_VERSION)
    error = await _refusal(saleor, "orders", after, ASC)
    if after.startswith("WyJ4"):  # ["x", "y", "z"]: the date-time first
        assert error["extensions"]["exception"]["code"] == "ValidationError"
    else:
        assert error["message"] == "Received cursor is invalid."


async def test_a_product_sort_needs_a_field() -> None:
    """ProductOrder's `field` is optional in the schema (or `attributeId`, which the sandbox
    does not offer): the sandbox sorts by CREATED_AT only."""
    saleor = _sandbox(CURRENT_VERSION)
    body = await saleor.execute(QUERIES["products"], {"first": 1, "sort": {"direction": "ASC"}})
    assert body["data"]["products"] is None and "CREATED_AT" in body["errors"][0]["message"]


@pytest.mark.parametrize("version", VERSIONS)
async def test_what_is_created_while_paging_by_default_is_skipped_by_creation_is_read(
    version: str,
) -> None:
    """Why the initial sync sorts: an order placed after the first page is listed first in
    Saleor's default order (the newest number), so the pages after the cursor never hold it; a
    customer whose e-mail sorts before the cursor likewise. Oldest first, both come last."""
    saleor = _sandbox(version)
    store = saleor.store
    for sort in (None, ASC):
        for name in ("orders", "customers"):
            first = await _page(saleor, name, first=3, sort=sort)
            if name == "orders":
                line = store.order_line_for(next(iter(store.variants.values())), 1)
                made: Any = store.create_order(lines=[line], email="late@example.com")
                made.created = DAY + timedelta(days=1)
            else:
                made = store.create_customer(f"aaa.{sort is None}@example.com", "A", "A")
                made.date_joined = DAY + timedelta(days=1)
            ids: list[str] = []
            cursor = first["pageInfo"]["endCursor"]
            while cursor is not None:
                connection = await _page(saleor, name, first=5, after=cursor, sort=sort)
                ids += [edge["node"]["id"] for edge in connection["edges"]]
                has_next = connection["pageInfo"]["hasNextPage"]
                cursor = connection["pageInfo"]["endCursor"] if has_next else None
            assert (made.global_id in ids) is (sort is not None), (name, sort)
