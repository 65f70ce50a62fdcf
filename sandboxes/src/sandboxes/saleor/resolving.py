"""The part of the sandbox's executor (`executor.py`) for the fields graphql-core resolves: its
own `execute_field`, with what that works out for a field before calling its resolver (the
definition, the resolver, the nodes and the argument values) made once per execution and
field instead of for every source, and a list value handed straight to
`complete_iterable_value` (what `complete_value` and `complete_list_value` come to for a list).
The answer and the errors are graphql-core's (`tests/sandbox_saleor/test_executor.py`): what
this follows is graphql-core 3.3's `Executor.execute_field` and `complete_value`
(graphql/execution/executor.py); no Saleor behaviour is modelled here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import cached_property
from typing import Any, TypeVar

from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLObjectType,
    GraphQLOutputType,
    get_nullable_type,
    is_list_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.execution.executor import to_nodes
from graphql.execution.incremental.incremental_executor import (
    DeliveryGroupMap,
    IncrementalExecutor,
)
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path

# A field graphql-core's `execute_field` resolves, as it would for any source: its definition,
# resolver, nodes and argument values (the variables are the execution's, fixed throughout), and
# which of those values are lists (copied for each call).
Resolved = tuple[GraphQLField, Callable[..., Any], list[FieldNode], dict[str, Any], tuple[str, ...]]

V = TypeVar("V")

# Argument values that a resolver cannot change (shared by every call of a field).
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _kept(value: Any) -> bool:
    """Whether `_resolution` keeps an argument value for every call: a scalar, or a list of
    scalars (a copy each call)."""
    if type(value) is list:
        return all(type(item) in _SCALARS for item in value)
    return type(value) in _SCALARS


class ByIdentity(dict[int, tuple[object, V]]):
    """What one execution worked out for an object of its own (a collected selection, a
    field's details), by the object's identity; the object is kept beside it, so that a reused
    id is never mistaken for it: `known = memo.get(id(key))`, known only if `known[0] is key`
    (looked up inline: a call per field of every object costs a tenth of a page)."""

    def keep(self, key: object, value: V) -> V:
        self[id(key)] = (key, value)
        return value


class ResolvingExecutor(IncrementalExecutor):
    """`IncrementalExecutor` whose `execute_field` works out each field once per execution."""

    @cached_property
    def _resolved(self) -> ByIdentity[Resolved | None]:
        return ByIdentity()

    def settled(
        self,
        completed: Awaitable[Any],
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        path: Path,
    ) -> Any:
        """A field's awaitable completed value, awaited with an error handled as
        `execute_field` handles one raised while completing (null here, or raised to the
        parent). (Callers return a value that is not awaitable themselves: a call per field.)"""

        async def await_completed(completed: Awaitable[Any]) -> Any:
            try:
                return await completed
            except Exception as raw_error:
                self.handle_field_error(raw_error, return_type, field_details_list, path)
                return None

        return await_completed(completed)

    def _resolution(
        self, parent_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> Resolved | None:
        """What `execute_field` works out for a field before calling its resolver, once per
        execution and field (kept with the field's details): None when graphql-core's own
        `execute_field` runs it (no such field, a middleware, arguments that fail: its error)."""
        known = self._resolved.get(id(field_details_list))
        if known is not None and known[0] is field_details_list:
            return known[1]
        first = field_details_list[0]
        field_def = self.schema.get_field(parent_type, first.node.name.value)
        resolution: Resolved | None = None
        if field_def is not None and self.middleware_manager is None:
            try:
                args = (
                    get_argument_values(
                        field_def,
                        first.node,
                        self.variable_values,
                        first.fragment_variable_values,
                        self.hide_suggestions,
                    )
                    if field_def.args or first.node.arguments
                    else {}
                )
            except Exception:  # graphql-core's own path reports it (its error, as it does)
                args = None
            # graphql-core builds the arguments afresh for each call, and a resolver could
            # change a list or an input object it gets: only scalars, and lists of them (copied
            # for each call, `execute_field`), are kept.
            if args is not None and all(_kept(value) for value in args.values()):
                resolve = field_def.resolve or self.field_resolver
                lists = tuple(key for key, value in args.items() if type(value) is list)
                nodes = to_nodes(field_details_list)
                resolution = (field_def, resolve, nodes, args, lists)
        return self._resolved.keep(field_details_list, resolution)

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: DeliveryGroupMap | None,
    ) -> Any:
        """graphql-core's `execute_field` with what it works out per field made once
        (`_resolution`), and a list value completed by `complete_iterable_value` directly
        (what `complete_value` and `complete_list_value` come to for a list)."""
        resolution = self._resolution(parent_type, field_details_list)
        if resolution is None:
            return super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )
        field_def, resolve, nodes, args, lists = resolution
        return_type = field_def.type
        # A list of its own, as `to_nodes` gives each call.
        info = self.build_resolve_info(field_def, list(nodes), parent_type, path)
        try:
            if lists:
                result = resolve(source, info, **{**args, **{k: list(args[k]) for k in lists}})
            else:
                result = resolve(source, info, **args)
            if self.is_awaitable(result):
                return self.complete_awaitable_value(
                    return_type, field_details_list, info, path, result, position_context
                )
            list_type = get_nullable_type(return_type)
            if type(result) is list and is_list_type(list_type):
                completed = self.complete_iterable_value(
                    list_type.of_type, field_details_list, info, path, result, position_context
                )
            else:
                completed = self.complete_value(
                    return_type, field_details_list, info, path, result, position_context
                )
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
        if not self.is_awaitable(completed):
            return completed
        return self.settled(completed, return_type, field_details_list, path)
