"""graphql-core's executor, with a shortcut for the fields most of a response is made of.

Most fields of a page of orders or products are plain leaves: a scalar or enum field without
arguments, read by `default_resolver` or by a resolver that needs its source only (`reads`), and
coerced by its type.
For each of them graphql-core builds a resolve-info object, looks for arguments, checks twice for
an awaitable and walks `complete_value` (about half of a page's rendering time). This executor
reads and coerces such a field directly; anything else, and any such field whose value is not a
plain one (null where the type forbids it, a value its type refuses, an exception), goes through
graphql-core's own path, which then gives exactly its own answer and error. The result is the
same either way (`tests/sandbox_saleor/test_executor.py` compares them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLObjectType,
    Undefined,
    is_leaf_type,
    is_non_null_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.execution.incremental.incremental_executor import (
    DeliveryGroupMap,
    IncrementalExecutor,
)
from graphql.pyutils import Path

from .schema import read_field

# A field's leaf type, whether it may be null, and its reader (None: `read_field` by the field's
# name); or None: not a plain leaf (see `_plain_leaf`).
_PlainLeaf = tuple[GraphQLLeafType, bool, Callable[[Any], Any] | None] | None
_plain_leaves: dict[int, tuple[GraphQLField, _PlainLeaf]] = {}


def _plain_leaf(field: GraphQLField) -> _PlainLeaf:
    """A field read by the default resolver or by a `reads` resolver, whose type is a scalar or
    enum (maybe non-null), taking no arguments: its leaf type, whether null is allowed, and the
    resolver's reader."""
    known = _plain_leaves.get(id(field))
    if known is not None and known[0] is field:
        return known[1]
    plain: _PlainLeaf = None
    reader = getattr(field.resolve, "plain_reader", None)
    if (field.resolve is None or reader is not None) and not field.args:
        inner = field.type.of_type if is_non_null_type(field.type) else field.type
        if is_leaf_type(inner):
            plain = (inner, not is_non_null_type(field.type), reader)
    _plain_leaves[id(field)] = (field, plain)  # the field is kept: its id is not reused
    return plain


class SandboxExecutor(IncrementalExecutor):
    """`IncrementalExecutor` with the plain-leaf shortcut (see the module docstring)."""

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: DeliveryGroupMap | None,
    ) -> Any:
        node = field_details_list[0].node
        name = node.name.value
        field = parent_type.fields.get(name)
        plain = None
        if field is not None and not node.arguments and self.middleware_manager is None:
            plain = _plain_leaf(field)
        if plain is not None:
            leaf, nullable, reader = plain
            value = read_field(source, name) if reader is None else reader(source)
            if value is None:
                if nullable:
                    return None
            elif not isinstance(value, Exception):
                try:
                    coerced = leaf.coerce_output_value(value)
                except Exception:  # graphql-core's own path reports it
                    coerced = None
                if coerced is not None and coerced is not Undefined:
                    return coerced
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )
