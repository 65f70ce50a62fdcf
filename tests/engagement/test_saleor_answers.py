"""Saleor's answers to engagement's documents, parsed at the boundary (the collection end to end
reads them in test_collection.py): the shapes Saleor's schema allows, and a SaleorError for
any other."""

from __future__ import annotations

import pytest

from addon.engagement.saleor_models import CustomersAnswer, parse, parse_writes
from addon.saleor.client import SaleorError


def _page(edges: list[object], has_next: bool, cursor: str | None) -> dict[str, object]:
    return {
        "customers": {"pageInfo": {"hasNextPage": has_next, "endCursor": cursor}, "edges": edges}
    }


def test_a_page_of_customers() -> None:
    answer = parse(
        CustomersAnswer,
        "engagement_customers",
        _page(
            [
                {"node": {"id": "VXNlcjox", "email": "a@shop.example"}},
                {"node": {"id": "VXNlcjoy", "email": ""}},  # no address: nothing to match
            ],
            True,
            "YXJyYXk=",
        ),
    )
    assert answer.pairs() == [("VXNlcjox", "a@shop.example")]
    # Where the next page starts is the pager's (addon/saleor/paging.py, test_saleor_paging.py).
    last = parse(CustomersAnswer, "engagement_customers", _page([], False, None))
    assert last.pairs() == []
    # `customers` is nullable in Saleor's schema: read as an empty last page.
    empty = parse(CustomersAnswer, "engagement_customers", {"customers": None})
    assert empty.pairs() == []


@pytest.mark.parametrize(
    "data",
    [
        _page([{"node": {"email": "a@shop.example"}}], False, None),  # no id
        _page([{"node": None}], False, None),  # `node: User!`
        {"customers": {"edges": []}},  # no pageInfo
    ],
)
def test_a_customers_answer_of_another_shape_is_saleors_error(data: dict[str, object]) -> None:
    with pytest.raises(SaleorError, match="engagement_customers"):
        parse(CustomersAnswer, "engagement_customers", data)


def test_metadata_writes() -> None:
    writes = parse_writes(
        "engagement_write_metadata",
        {
            "w0": {"errors": []},
            "w1": {"errors": [{"field": "id", "message": "Not found", "code": "NOT_FOUND"}]},
            "w2": None,  # that field failed (partial data)
            "w3": {"errors": [{"field": None, "message": "No", "code": "INVALID"}]},
        },
    )
    assert writes["w0"] is not None and not writes["w0"].errors
    assert writes["w1"] is not None and writes["w1"].not_found
    assert writes["w2"] is None
    assert writes["w3"] is not None and not writes["w3"].not_found
    with pytest.raises(SaleorError, match="engagement_write_metadata"):
        parse_writes("engagement_write_metadata", {"w0": {"errors": [{"message": "no code"}]}})
