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
reader made once per source class (`_reader_for`: a pydantic model's attribute, a dict's key).
A leaf that graphql-core's own coercion would give back unchanged (a `str` for String and ID, a
`bool` for Boolean, a finite `float` for Float, a 32-bit `int` for Int) is taken as it is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields, is_dataclass
from dataclasses import field as dataclass_field
from math import isfinite
from operator import attrgetter
from typing import Any

from graphql import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
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
from graphql.type.scalars import (
    serialize_boolean,
    serialize_float,
    serialize_id,
    serialize_int,
    serialize_string,
)

from .models import SandboxModel
from .schema import InChannel, _model_attributes, read_field, snake_case

# The value type graphql-core's own output coercions give back unchanged: `serialize_string` /
# `serialize_id` a str, `serialize_boolean` a bool, `serialize_float` a finite float
# (`float(value)`), `serialize_int` an int within 32 bits (`int(value)`).
_UNCHANGED: dict[Callable[[Any], Any], type] = {
    serialize_string: str,
    serialize_id: str,
    serialize_boolean: bool,
    serialize_float: float,
    serialize_int: int,
}


Kind = type  # (`type` is a field's name in PlainField)


@dataclass(frozen=True, slots=True)
class PlainField:
    """A plain field of an object type: how to read it and what its value must be."""

    type: GraphQLOutputType  # as declared, maybe non-null
    leaf: GraphQLLeafType | None  # its scalar or enum type; None: an object type
    object: GraphQLObjectType | None
    nullable: bool
    reader: Callable[[Any], Any] | None  # None: `read_field` by the field's name
    unchanged: Kind | None = None  # a leaf's value kept as it is when of this exact type
    # Per source class, what `read_field` reads for the field (`_reader_for`).
    readers: dict[Kind, Callable[[Any], Any]] = dataclass_field(default_factory=dict)


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
            coerce = getattr(inner, "coerce_output_value", None)
            unchanged = _UNCHANGED.get(coerce) if coerce is not None else None
            plain[name] = PlainField(field.type, inner, None, nullable, reader, unchanged)
        elif is_object_type(inner) and inner.is_type_of is None:
            plain[name] = PlainField(field.type, None, inner, nullable, reader)
    _by_type[id(parent_type)] = (parent_type, plain)
    return plain


def _reader_for(source_class: type, name: str) -> Callable[[Any], Any]:
    """What `read_field(source, name)` reads for a source of exactly `source_class`: a dict's
    key; a sandbox model's attributes `_model_attributes` names (the first not None); a
    dataclass's field whose name is already snake_case (`read_field` reads that attribute,
    twice when None: the same value); anything else through `read_field` itself."""
    if issubclass(source_class, dict):
        return lambda source: source.get(name)
    if issubclass(source_class, SandboxModel):
        attributes = _model_attributes(source_class, name)
        if not attributes:
            return lambda source: None
        if len(attributes) == 1:
            return attrgetter(attributes[0])
    elif (
        not issubclass(source_class, InChannel)
        and is_dataclass(source_class)
        and name in {f.name for f in fields(source_class)}
        and not name[0].isupper()
        and snake_case(name) == name
    ):
        return lambda source: getattr(source, name, None)
    return lambda source: read_field(source, name)


# Per field of a selection: its response name, field details, field name and plain field (None:
# graphql-core's path), and a plain object's collected sub-fields (None: collected when read).
PlanEntry = tuple[str, FieldDetailsList, str, PlainField | None, GroupedFieldSet | None]


class SandboxExecutor(IncrementalExecutor):
    """`IncrementalExecutor` with the plain-field shortcut (see the module docstring)."""

    _plans: dict[int, tuple[GroupedFieldSet, list[PlanEntry]]]

    def _plan(self, parent_type: GraphQLObjectType, selection: GroupedFieldSet) -> list[PlanEntry]:
        """The loop's view of a collected selection, made once per execution (kept with the
        selection itself, so that a reused id is never mistaken for it)."""
        try:
            plans = self._plans
        except AttributeError:
            plans = self._plans = {}
        known = plans.get(id(selection))
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
        plans[id(selection)] = (selection, plan)
        return plan

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
                            reader = field.readers[source_class] = _reader_for(source_class, name)
                    value = reader(source_value)
                    if value is None:
                        if field.nullable:
                            results[response_name] = None
                            continue
                    elif isinstance(value, Exception):
                        pass
                    elif field.leaf is not None:
                        kind: Any = field.unchanged  # see `_UNCHANGED`
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

        async def await_completed(completed: Awaitable[Any]) -> Any:
            try:
                return await completed
            except Exception as raw_error:
                self.handle_field_error(raw_error, field.type, field_details_list, path)
                return None

        return await_completed(completed)
