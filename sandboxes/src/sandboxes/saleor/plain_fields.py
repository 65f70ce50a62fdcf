"""Which fields of an object type the sandbox's executor reads itself (`executor.py`): a field
without arguments, read by `default_resolver` or by a resolver that needs its source only
(`reads`), whose type is a scalar, an enum or an object type (maybe non-null); and how such a
field is read from a source of a given class."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass
from dataclasses import field as dataclass_field
from operator import attrgetter
from typing import Any

from graphql import (
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLOutputType,
    is_leaf_type,
    is_non_null_type,
    is_object_type,
)
from graphql.type.scalars import (
    serialize_boolean,
    serialize_float,
    serialize_id,
    serialize_int,
    serialize_string,
)

from .models import SandboxModel
from .reading import InChannel, model_attributes, read_field, snake_case

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
    # Per source class, what `read_field` reads for the field (`reader_for`).
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


def reader_for(source_class: type, name: str) -> Callable[[Any], Any]:
    """What `read_field(source, name)` reads for a source of exactly `source_class`: a dict's
    key; a sandbox model's attributes `model_attributes` names (the first not None); a
    dataclass's field whose name is already snake_case (`read_field` reads that attribute,
    twice when None: the same value); anything else through `read_field` itself."""
    if issubclass(source_class, dict):
        return lambda source: source.get(name)
    if issubclass(source_class, SandboxModel):
        attributes = model_attributes(source_class, name)
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
