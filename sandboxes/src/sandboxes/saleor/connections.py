"""Relay connections as Saleor pages them: cursors, `first`/`last`, `after`/`before`, errors.

Cursors are ``base64(json([...]))``, ``first``/``last`` are capped at 100, and a connection
whose ``edges`` are selected needs ``first`` or ``last`` (saleor/graphql/core/connection.py).

A listing with filters of its own (customers, orders) gives `paginate` the candidates in pk
order and the filter as `keep`: the page is found by bisecting the cursor among the candidates
and testing them from there until the page is full, and `totalCount` (every candidate tested)
only where the query selects it. The answer is the one `paginate` gives for the filtered list:
filtering keeps the pk order, so the kept items after a cursor are the kept candidates after it.
A sync's slice is read page by page, so testing the whole slice for each page was quadratic.
"""

from __future__ import annotations

import base64
import binascii
import json
from bisect import bisect_right
from collections.abc import Callable, Sequence
from itertools import islice
from typing import Any, TypeAlias, TypeVar

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLIncludeDirective,
    GraphQLResolveInfo,
    GraphQLSkipDirective,
    InlineFragmentNode,
    SelectionSetNode,
    get_directive_values,
)

Info: TypeAlias = "GraphQLResolveInfo[Any]"
T = TypeVar("T")

PAGINATION_LIMIT = 100


def saleor_error(message: str, code: str = "GraphQLError") -> GraphQLError:
    """A GraphQL error shaped like Saleor's (``extensions.exception.code``)."""
    return GraphQLError(message, extensions={"exception": {"code": code}})


def _parse_cursor(cursor: str) -> list[str]:
    try:
        values = json.loads(base64.b64decode(cursor.encode()).decode())
    except (binascii.Error, ValueError, UnicodeError) as exc:
        raise saleor_error("Received cursor is invalid.") from exc
    if not isinstance(values, list) or len(values) != 1:
        raise saleor_error("Received cursor is invalid.")
    return [str(v) for v in values]


def make_cursor(sort_value: int | str) -> str:
    """A Saleor-style cursor: ``base64(json.dumps([str(value)]))``."""
    return base64.b64encode(json.dumps([str(sort_value)]).encode()).decode()


def _selects_edges(info: Info) -> bool:
    for node in info.field_nodes:
        if node.selection_set is None:
            continue
        for selection in node.selection_set.selections:
            if isinstance(selection, FieldNode) and selection.name.value == "edges":
                return True
            fragment_name = getattr(getattr(selection, "name", None), "value", None)
            fragment = info.fragments.get(fragment_name or "")
            if fragment is not None and any(
                isinstance(s, FieldNode) and s.name.value == "edges"
                for s in fragment.selection_set.selections
            ):
                return True
    return False


def _may_select(
    info: Info, selection_set: SelectionSetNode | None, name: str, seen: set[str]
) -> bool:
    """Whether `name` may be selected: a field of that name not left out by its own `@skip` /
    `@include`; fragments are looked into whatever their type condition and directives (a
    field counted needlessly costs time only, never a different answer)."""
    if selection_set is None:
        return False
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value != name:
                continue
            skip = get_directive_values(GraphQLSkipDirective, selection, info.variable_values)
            include = get_directive_values(GraphQLIncludeDirective, selection, info.variable_values)
            if not (skip and skip["if"]) and not (include and not include["if"]):
                return True
        elif isinstance(selection, InlineFragmentNode):
            if _may_select(info, selection.selection_set, name, seen):
                return True
        elif isinstance(selection, FragmentSpreadNode):
            fragment_name = selection.name.value
            fragment = info.fragments.get(fragment_name)
            if fragment_name not in seen and fragment is not None:
                seen.add(fragment_name)
                if _may_select(info, fragment.selection_set, name, seen):
                    return True
    return False


def selects(info: Info, name: str) -> bool:
    """Whether the connection's query may select its field `name` (e.g. `totalCount`)."""
    return any(_may_select(info, node.selection_set, name, set()) for node in info.field_nodes)


def paginate(
    info: Info,
    items: Sequence[T],
    key: Callable[[T], int],
    *,
    first: int | None = None,
    last: int | None = None,
    after: str | None = None,
    before: str | None = None,
    wrap: Callable[[T], Any] = lambda item: item,
    keep: Callable[[T], bool] | None = None,
) -> dict[str, Any]:
    """Slice ``items`` (sorted ascending by the integer ``key``) as a Saleor Relay connection;
    with `keep`, the items it keeps only (see the module docstring)."""
    name = info.field_name
    if _selects_edges(info) and not (first or last):
        raise saleor_error(
            f"You must provide a `first` or `last` value to properly paginate the `{name}` "
            "connection."
        )
    for arg, value in (("first", first), ("last", last)):
        if value is not None and value < 0:
            raise saleor_error(f"Argument `{arg}` must be a non-negative integer.")
        if value and value > PAGINATION_LIMIT:
            raise saleor_error(
                f"Requesting {value} records on the `{name}` connection exceeds the `{arg}` "
                f"limit of {PAGINATION_LIMIT} records."
            )
    if first and last:
        raise saleor_error("Argument `last` cannot be combined with `first`.")
    if first and before:
        raise saleor_error("Argument `first` cannot be combined with `before`.")
    if last and after:
        raise saleor_error("Argument `last` cannot be combined with `after`.")

    # Items are sorted by key: a cursor is found by bisection (a large store pages fast).
    start, stop = 0, len(items)
    if after:
        (after_value,) = _parse_cursor(after)
        if not after_value.lstrip("-").isdigit():
            raise saleor_error("Received cursor is invalid.")
        start = bisect_right(items, int(after_value), key=key)
    if before:
        (before_value,) = _parse_cursor(before)
        if not before_value.lstrip("-").isdigit():
            raise saleor_error("Received cursor is invalid.")
        stop = bisect_right(items, int(before_value) - 1, key=key)
    stop = max(start, stop)
    page: list[T] = []
    has_next = has_previous = False
    if first:
        # One more than the page tells whether there is a next page.
        page = list(islice(_kept(items, start, stop, 1, keep), first + 1))
        has_next = len(page) > first
        has_previous = bool(after)
        page = page[:first]
    elif last:
        page = list(islice(_kept(items, stop - 1, start - 1, -1, keep), last + 1))
        has_previous = len(page) > last
        has_next = bool(before)
        page = page[:last][::-1]
    edges = [{"node": wrap(item), "cursor": make_cursor(key(item))} for item in page]
    connection: dict[str, Any] = {
        "edges": edges,
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }
    if keep is None:
        connection["totalCount"] = len(items)
    elif selects(info, "totalCount"):
        connection["totalCount"] = sum(1 for item in items if keep(item))
    return connection


def _kept(
    items: Sequence[T], start: int, stop: int, step: int, keep: Callable[[T], bool] | None
) -> Any:
    """The items of positions `start`, `start + step`, ... before `stop` that `keep` keeps."""
    for index in range(start, stop, step):
        item = items[index]
        if keep is None or keep(item):
            yield item
