"""graphql-core's executor, with a shortcut for the fields most of a response is made of.

Most fields of a page of orders or products are plain: a field without arguments, read by
`default_resolver` or by a resolver that needs its source only (`reads`), whose type is a scalar,
an enum or an object type (maybe non-null). For each field graphql-core builds a resolve-info
object, looks for arguments, checks twice for an awaitable and walks `complete_value` (and for an
object `complete_object_value`): over half of a page's rendering time.

This executor, in the loop over an object's fields (`execute_fields`, once per object, so the
fields it does not shortcut pay no extra call), reads a plain leaf and coerces it by its type,
and reads a plain object and executes its sub-fields. Anything else, and any plain field whose
value is not a plain one (null where the type forbids it, a value its type refuses, an
exception), goes through graphql-core's own `execute_field`, which then gives exactly its own
answer and error; an error inside a plain object's sub-fields is handled by graphql-core's own
`handle_field_error`, as `execute_field` would. The result is the same either way
(`tests/sandbox_saleor/test_executor.py` compares them).

What the loop needs of a selection is worked out once per execution (`_plan`: graphql-core
collects each selection once, so every object of a list shares it): each field's name and
plain field, and a plain object's own collected sub-fields, executed directly when nothing is
deferred (what `execute_collected_subfields` then does). A field read by name is read by a
reader made once per source class (`reader_for`: a pydantic model's attribute, a dict's key).
A leaf that graphql-core's own coercion would give back unchanged (a `str` for String and ID, a
`bool` for Boolean, a finite `float` for Float, a 32-bit `int` for Int) is taken as it is.

The other fields (a resolver reading more than its source, arguments, lists) go through
`execute_field`, which works out each field once per execution (`resolving.py`). A list of
objects (a product's variants, a variant's stocks) has its items completed as plain objects
(`complete_iterable_value`), not each through `complete_list_item_value`, `complete_value` and
`complete_object_value` (graphql-core 3.3's `complete_iterable_value` and
`complete_list_item_value`, graphql/execution/executor.py, are what it follows). Together about
a fifth less of a page of 100 products.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from math import isfinite
from typing import Any

from graphql import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    Undefined,
    get_nullable_type,
    is_non_null_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.executor import collect_iterator_awaitables
from graphql.execution.incremental.incremental_executor import DeliveryGroupMap
from graphql.pyutils import Path, gather_with_cancel

from .plain_fields import PlainField, plain_fields, reader_for
from .resolving import ByIdentity, ResolvingExecutor

# Per field of a selection: its response name, field details, field name and plain field (None:
# graphql-core's path), and a plain object's collected sub-fields (None: collected when read).
PlanEntry = tuple[str, FieldDetailsList, str, PlainField | None, GroupedFieldSet | None]


# A list's items of a plain object type: how `_plain_object` completes each, and their collected
# sub-fields (None: collected per item, as graphql-core does when something is deferred).
ListItems = tuple[PlainField, GroupedFieldSet | None]


class SandboxExecutor(ResolvingExecutor):
    """graphql-core's `IncrementalExecutor` with the shortcuts of the module docstring."""

    @cached_property
    def _plans(self) -> ByIdentity[list[PlanEntry]]:
        return ByIdentity()

    @cached_property
    def _lists(self) -> ByIdentity[ListItems | None]:
        return ByIdentity()

    def _plan(self, parent_type: GraphQLObjectType, selection: GroupedFieldSet) -> list[PlanEntry]:
        """The loop's view of a collected selection, made once per execution (kept with the
        selection itself, so that a reused id is never mistaken for it)."""
        known = self._plans.get(id(selection))
        if known is not None and known[0] is selection:
            return known[1]
        plain = plain_fields(parent_type)
        plan: list[PlanEntry] = []
        for response_name, field_details_list in selection.items():
            node = field_details_list[0].node
            name = node.name.value
            field = None if node.arguments else plain.get(name)
            sub_fields = None
            if field is not None and field.object is not None:
                collected, new_defer_usages, _ = self.collect_subfields(
                    field.object, field_details_list
                )
                sub_fields = None if new_defer_usages else collected
            plan.append((response_name, field_details_list, name, field, sub_fields))
        return self._plans.keep(selection, plan)

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: DeliveryGroupMap | None,
    ) -> Any:
        if self.middleware_manager is not None:  # a middleware may wrap any resolver
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        plan = self._plan(parent_type, grouped_field_set)
        source_class = type(source_value)
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, field_details_list, name, field, sub_fields in plan:
                result: Any = Undefined
                if field is not None:
                    reader = field.reader
                    if reader is None:
                        reader = field.readers.get(source_class)
                        if reader is None:
                            reader = field.readers[source_class] = reader_for(source_class, name)
                    value = reader(source_value)
                    if value is None or value is Undefined:  # as `complete_value` takes it
                        if field.nullable:
                            results[response_name] = None
                            continue
                    elif isinstance(value, Exception):
                        pass
                    elif field.leaf is not None:
                        kind: Any = field.unchanged  # see `plain_fields._UNCHANGED`
                        if type(value) is kind and (
                            kind is str
                            or kind is bool
                            or (
                                isfinite(value)
                                if kind is float
                                else GRAPHQL_MIN_INT <= value <= GRAPHQL_MAX_INT
                            )
                        ):
                            results[response_name] = value
                            continue
                        try:
                            coerced = field.leaf.coerce_output_value(value)
                        except Exception:  # graphql-core's own path reports it
                            coerced = None
                        if coerced is not None and coerced is not Undefined:
                            results[response_name] = coerced
                            continue
                    else:
                        result = self._plain_object(
                            field,
                            field_details_list,
                            Path(path, response_name, parent_type.name),
                            value,
                            position_context,
                            sub_fields,
                        )
                if result is Undefined:  # what graphql-core's `execute_fields` does
                    result = self.execute_field(
                        parent_type,
                        source_value,
                        field_details_list,
                        Path(path, response_name, parent_type.name),
                        position_context,
                    )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            awaited = await gather_with_cancel(*(results[field] for field in awaitable_fields))
            results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

    def _list_items(
        self, item_type: GraphQLOutputType, field_details_list: FieldDetailsList
    ) -> ListItems | None:
        """How a list field's items complete, made once per execution and field (kept with the
        field's details, so that a reused id is never mistaken for them): None unless they are
        of an object type without `is_type_of` and no node of the field carries a directive
        (`@stream` would deliver part of the list later: graphql-core's path)."""
        known = self._lists.get(id(field_details_list))
        if known is not None and known[0] is field_details_list:
            return known[1]
        items: ListItems | None = None
        nullable = not is_non_null_type(item_type)
        inner = get_nullable_type(item_type)
        if (
            isinstance(inner, GraphQLObjectType)
            and inner.is_type_of is None
            and not any(details.node.directives for details in field_details_list)
        ):
            collected, new_defer_usages, _ = self.collect_subfields(inner, field_details_list)
            item = PlainField(item_type, None, inner, nullable, None)
            items = (item, None if new_defer_usages else collected)
        return self._lists.keep(field_details_list, items)

    def complete_iterable_value(
        self,
        item_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        items: Iterable[Any],
        position_context: DeliveryGroupMap | None,
    ) -> Any:
        """graphql-core's `complete_iterable_value`, each item of a plain object type completed
        by `_plain_object` (its sub-fields executed directly) instead of through
        `complete_list_item_value`, `complete_value` and `complete_object_value`. An item that
        is null, an exception or awaitable takes graphql-core's own item path, which gives its
        own answer or error; an error inside an item is handled as that path handles it."""
        plan = self._list_items(item_type, field_details_list)
        if plan is None or position_context is not None or type(items) is not list:
            return super().complete_iterable_value(
                item_type, field_details_list, info, path, items, position_context
            )
        item, sub_fields = plan
        is_awaitable = self.is_awaitable
        completed_results: list[Any] = []
        awaitable_indices: list[int] = []
        iterator = iter(items)
        try:
            for index, value in enumerate(iterator):
                item_path = path.add_key(index, None)
                if (
                    value is None
                    or value is Undefined
                    or isinstance(value, Exception)
                    or is_awaitable(value)
                ):
                    if is_awaitable(value):
                        completed_results.append(
                            self.complete_awaitable_list_item_value(
                                value, item_type, field_details_list, info, item_path, None
                            )
                        )
                        awaitable_indices.append(index)
                    elif self.complete_list_item_value(
                        value,
                        completed_results,
                        item_type,
                        field_details_list,
                        info,
                        item_path,
                        None,
                    ):
                        awaitable_indices.append(index)
                    continue
                completed = self._plain_object(
                    item, field_details_list, item_path, value, None, sub_fields
                )
                completed_results.append(completed)
                if is_awaitable(completed):
                    awaitable_indices.append(index)
        except Exception:
            # As graphql-core does: what is already running, and the awaitable items not
            # reached yet, settle in the background.
            awaitables = [completed_results[i] for i in awaitable_indices]
            awaitables.extend(collect_iterator_awaitables(iterator, is_awaitable))
            if awaitables:
                self.settle_in_background(awaitables)
            raise
        if not awaitable_indices:
            return completed_results

        async def get_completed_results() -> list[Any]:
            if len(awaitable_indices) == 1:  # awaited directly, as graphql-core does: the
                index = awaitable_indices[0]  # order its errors are reported in
                completed_results[index] = await completed_results[index]
                return completed_results
            awaited = await gather_with_cancel(*(completed_results[i] for i in awaitable_indices))
            for index, sub_result in zip(awaitable_indices, awaited, strict=True):
                completed_results[index] = sub_result
            return completed_results

        return get_completed_results()

    def _plain_object(
        self,
        field: PlainField,
        field_details_list: FieldDetailsList,
        path: Path,
        value: Any,
        position_context: DeliveryGroupMap | None,
        sub_fields: GroupedFieldSet | None,
    ) -> Any:
        """A plain object's sub-fields, with an error among them handled as `execute_field`
        handles one raised while completing a value (null here, or raised to the parent).
        With nothing deferred (`sub_fields` given, no delivery groups), they are executed
        directly, as `execute_collected_subfields` then does."""
        assert field.object is not None
        try:
            if sub_fields is not None and position_context is None:
                completed = self.execute_fields(field.object, value, path, sub_fields, None)
            else:
                completed = self.collect_and_execute_subfields(
                    field.object, field_details_list, path, value, position_context
                )
        except Exception as raw_error:
            self.handle_field_error(raw_error, field.type, field_details_list, path)
            return None
        if not self.is_awaitable(completed):
            return completed
        return self.settled(completed, field.type, field_details_list, path)
