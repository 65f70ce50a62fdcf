"""The one pager (`addon/saleor/paging.py`): a connection read after each page's `endCursor`,
a page cap, a cursor to go on from in a later job, a connection inside an object, and what
Saleor refuses of a connection's arguments (saleor/graphql/core/connection.py) refused before
any request."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from addon.saleor.client import SaleorClient, SaleorError, SaleorPermissionDenied
from addon.saleor.paging import Page, Pager

API = "https://shop.example/graphql/"
TOKEN = SecretStr("app-token")
TYPES = "ecommerce_product_type_names"  # productTypes(first: $first, after: $after)


class _Saleor:
    """Answers `productTypes` (or `voucher.codes`) from `items`, `size` a page, the cursor
    being the last item's; records each request's variables."""

    def __init__(self, items: list[str], size: int = 2) -> None:
        self.items = items
        self.size = size
        self.asked: list[dict[str, Any]] = []

    def connection(self, after: str | None) -> dict[str, Any]:
        start = self.items.index(after) + 1 if after else 0
        page = self.items[start : start + self.size]
        return {
            "edges": [{"node": {"id": item, "name": item.upper()}} for item in page],
            "pageInfo": {
                "hasNextPage": start + self.size < len(self.items),
                "endCursor": page[-1] if page else None,
            },
        }

    def answer(self, request: httpx.Request) -> httpx.Response:
        variables = json.loads(request.content)["variables"]
        self.asked.append(variables)
        connection = self.connection(variables.get("after"))
        if "id" in variables:
            data: dict[str, Any] = {"voucher": {"id": variables["id"], "codes": connection}}
        else:
            data = {"productTypes": connection}
        return httpx.Response(200, json={"data": data})


@pytest.fixture
async def client() -> AsyncIterator[tuple[SaleorClient, _Saleor]]:
    saleor = _Saleor([f"t{i}" for i in range(7)])
    client = SaleorClient(transport=httpx.MockTransport(saleor.answer))
    try:
        yield client, saleor
    finally:
        await client.aclose()


def _pager(client: SaleorClient, **options: Any) -> Pager:
    return Pager(client, API, TOKEN, TYPES, "productTypes", {"first": 2}, **options)


async def _ids(pager: Pager) -> list[list[str]]:
    return [[node["id"] for node in page.nodes] async for page in pager]


async def test_every_page_is_read_after_the_last_ones_end_cursor(
    client: tuple[SaleorClient, _Saleor],
) -> None:
    saleor_client, saleor = client
    pager = _pager(saleor_client)
    assert await _ids(pager) == [["t0", "t1"], ["t2", "t3"], ["t4", "t5"], ["t6"]]
    assert [v["after"] for v in saleor.asked] == [None, "t1", "t3", "t5"]
    assert all(v["first"] == 2 for v in saleor.asked)
    assert (pager.after, pager.more) == ("t6", False)


async def test_a_page_cap_stops_where_the_next_job_goes_on(
    client: tuple[SaleorClient, _Saleor],
) -> None:
    saleor_client, saleor = client
    first_job = _pager(saleor_client, max_pages=2)
    assert await _ids(first_job) == [["t0", "t1"], ["t2", "t3"]]
    assert (first_job.after, first_job.more) == ("t3", True)

    # The cursor kept between jobs: the next one starts there, and reads on to the end.
    next_job = _pager(saleor_client, after=first_job.after, max_pages=2)
    assert await _ids(next_job) == [["t4", "t5"], ["t6"]]
    assert (next_job.after, next_job.more) == ("t6", False)
    assert [v["after"] for v in saleor.asked] == [None, "t1", "t3", "t5"]

    # Iterated again, a pager goes on from where it stopped: nothing after the last page.
    assert await _ids(next_job) == []
    assert len(saleor.asked) == 4


async def test_leaving_the_loop_keeps_the_position_of_the_last_page_given(
    client: tuple[SaleorClient, _Saleor],
) -> None:
    saleor_client, saleor = client
    pager = _pager(saleor_client)
    async for page in pager:
        if page.nodes[-1]["id"] == "t3":
            break
    assert (pager.after, pager.more) == ("t3", True)
    assert len(saleor.asked) == 2  # no page read ahead


async def test_a_connection_inside_an_object_and_the_answer_beside_it(
    client: tuple[SaleorClient, _Saleor],
) -> None:
    saleor_client, saleor = client
    pager = Pager(
        saleor_client, API, TOKEN, "promo_voucher", "voucher.codes", {"id": "V1"}, max_pages=3
    )
    pages: list[Page] = [page async for page in pager]
    assert [[n["id"] for n in p.nodes] for p in pages] == [["t0", "t1"], ["t2", "t3"], ["t4", "t5"]]
    assert all(p.answer["voucher"]["id"] == "V1" for p in pages)
    assert (pager.after, pager.more) == ("t5", True)
    assert [v["id"] for v in saleor.asked] == ["V1"] * 3


async def test_a_null_connection_or_object_is_an_empty_last_page() -> None:
    answers = iter([{"voucher": None}, {"productTypes": None}])
    client = SaleorClient(
        transport=httpx.MockTransport(
            lambda request: httpx.Response(200, json={"data": next(answers)})
        )
    )
    try:
        codes = Pager(client, API, TOKEN, "promo_voucher", "voucher.codes", {"id": "V1"})
        [page] = [page async for page in codes]
        assert (page.nodes, page.has_next, page.answer) == ([], False, {"voucher": None})
        types = _pager(client, after="kept")
        [page] = [page async for page in types]
        # An empty page keeps the cursor it was read after: a position kept is never lost.
        assert (page.end_cursor, types.after, types.more) == ("kept", "kept", False)
    finally:
        await client.aclose()


async def test_a_next_page_without_a_cursor_is_an_error_not_the_same_page_again() -> None:
    asked: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        info = {"hasNextPage": True, "endCursor": None}
        data = {"productTypes": {"edges": [{"node": {"id": "t0"}}], "pageInfo": info}}
        return httpx.Response(200, json={"data": data})

    client = SaleorClient(transport=httpx.MockTransport(answer))
    try:
        with pytest.raises(SaleorError, match="no endCursor"):
            await _ids(_pager(client))
    finally:
        await client.aclose()
    assert len(asked) == 1


async def test_a_refusal_is_raised_and_told_to_the_listeners_unless_asked_not_to() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        error = {"message": "No", "extensions": {"exception": {"code": "PermissionDenied"}}}
        return httpx.Response(200, json={"data": {"productTypes": None}, "errors": [error]})

    client = SaleorClient(transport=httpx.MockTransport(answer))
    refused: list[str] = []

    async def listener(url: str, token: SecretStr) -> None:
        refused.append(url)

    client.on_refused(listener)
    try:
        with pytest.raises(SaleorPermissionDenied):
            await _ids(_pager(client, notify_refusal=False))
        await client.settle()
        assert refused == []
        with pytest.raises(SaleorPermissionDenied):
            await _ids(_pager(client))
        await client.settle()
        assert refused == [API]
    finally:
        await client.aclose()


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        # `_validate_slice_args`: `first` at most GRAPHQL_PAGINATION_LIMIT (100), and `first`
        # or `last` required where edges are selected (0 is neither).
        ({"first": 101}, "1 to 100"),
        ({"first": 0}, "1 to 100"),
        ({"first": -1}, "1 to 100"),
        # `_validate_connection_args`: `last` with `after`, `first` with `before` or `last`.
        ({"first": 2, "last": 2}, "`last`"),
        ({"first": 2, "before": "t3"}, "`before`"),
        ({"first": 2, "after": "t3"}, "`after`"),
    ],
)
async def test_what_saleor_refuses_of_a_connection_is_refused_before_asking(
    client: tuple[SaleorClient, _Saleor], variables: dict[str, Any], message: str
) -> None:
    saleor_client, saleor = client
    with pytest.raises(ValueError, match=message):
        Pager(saleor_client, API, TOKEN, TYPES, "productTypes", variables)
    assert saleor.asked == []
    # Saleor's largest page is accepted.
    assert await _ids(Pager(saleor_client, API, TOKEN, TYPES, "productTypes", {"first": 100}))
