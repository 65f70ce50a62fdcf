"""The sandbox's executor answers exactly what graphql-core's own executor answers: data and
errors (message, path, locations), for the app's pages of orders, customers and products on a
generated store, and for every way a plain field can go wrong (null where the type forbids it, a
value its type refuses, an exception as a value, an error inside a plain object, nullable or
not), where the shortcut must hand over to graphql-core's path or handle the error as it does.
Lists of items are in tests/sandbox_saleor/test_executor_lists.py."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from graphql import (
    ExecutionResult,
    GraphQLSchema,
    Undefined,
    build_schema,
    execute,
    parse,
    print_ast,
)
from graphql.execution.incremental.incremental_executor import IncrementalExecutor

from addon.saleor.documents import load_document
from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.executor import SandboxExecutor
from sandboxes.saleor.permissions import Viewer
from sandboxes.saleor.reading import default_resolver

STAFF = Viewer(
    is_staff=True,
    permissions=frozenset({"MANAGE_ORDERS", "MANAGE_USERS", "MANAGE_PRODUCTS"}),
)


def _run(schema: GraphQLSchema, query: str, root: Any, executor: type) -> ExecutionResult:
    result = execute(
        schema,
        parse(query),
        root_value=root,
        field_resolver=default_resolver,
        executor_class=executor,
    )
    assert isinstance(result, ExecutionResult)
    return result


def _same(schema: GraphQLSchema, query: str, root: Any) -> ExecutionResult:
    stock = _run(schema, query, root, IncrementalExecutor)
    ours = _run(schema, query, root, SandboxExecutor)
    assert ours.data == stock.data
    assert [e.formatted for e in ours.errors or []] == [e.formatted for e in stock.errors or []]
    return stock


LEAVES = build_schema(
    """
    enum Colour { RED GREEN }
    type Thing {
      name: String!
      nickname: String
      count: Int
      size: Int!
      colour: Colour
      hue: Colour!
      when: String
      tags: [String!]
      price: Float
      ok: Boolean
      ident: ID
      child: Thing
      core: Thing!
    }
    type Query { thing: Thing, things: [Thing!]! }
    """
)


@pytest.mark.parametrize(
    "thing",
    [
        {"name": "a", "nickname": None, "count": 3, "size": 1, "colour": "RED", "hue": "GREEN"},
        {"name": None, "size": 1, "hue": "RED"},  # null for a non-null leaf
        {"name": "a", "size": None, "hue": "RED"},
        {"name": "a", "size": 2**40, "hue": "RED"},  # Int refuses it: an error, the field null
        {"name": "a", "size": 1, "count": "three", "hue": "RED"},
        {"name": "a", "size": 1, "colour": "BLUE", "hue": "RED"},  # not a value of the enum
        {"name": "a", "size": 1, "hue": "PURPLE"},
        {"name": "a", "size": 1, "hue": "RED", "when": ValueError("boom")},  # raised as a value
        {"name": 5, "size": True, "hue": "RED", "count": 2.0},  # coerced as graphql-core does
        {"name": "a", "size": 1, "hue": "RED", "tags": ["x", None]},
        {"name": "a", "size": 1, "hue": "RED", "child": {"name": None, "size": 1, "hue": "RED"}},
        {"name": "a", "size": 1, "hue": "RED", "child": ValueError("no child")},
        {"name": "a", "size": 1, "hue": "RED", "child": {"name": "b", "size": 1, "hue": "RED"}},
        # An error in a non-null object's sub-field nulls the nearest nullable parent.
        {"name": "a", "size": 1, "hue": "RED", "core": {"name": None, "size": 1, "hue": "RED"}},
        {"name": "a", "size": 1, "hue": "RED", "core": None},
        {"name": "a", "size": 1, "hue": "RED", "child": Undefined, "nickname": Undefined},
        {"name": "a", "size": 1, "hue": "RED", "core": Undefined},
        {"name": "a", "size": 1, "hue": "RED", "core": {"name": "c", "size": 1, "hue": "RED"}},
        # Leaves taken as they are when graphql-core's coercion gives them back, and not else.
        {"name": "a", "size": 2**31 - 1, "count": -(2**31), "hue": "RED", "price": 1.5},
        {"name": "a", "size": 2**31, "hue": "RED"},
        {"name": "a", "size": 1, "count": -(2**31) - 1, "hue": "RED"},
        {"name": "a", "size": True, "count": False, "hue": "RED", "price": True},
        {"name": "a", "size": 1, "hue": "RED", "price": float("inf")},
        {"name": "a", "size": 1, "hue": "RED", "price": float("nan")},
        {"name": "a", "size": 1, "hue": "RED", "price": 3, "ok": True, "ident": "x"},
        {"name": "a", "size": 1, "hue": "RED", "ok": 0, "ident": 7},
        {"name": "a", "size": 1, "hue": "RED", "ok": 1.0, "ident": 7.5},
        {"name": "a", "size": 1, "hue": "RED", "ok": "yes", "ident": True},
        {"name": "a", "size": 1, "hue": "RED", "ident": ["not", "an", "id"]},
        {"name": "a", "size": 1.0, "count": 2.5, "hue": "RED"},
    ],
)
def test_plain_leaves_answer_as_graphql_core_does(thing: dict[str, Any]) -> None:
    query = """
      { thing { name nickname count size colour hue when tags price ok ident __typename
                alias: name
                child { name size hue child { name } }
                core { name size hue }
                again: child { count }
                ... on Thing { count }
                skipped: size @skip(if: true) } }
    """
    _same(LEAVES, query, {"thing": thing})


def test_a_list_of_things_nulls_the_parent_as_graphql_core_does() -> None:
    things = [
        {"name": "a", "size": 1, "hue": "RED"},
        {"name": None, "size": 1, "hue": "RED"},
    ]
    result = _same(LEAVES, "{ things { name size hue } }", {"things": things})
    assert result.data is None and result.errors  # the error reached the non-null root


class _Keyed(dict[str, Any]):
    """A dict subclass: read by key as a dict is."""


@dataclass(frozen=True)
class _Frozen:
    """A dataclass: its snake_case fields read by attribute, as `read_field` reads them."""

    name: str | None
    size: Any
    hue: str
    price: Any = None
    child: Any = None


def test_objects_of_several_classes_in_one_list_answer_as_graphql_core_does() -> None:
    """Each source class has its own reader of a field (a dict's key, an object's attribute),
    and one selection is planned once for every object of the list, whatever their class."""
    things = [
        {"name": "a", "size": 1, "hue": "RED", "price": 2.5},
        SimpleNamespace(name="b", size=2, hue="GREEN", price=None, ok=True, count=None),
        _Keyed(name="c", size=3, hue="RED", child={"name": "d", "size": 4, "hue": "RED"}),
        SimpleNamespace(name="n", size=5, hue="RED", child=ValueError("no child")),
        {"name": "e", "size": 6, "hue": "GREEN", "ident": 12},
        _Frozen("f", 7, "RED", price=float("inf"), child=_Frozen("g", 8, "GREEN")),
        _Frozen("h", 9, "RED", price=None, child=_Frozen("i", 2**40, "BLUE")),
    ]
    query = """
      query($with: Boolean!) {
        things { name size hue price ok count ident @include(if: $with)
                 child { name size } again: child { hue } } }
    """
    for variables in ({"with": True}, {"with": False}):
        stock = execute(
            LEAVES,
            parse(query),
            root_value={"things": things},
            variable_values=variables,
            field_resolver=default_resolver,
            executor_class=IncrementalExecutor,
        )
        ours = execute(
            LEAVES,
            parse(query),
            root_value={"things": things},
            variable_values=variables,
            field_resolver=default_resolver,
            executor_class=SandboxExecutor,
        )
        assert isinstance(stock, ExecutionResult) and isinstance(ours, ExecutionResult)
        assert ours.data == stock.data
        assert stock.data and len(stock.data["things"]) == len(things)
        assert [e.formatted for e in ours.errors or []] == [e.formatted for e in stock.errors or []]


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        ("initial_sync_orders", {"channel": "default-channel", "first": 100, "withTotal": True}),
        ("initial_sync_customers", {"first": 100, "withTotal": True}),
        ("initial_sync_products", {"channel": "default-channel", "first": 100, "withTotal": True}),
        (
            "initial_sync_customers_day",
            {"first": 100, "withTotal": False, "filter": {"dateJoined": {"gte": "2000-01-01"}}},
        ),
        (
            "initial_sync_orders_since",
            {
                "channel": "default-channel",
                "first": 100,
                "withTotal": True,
                "where": {"createdAt": {"gte": "2000-01-01T00:00:00+00:00"}},
            },
        ),
    ],
)
def test_the_apps_pages_are_the_same_through_the_sandbox(
    document: str, variables: dict[str, Any]
) -> None:
    saleor = SaleorSandbox()
    saleor.generate_store(products=40, customers=60, orders=120, seed=5)
    query = print_ast(load_document(document))

    def through(executor: type) -> tuple[int, dict[str, Any]]:
        # The sandbox's own request path, with one executor or the other.
        import sandboxes.saleor.sandbox_api as module

        kept = module.SandboxExecutor
        module.SandboxExecutor = executor  # type: ignore[misc]
        try:
            return asyncio.run(saleor.handle_graphql(query, variables, viewer=STAFF))
        finally:
            module.SandboxExecutor = kept  # type: ignore[misc]

    stock, ours = through(IncrementalExecutor), through(SandboxExecutor)
    assert ours == stock
    status, body = ours
    assert status == 200 and "errors" not in body
    assert body["data"]  # a real page: the comparison compared something
