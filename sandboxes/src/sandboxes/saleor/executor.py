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
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLOutputType,
    Undefined,
    is_leaf_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.incremental.incremental_executor import (
    DeliveryGroupMap,
    IncrementalExecutor,
)
from graphql.pyutils import Path, gather_with_cancel

from .schema import read_field


@dataclass(frozen=True, slots=True)
class PlainField:
    """A plain field of an object type: how to read it and what its value must be."""

    type: GraphQLOutputType  # as declared, maybe non-null
    leaf: GraphQLLeafType | None  # its scalar or enum type; None: an object type
    object: GraphQLObjectType | None
    nullable: bool
    reader: Callable[[Any], Any] | None  # None: `read_field` by the field's name


# Per object type, its plain fields by name; the type is kept beside them, so that a reused id
# is never mistaken for it.
_by_type: dict[int, tuple[GraphQLObjectType, dict[str, PlainField]]] = {}


def plain_fields(parent_type: GraphQLObjectType) -> dict[str, PlainField]:
    """The fields of ``parent_type`` taking no arguments, read by the default resolver or by a
    `reads` resolver, whose type is a scalar, an enum or an object type without `is_type_of`."""
    known = _by_type.get(id(parent_type))
    if known is not None and known[0] is parent_type:
        return known[1]
    plain: dict[str, PlainField] = {}
    for name, field in parent_type.fields.items():
        reader = getattr(field.resolve, "plain_reader", None)
        if (field.resolve is not None and reader is None) or field.args:
            continue
        nullable = not is_non_null_type(field.type)
        inner = field.type if nullable else field.type.of_type
        if is_leaf_type(inner):
            plain[name] = PlainField(field.type, inner, None, nullable, reader)
        elif is_object_type(inner) and inner.is_type_of is None:
            plain[name] = PlainField(field.type, None, inner, nullable, reader)
    _by_type[id(parent_type)] = (parent_type, plain)
    return plain


class SandboxExecutor(IncrementalExecutor):
    """`IncrementalExecutor` with the plain-field shortcut (see the module docstring)."""

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
        plain = plain_fields(parent_type)
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, field_details_list in grouped_field_set.items():
                node = field_details_list[0].node
                name = node.name.value
                field = plain.get(name)
                result: Any = Undefined
                if field is not None and not node.arguments:
                    reader = field.reader
                    value = (
                        read_field(source_value, name) if reader is None else reader(source_value)
                    )
                    if value is None:
                        if field.nullable:
                            results[response_name] = None
                            continue
                    elif isinstance(value, Exception):
                        pass
                    elif field.leaf is not None:
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

    def _plain_object(
        self,
        field: PlainField,
        field_details_list: FieldDetailsList,
        path: Path,
        value: Any,
        position_context: DeliveryGroupMap | None,
    ) -> Any:
        """A plain object's sub-fields, with an error among them handled as `execute_field`
        handles one raised while completing a value (null here, or raised to the parent)."""
        assert field.object is not None
        try:
            completed = self.collect_and_execute_subfields(
                field.object, field_details_list, path, value, position_context
            )
        except Exception as raw_error:
            self.handle_field_error(raw_error, field.type, field_details_list, path)
            return None
        if not self.is_awaitable(completed):
            return completed

        async def await_completed(completed: Awaitable[Any]) -> Any:
            try:
                return await completed
            except Exception as raw_error:
                self.handle_field_error(raw_error, field.type, field_details_list, path)
                return None

        return await_completed(completed)
