"""Relay connections as Saleor pages them: cursors, `first`/`last`, `after`/`before`, errors.

Cursors are a position in the connection's ordering (cursors.py), ``first``/``last`` are capped
at 100, and a connection whose ``edges`` are selected needs ``first`` or ``last``
(saleor/graphql/core/connection.py).

A listing gives `paginate` its candidates sorted by the ordering's values (ascending; a
descending ordering is read backwards) and, with filters of its own (customers, orders,
products), the filter as `keep`: the page is found by bisecting the cursor among the candidates
and testing them from there until the page is full, and `totalCount` (every candidate tested)
only where the query selects it. The answer is the one `paginate` gives for the filtered list:
filtering keeps the order, so the kept items after a cursor are the kept candidates after it.
A sync's slice is read page by page, so testing the whole slice for each page was quadratic.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from itertools import islice
from typing import Any, TypeAlias, TypeVar, overload

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
    GraphQLResolveInfo,
    GraphQLSkipDirective,
    InlineFragmentNode,
    SelectionSetNode,
    get_directive_values,
)

from .cursors import Key, Ordering, by_int
from .cursors import saleor_error as saleor_error

Info: TypeAlias = "GraphQLResolveInfo[Any]"
T = TypeVar("T")

PAGINATION_LIMIT = 100


def _edges_in(info: Info, selection_set: SelectionSetNode | None) -> bool:
    """Saleor's `_edges_in_selections` (saleor/graphql/core/connection.py): an `edges` field,
    one in a named fragment's own selections, or one in an inline fragment, at any depth."""
    if selection_set is None:
        return False
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode) and selection.name.value == "edges":
            return True
        if isinstance(selection, FragmentSpreadNode):
            fragment = info.fragments.get(selection.name.value)
            if fragment is not None and any(
                isinstance(s, FieldNode) and s.name.value == "edges"
                for s in fragment.selection_set.selections
            ):
                return True
        if isinstance(selection, InlineFragmentNode) and _edges_in(info, selection.selection_set):
            return True
    return False


def _selects_edges(info: Info) -> bool:
    return any(_edges_in(info, node.selection_set) for node in info.field_nodes)


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


class _Descending:
    """A key compared the other way round: a descending ordering's items, read backwards,
    bisected like ascending ones."""

    __slots__ = ("key",)

    def __init__(self, key: Key) -> None:
        self.key = key

    def __lt__(self, other: _Descending) -> bool:
        return other.key < self.key


class _Backwards(Sequence[T]):
    """A list read from its end (no copy)."""

    def __init__(self, items: Sequence[T]) -> None:
        self._items = items

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[T]: ...
    def __getitem__(self, index: int | slice) -> T | Sequence[T]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return self._items[len(self._items) - 1 - index]


def paginate(
    info: Info,
    items: Sequence[T],
    order: Ordering[T] | Callable[[T], int],
    *,
    first: int | None = None,
    last: int | None = None,
    after: str | None = None,
    before: str | None = None,
    wrap: Callable[[T], Any] = lambda item: item,
    keep: Callable[[T], bool] | None = None,
) -> dict[str, Any]:
    """Slice ``items`` as a Saleor Relay connection listed in `order` (an ordering, or an
    integer key such as a pk): ``items`` sorted ascending by its values, read backwards when it
    is descending; with `keep`, the items it keeps only (see the module docstring)."""
    name = info.field_name
    if _selects_edges(info) and not (first or last):
        raise saleor_error(
            f"You must provide a `first` or `last` value to properly paginate the `{name}` "
            "connection."
        )
    # The page size is checked before the arguments' combinations: `_validate_slice_args`
    # runs before `_validate_connection_args` (saleor/graphql/core/connection.py).
    for arg, value in (("first", first), ("last", last)):
        if value and value > PAGINATION_LIMIT:
            raise saleor_error(
                f"Requesting {value} records on the `{name}` connection exceeds the `{arg}` "
                f"limit of {PAGINATION_LIMIT} records."
            )
    for arg, value in (("first", first), ("last", last)):
        if value is not None and value < 0:
            raise saleor_error(f"Argument `{arg}` must be a non-negative integer.")
    if first and last:
        raise saleor_error("Argument `last` cannot be combined with `first`.")
    if first and before:
        raise saleor_error("Argument `first` cannot be combined with `before`.")
    if last and after:
        raise saleor_error("Argument `last` cannot be combined with `after`.")
    ordering = order if isinstance(order, Ordering) else by_int(order)
    listed = _Backwards(items) if ordering.descending else items

    # Items are in the ordering: a cursor is found by bisection (a large store pages fast).
    start, stop = 0, len(listed)
    if after:  # the first item after the cursor
        start = _place(listed, ordering, after, bisect_right)
    if before:  # the first item at or after it
        stop = _place(listed, ordering, before, bisect_left)
    stop = max(start, stop)
    page: list[T] = []
    has_next = has_previous = False
    if first:
        # One more than the page tells whether there is a next page.
        page = list(islice(_kept(listed, start, stop, 1, keep), first + 1))
        has_next = len(page) > first
        has_previous = bool(after)
        page = page[:first]
    elif last:
        page = list(islice(_kept(listed, stop - 1, start - 1, -1, keep), last + 1))
        has_previous = len(page) > last
        has_next = bool(before)
        page = page[:last][::-1]
    edges = [{"node": wrap(item), "cursor": ordering.cursor(item)} for item in page]
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


def _place(
    listed: Sequence[T], ordering: Ordering[T], cursor: str, bisect: Callable[..., int]
) -> int:
    """Where `cursor` falls among `listed` (in `ordering`), found by `bisect`."""
    position = ordering.position(cursor)
    if not ordering.descending:
        return bisect(listed, position, key=ordering.key)
    return bisect(listed, _Descending(position), key=lambda item: _Descending(ordering.key(item)))


def _kept(
    items: Sequence[T], start: int, stop: int, step: int, keep: Callable[[T], bool] | None
) -> Any:
    """The items of positions `start`, `start + step`, ... before `stop` that `keep` keeps."""
    for index in range(start, stop, step):
        item = items[index]
        if keep is None or keep(item):
            yield item
