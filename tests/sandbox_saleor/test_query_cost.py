"""Saleor's query cost limit (`sandboxes/src/sandboxes/saleor/query_cost.py`): a document above
50,000 is refused with HTTP 400 before it runs, and every document the app sends stays below it
with its largest pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import parse

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.query_cost import MAXIMUM_COST, query_cost
from sandboxes.saleor.schema import sandbox_schema
from tests.contracts.saleor import REPO_ROOT
from tests.contracts.test_saleor_documents import document_as_sent, project_documents

from .conftest import APP_HOST, gql

# Customers' orders' lines' products' variants: 100 + 6 x 100 x 100.
COSTLY = """query($first: Int) { customers(first: $first) { edges { node {
  orders(first: 100) { edges { node { lines { variant { product { variants {
    channelListings { channel { slug } } } } } } } } } } } } }"""


async def test_a_query_above_the_maximum_cost_is_refused_before_it_runs(
    sandbox: SaleorSandbox, client: httpx.AsyncClient, fake_app: Any
) -> None:
    """saleor/graphql/views.py: the cost errors as an invalid result (400, no `data`), the
    cost in `extensions` (`set_query_cost_on_result`)."""
    app = await sandbox.install_app(f"http://{APP_HOST}/api/manifest")
    response = await client.post(
        f"{sandbox.api_url}",
        json={"query": COSTLY, "variables": {"first": 100}},
        headers={"Authorization": f"Bearer {app.auth_token}"},
    )
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["message"] == ("The query exceeds the maximum cost of 50000. Actual cost is 70100")
    cost = {"requestedQueryCost": 70100, "maximumAvailable": 50000}
    assert error["extensions"]["cost"] == body["extensions"]["cost"] == cost
    # A smaller page is within it, and runs.
    body = await gql(client, COSTLY, {"first": 10}, token=app.auth_token)
    assert body["data"]["customers"]["edges"] == []


def test_fragments_of_one_type_add_up_and_of_several_the_costliest_counts() -> None:
    """`CostValidator.compute_node_cost`: fragments' costs are kept by type condition, summed
    within one, and the largest is added."""
    schema = sandbox_schema()
    same = parse(
        "query { order(id: 1) { ... on Order { lines { id } } ... on Order { user { id } } } }"
    )
    assert query_cost(schema, same, {}) == 1 + 2
    listed = parse("query { products(first: 10) { edges { node { variants { id } } } } }")
    assert query_cost(schema, listed, {}) == 10 + 10
    unpaged = parse("query { products { edges { node { id } } } }")
    assert query_cost(schema, unpaged, {}) == 1


DOCUMENTS = [p for p in project_documents() if document_as_sent(p) is not None]
# The largest values the app's documents take: a page of Saleor's largest size, a hundred ids.
LARGEST = {"first": 100, "ids": [str(i) for i in range(100)], "after": None}


@pytest.mark.parametrize("path", DOCUMENTS, ids=[str(p.relative_to(REPO_ROOT)) for p in DOCUMENTS])
def test_every_document_the_app_sends_is_within_the_maximum_cost(path: Path) -> None:
    source = document_as_sent(path)
    assert source is not None
    cost = query_cost(sandbox_schema(), parse(source), LARGEST)
    assert cost <= MAXIMUM_COST, f"{path.name} costs {cost}"
