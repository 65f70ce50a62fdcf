"""The sandbox's executor answers exactly what graphql-core's own executor answers for lists
(the plain fields and the app's pages are in tests/sandbox_saleor/test_executor.py): items
null, raised, awaitable, Undefined or failing inside, in nullable and non-null lists, under
resolvers that take arguments, raise, answer later or change the list they are given; plain
items skip graphql-core's own item path, and awaitable items after a failing item are settled
as graphql-core settles them."""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import Coroutine
from typing import Any, cast

import pytest
from graphql import (
    ExecutionResult,
    GraphQLObjectType,
    Undefined,
    build_schema,
    execute,
    parse,
)
from graphql.execution.incremental.incremental_executor import IncrementalExecutor

from sandboxes.saleor.executor import SandboxExecutor
from sandboxes.saleor.reading import default_resolver

LISTS = build_schema(
    """
    type Item { name: String!, note: String }
    type Box {
      items: [Item]
      strict: [Item!]
      required: [Item!]!
      labelled(prefix: String!): [Item!]!
      broken: [Item!]
      later: [Item!]
      kept(keep: [String!]!): [String!]!
    }
    type Query { box: Box, boxes: [Box!] }
    """
)


def _labelled(source: dict[str, Any], _: Any, prefix: str) -> list[dict[str, Any]]:
    return [{"name": f"{prefix}{item['name']}"} for item in source["required"]]


def _broken(_source: Any, _info: Any) -> list[Any]:
    raise ValueError("no items today")


async def _later(source: dict[str, Any], _: Any) -> list[Any]:
    return list(source["items"] or [])


def _kept(source: dict[str, Any], _: Any, keep: list[str]) -> list[str]:
    """Changes the list it is given (graphql-core gives each call a list of its own)."""
    keep.append(str(len(source["required"])))
    return keep


_BOX = cast(GraphQLObjectType, LISTS.type_map["Box"])
_BOX.fields["labelled"].resolve = _labelled
_BOX.fields["broken"].resolve = _broken
_BOX.fields["later"].resolve = _later
_BOX.fields["kept"].resolve = _kept


async def _async_item(name: str | None) -> dict[str, Any]:
    return {"name": name}


def _box(items: list[Any], coroutines: list[Coroutine[Any, Any, Any]]) -> dict[str, Any]:
    """A box whose lists hold these items; each `("async", name)` an awaitable item (made anew
    for each run: a coroutine is awaited once; those not selected are closed after it)."""

    def made() -> list[Any]:
        listed = []
        for item in items:
            if isinstance(item, tuple):
                coroutines.append(_async_item(item[1]))
                item = coroutines[-1]
            listed.append(item)
        return listed

    return {"items": made(), "strict": made(), "required": [{"name": "r"}, {"name": "s"}]}


@pytest.mark.parametrize(
    "items",
    [
        [{"name": "a"}, {"name": "b", "note": "n"}],
        [{"name": "a"}, None],  # null: allowed in `items`, an error in `strict`
        [{"name": "a"}, ValueError("bad item")],  # an exception as an item
        [{"name": None}],  # an error inside an item: its non-null name
        [("async", "a"), {"name": "b"}],  # an awaitable item
        [("async", None)],  # an awaitable item whose sub-field fails
        [Undefined, {"name": "b"}],  # taken as null, as graphql-core takes it
        [],
    ],
)
@pytest.mark.parametrize(
    "selection",
    [
        "items { name note } strict { name }",
        "items { name } required { name } labelled(prefix: $prefix) { name }",
        "strict { name } broken { name } later { name note }",
        'kept(keep: ["a"]) other: kept(keep: [$prefix]) items { name }',
    ],
)
def test_lists_of_objects_answer_as_graphql_core_does(items: list[Any], selection: str) -> None:
    """The list shortcut (`complete_iterable_value`) and the resolved-field one
    (`execute_field`): items null, raised, awaitable or failing inside, resolvers with arguments,
    raising or awaitable, in nullable and non-null lists; the same data and errors."""
    query = f'query($prefix: String! = "p-") {{ box {{ {selection} }} boxes {{ {selection} }} }}'

    def run(executor: type) -> ExecutionResult:
        coroutines: list[Coroutine[Any, Any, Any]] = []
        root = {"box": _box(items, coroutines), "boxes": [_box(items, coroutines) for _ in "ab"]}
        result = execute(
            LISTS,
            parse(query),
            root_value=root,
            field_resolver=default_resolver,
            executor_class=executor,
        )
        if not isinstance(result, ExecutionResult):
            result = asyncio.run(result)  # type: ignore[arg-type]
        for coroutine in coroutines:
            coroutine.close()
        assert isinstance(result, ExecutionResult)
        return result

    stock, ours = run(IncrementalExecutor), run(SandboxExecutor)
    assert ours.data == stock.data
    assert [e.formatted for e in ours.errors or []] == [e.formatted for e in stock.errors or []]


def test_plain_items_skip_graphql_cores_own_item_path() -> None:
    """The shortcut runs: only the items it leaves to graphql-core (here the null one) go
    through `complete_list_item_value`."""
    calls: list[Any] = []

    class Counting(SandboxExecutor):
        def complete_list_item_value(self, item: Any, *args: Any) -> bool:
            calls.append(item)
            return super().complete_list_item_value(item, *args)

    root = {"box": {"items": [{"name": "a"}, None, {"name": "b"}]}}
    result = execute(
        LISTS,
        parse("{ box { items { name } } }"),
        root_value=root,
        field_resolver=default_resolver,
        executor_class=Counting,
    )
    assert isinstance(result, ExecutionResult) and not result.errors
    assert result.data == {"box": {"items": [{"name": "a"}, None, {"name": "b"}]}}
    assert calls == [None]


@pytest.mark.parametrize("executor", [IncrementalExecutor, SandboxExecutor])
def test_awaitable_items_after_a_failing_item_are_settled_as_graphql_core_does(
    executor: type,
) -> None:
    """A non-null list fails at its first item: the awaitable items after it still run in the
    background (with an event loop) or are closed (without one), never left un-awaited."""
    schema = build_schema("type Item { name: String! } type Query { strict: [Item!] }")
    ran: list[str] = []

    async def item(tag: str) -> dict[str, Any]:
        ran.append(tag)
        return {"name": tag}

    def run(tag: str) -> Any:
        return execute(
            schema,
            parse("{ strict { name } }"),
            root_value={"strict": [None, item(tag)]},
            field_resolver=default_resolver,
            executor_class=executor,
        )

    async def in_a_loop() -> ExecutionResult:
        result = run("in a loop")
        if not isinstance(result, ExecutionResult):
            result = await result
        # What the executor left to settle in the background, awaited (no sleeping).
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        await asyncio.gather(*others, return_exceptions=True)
        return result

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a coroutine never awaited warns when collected
        without_a_loop = run("without a loop")
        gc.collect()
        in_loop = asyncio.run(in_a_loop())
    for result in (without_a_loop, in_loop):
        assert isinstance(result, ExecutionResult)
        assert result.data == {"strict": None} and result.errors
    assert ran == ["in a loop"]
