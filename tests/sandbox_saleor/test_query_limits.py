"""What Saleor refuses of a document before running it, besides the schema's rules: more than
GRAPHQL_ALIAS_COUNT_LIMIT (100) aliased fields (AliasCountLimitRule, saleor/graphql/core/
validators/alias_count_limit_rule.py, at tag 3.20.119 and commit 723cd4e), answered as invalid
(HTTP 400) with nothing run."""

from __future__ import annotations

from pathlib import Path

import httpx
from graphql import parse

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.sandbox_api import ALIAS_COUNT_LIMIT, _alias_count

from .conftest import API_URL

QUERIES = Path(__file__).parents[2] / "addon" / "saleor" / "queries"


def _aliased(count: int) -> str:
    return "{ " + " ".join(f"a{i}: __typename" for i in range(count)) + " }"


async def test_more_than_a_hundred_aliases_are_refused(
    sandbox: SaleorSandbox, client: httpx.AsyncClient
) -> None:
    accepted = await client.post(API_URL, json={"query": _aliased(100)})
    assert accepted.status_code == 200
    assert accepted.json()["data"]["a99"] == "Query"

    refused = await client.post(API_URL, json={"query": _aliased(101)})
    assert refused.status_code == 400
    assert [e["message"] for e in refused.json()["errors"]] == [
        "Number of aliases exceed the limit of 100"
    ]
    assert "data" not in refused.json()


async def test_aliases_in_fragments_count_once_each(
    sandbox: SaleorSandbox, client: httpx.AsyncClient
) -> None:
    """`enter_Field` counts the fields of the document as written: a fragment's once, however
    often it is spread."""
    fields = " ".join(f"f{i}: __typename" for i in range(60))
    spreads = " ".join(f"s{i}: __schema {{ ...F }}" for i in range(40))
    query = f"{{ {spreads} }} fragment F on __Schema {{ {fields} }}"
    assert _alias_count(parse(query)) == 100
    assert (await client.post(API_URL, json={"query": query})).status_code == 200
    more = query.replace("fragment F on __Schema {", "fragment F on __Schema { extra: __typename")
    assert (await client.post(API_URL, json={"query": more})).status_code == 400


def test_the_apps_documents_stay_under_the_alias_limit() -> None:
    for path in sorted(QUERIES.rglob("*.graphql")):
        assert _alias_count(parse(path.read_text())) <= ALIAS_COUNT_LIMIT, path.name
