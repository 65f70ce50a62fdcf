"""Orders and customers filtered and sorted by creation as Saleor does (created_range): day
filters compare whole UTC days, `where` ranges compare instants, both bounds inclusive; a
`where` range with no bound matches nothing; `sortBy: CREATED_AT` finds the oldest and newest
(paging in Saleor's orderings: test_orderings.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sandboxes.saleor import SaleorSandbox, SandboxApp
from sandboxes.saleor.versions import CURRENT_VERSION, OLDEST_VERSION

STAFF = SandboxApp(
    id=0, name="staff", identifier="x", version="1", permissions=["MANAGE_ORDERS", "MANAGE_USERS"]
)
DAY = datetime(2026, 3, 10, tzinfo=UTC)


def _sandbox(version: str) -> SaleorSandbox:
    saleor = SaleorSandbox(version=version)
    saleor.generate_store(products=3, customers=6, orders=6, seed=3)
    # 21:00 the day before, 03:00, 09:00 and 15:00, then twice 03:00 the day after (a tie).
    moments = [DAY + timedelta(hours=hours) for hours in (-3, 3, 9, 15, 27, 27)]
    for order, moment in zip(sorted(saleor.store.orders.values(), key=lambda o: o.id), moments):
        order.created = moment
    for customer, moment in zip(
        sorted(saleor.store.customers.values(), key=lambda c: c.id), moments
    ):
        customer.date_joined = moment
    return saleor


async def _count(saleor: SaleorSandbox, query: str, variables: dict[str, Any]) -> Any:
    body = await saleor.execute(query, variables, app=STAFF)
    return body


ORDERS_BY_DAY = "query($f: OrderFilterInput) { orders(filter: $f, first: 50) { totalCount } }"
ORDERS_WHERE = "query($w: OrderWhereInput) { orders(where: $w, first: 50) { totalCount } }"
CUSTOMERS_BY_DAY = (
    "query($f: CustomerFilterInput) { customers(filter: $f, first: 50) { totalCount } }"
)
CUSTOMERS_WHERE = "query($w: CustomerWhereInput) { customers(where: $w, first: 50) { totalCount } }"


@pytest.mark.parametrize("version", [OLDEST_VERSION, CURRENT_VERSION])
@pytest.mark.parametrize(
    ("query", "field"), [(ORDERS_BY_DAY, "created"), (CUSTOMERS_BY_DAY, "dateJoined")]
)
async def test_day_filters_compare_whole_utc_days_bounds_included(
    version: str, query: str, field: str
) -> None:
    saleor = _sandbox(version)
    connection = "orders" if field == "created" else "customers"

    async def total(bounds: dict[str, Any]) -> int:
        body = await _count(saleor, query, {"f": {field: bounds}})
        assert "errors" not in body, body
        return int(body["data"][connection]["totalCount"])

    assert await total({"gte": "2026-03-10", "lte": "2026-03-10"}) == 3  # 03:00 … 15:00
    assert await total({"lte": "2026-03-09"}) == 1
    assert await total({"gte": "2026-03-11"}) == 2
    # Adjacent day ranges split the store without loss or overlap.
    assert await total({"lte": "2026-03-09"}) + await total({"gte": "2026-03-10"}) == 6
    assert await total({}) == 6  # an empty range filters nothing
    assert await total({"lte": "9999-12-31"}) == 6


@pytest.mark.parametrize(
    ("query", "field"), [(ORDERS_WHERE, "createdAt"), (CUSTOMERS_WHERE, "dateJoined")]
)
async def test_where_ranges_compare_instants_bounds_included(query: str, field: str) -> None:
    saleor = _sandbox(CURRENT_VERSION)
    connection = "orders" if field == "createdAt" else "customers"
    tie = (DAY + timedelta(hours=27)).isoformat()

    async def total(bounds: Any) -> int:
        body = await _count(saleor, query, {"w": {field: bounds}})
        assert "errors" not in body, body
        return int(body["data"][connection]["totalCount"])

    assert await total({"gte": (DAY + timedelta(hours=9)).isoformat()}) == 4
    assert await total({"lte": tie}) == 6  # both orders at the tie: lte includes
    assert await total({"gte": tie}) == 2  # and so does gte
    assert await total({"lte": (DAY + timedelta(hours=27, microseconds=-1)).isoformat()}) == 4
    # Saleor's filter_where_by_range_field: no bound, or null, matches nothing.
    assert await total({}) == 0
    assert await total(None) == 0


@pytest.mark.parametrize(
    ("query", "name"), [(ORDERS_WHERE, "OrderWhereInput"), (CUSTOMERS_WHERE, "CustomerWhereInput")]
)
async def test_where_needs_saleor_3_22(query: str, name: str) -> None:
    saleor = _sandbox(OLDEST_VERSION)
    body = await saleor.execute(query, {"w": {}}, app=STAFF)
    assert body.get("data") is None
    assert any(name in error["message"] for error in body["errors"])


async def test_customers_take_one_filtering_argument() -> None:
    saleor = _sandbox(CURRENT_VERSION)
    body = await saleor.execute(
        '{ customers(filter: {dateJoined: {gte: "2026-03-10"}}, '
        'where: {dateJoined: {gte: "2026-03-10T00:00:00+00:00"}}, first: 1) { totalCount } }',
        app=STAFF,
    )
    assert body["errors"][0]["message"] == (
        "Only one filtering argument (filter or where) can be specified."
    )


@pytest.mark.parametrize("version", [OLDEST_VERSION, CURRENT_VERSION])
async def test_sorted_by_creation_the_oldest_and_newest(version: str) -> None:
    saleor = _sandbox(version)
    body = await saleor.execute(
        """{
          oldestOrder: orders(first: 1, sortBy: {field: CREATED_AT, direction: ASC}) {
            edges { node { created } }
          }
          newestOrder: orders(first: 1, sortBy: {field: CREATED_AT, direction: DESC}) {
            edges { node { created } }
          }
          oldestCustomer: customers(first: 1, sortBy: {field: CREATED_AT, direction: ASC}) {
            edges { node { dateJoined } }
          }
          newestCustomer: customers(first: 2, sortBy: {field: CREATED_AT, direction: DESC}) {
            edges { node { dateJoined } }
          }
        }""",
        app=STAFF,
    )
    assert "errors" not in body, body
    data = body["data"]

    def first(alias: str, field: str) -> datetime:
        return datetime.fromisoformat(data[alias]["edges"][0]["node"][field])

    assert first("oldestOrder", "created") == DAY - timedelta(hours=3)
    assert first("newestOrder", "created") == DAY + timedelta(hours=27)
    assert first("oldestCustomer", "dateJoined") == DAY - timedelta(hours=3)
    assert [e["node"]["dateJoined"] for e in data["newestCustomer"]["edges"]] == [
        (DAY + timedelta(hours=27)).isoformat()
    ] * 2


async def test_a_sorted_connection_is_paged_with_its_own_cursors_only() -> None:
    """A cursor is a position in one ordering: the default one's (["number", "pk"]) is refused
    with `sortBy` (["created_at", "status", "number"]); the sorted connection's own is taken."""
    saleor = _sandbox(CURRENT_VERSION)
    page = "{ orders(first: 2%s%s) { pageInfo { endCursor } } }"
    by_number = (await saleor.execute(page % ("", ""), app=STAFF))["data"]["orders"]
    sort = ", sortBy: {field: CREATED_AT, direction: ASC}"
    after = f', after: "{by_number["pageInfo"]["endCursor"]}"'
    body = await saleor.execute(page % (after, sort), app=STAFF)
    assert body["errors"][0]["message"] == "Received cursor is invalid."
    sorted_ = (await saleor.execute(page % ("", sort), app=STAFF))["data"]["orders"]
    after = f', after: "{sorted_["pageInfo"]["endCursor"]}"'
    assert "errors" not in await saleor.execute(page % (after, sort), app=STAFF)


ORDERS_PAGE = """query($w: OrderWhereInput, $c: String, $after: String) {
  orders(where: $w, channel: $c, first: 7, after: $after) {
    edges { node { id } } pageInfo { hasNextPage endCursor }
  }
}"""


async def _paged_ids(saleor: SaleorSandbox, where: dict[str, Any], channel: str | None) -> list:
    ids: list[str] = []
    after = None
    while True:
        body = await saleor.execute(
            ORDERS_PAGE, {"w": where, "c": channel, "after": after}, app=STAFF
        )
        assert "errors" not in body, body
        connection = body["data"]["orders"]
        ids += [edge["node"]["id"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return ids
        after = connection["pageInfo"]["endCursor"]


async def test_creation_index_pages_exactly_what_a_scan_finds() -> None:
    """A creation range is looked up in the store's index (sorted by creation, bisected), not
    by a scan per page: its pages hold exactly the orders a scan finds, in Saleor's default
    order (the newest number first), also after orders are backdated, made or deleted once the
    index exists."""
    saleor = SaleorSandbox(version=CURRENT_VERSION)
    saleor.generate_store(products=4, customers=6, orders=40, seed=5)
    store = saleor.store
    second = store.add_channel("second")
    orders = sorted(store.orders.values(), key=lambda o: o.id)
    for index, order in enumerate(orders):
        order.created = DAY + timedelta(hours=index * 7 % 29)  # ties, out of pk order
    low, high = DAY + timedelta(hours=5), DAY + timedelta(hours=20)
    where = {"createdAt": {"gte": low.isoformat(), "lte": high.isoformat()}}

    def scanned(channel: str | None) -> list[str]:
        return [
            o.global_id
            for o in sorted(store.orders.values(), key=lambda o: -o.number)
            if low <= o.created <= high
            and (channel is None or store.channels[o.channel_id].slug == channel)
        ]

    async def check() -> None:
        for channel in (None, "default-channel", "second"):
            assert await _paged_ids(saleor, where, channel) == scanned(channel)

    await check()
    assert scanned(None)  # the range is not empty
    orders[0].created = low  # backdated into the range after the index was built
    orders[1].created = high + timedelta(microseconds=1)  # and out of it
    await check()
    store.update_order(orders[2], channel_id=second.id)
    store.delete_order(orders[3])
    await check()


async def test_a_query_is_checked_against_each_version_once_parsed() -> None:
    """Documents are parsed and validated once per text and Saleor version: the same text is
    still refused by a Saleor without `orders(where:)` after another version answered it, and
    a text that does not parse is refused each time."""
    current, oldest = _sandbox(CURRENT_VERSION), _sandbox(OLDEST_VERSION)
    since = DAY.isoformat()
    query = f'{{ orders(where: {{createdAt: {{gte: "{since}"}}}}, first: 9) {{ totalCount }} }}'
    for _ in range(2):
        assert (await current.execute(query, app=STAFF))["data"]["orders"]["totalCount"] == 5
        refused = await oldest.execute(query, app=STAFF)
        assert refused.get("data") is None
        assert any("where" in error["message"] for error in refused["errors"]), refused
        assert "errors" in await current.execute("{ orders(first: 1) {", app=STAFF)


CUSTOMERS_PAGE = """query($f: CustomerFilterInput, $after: String) {
  customers(filter: $f, first: 4, after: $after) {
    edges { node { id } } pageInfo { hasNextPage endCursor }
  }
}"""


async def test_customers_join_index_pages_exactly_what_a_scan_finds() -> None:
    """The same for customers by the day they joined (by e-mail, Saleor's default order): also
    after users are backdated, made, deleted or change e-mail once the index exists."""
    saleor = SaleorSandbox(version=CURRENT_VERSION)
    saleor.generate_store(products=2, customers=30, orders=0, seed=5)
    store = saleor.store
    users = sorted(store.customers.values(), key=lambda c: c.id)
    for index, user in enumerate(users):
        user.date_joined = DAY + timedelta(hours=index * 11 % 53)
    days = {"gte": "2026-03-10", "lte": "2026-03-11"}

    def scanned() -> list[str]:
        return [
            c.global_id
            for c in sorted(store.customers.values(), key=lambda c: c.email)
            if DAY <= c.date_joined < DAY + timedelta(days=2)
        ]

    async def paged() -> list[str]:
        ids: list[str] = []
        after = None
        while True:
            variables = {"f": {"dateJoined": days}, "after": after}
            body = await saleor.execute(CUSTOMERS_PAGE, variables, app=STAFF)
            assert "errors" not in body, body
            connection = body["data"]["customers"]
            ids += [edge["node"]["id"] for edge in connection["edges"]]
            if not connection["pageInfo"]["hasNextPage"]:
                return ids
            after = connection["pageInfo"]["endCursor"]

    assert await paged() == scanned() != []
    users[0].date_joined = DAY + timedelta(days=3)  # out of the range after the index was made
    users[-1].date_joined = DAY  # and into it
    assert await paged() == scanned()
    store.create_customer("late@example.com", "Late", "Joiner").date_joined = DAY
    store.delete_customer(users[1])
    assert await paged() == scanned()
    store.update_customer(users[2], email="aaa.first@example.com")  # first by e-mail now
    assert await paged() == scanned()
