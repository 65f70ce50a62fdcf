"""Orderings of a connection and their cursors, as Saleor makes and reads them.

A connection is listed in one ordering: model fields, all ascending or all descending
(saleor/graphql/utils/sorting.py: `sort_queryset` puts the direction before every field of the
sort enum's value, `sort_queryset_by_default` takes the model's `Meta.ordering`). An edge's cursor
is the values of those fields, each as `str()`, in a JSON list, in base64
(saleor/graphql/core/connection.py `to_global_cursor`), so it is a position in that ordering
only. `connection_from_queryset_slice` (the same module, at tags 3.20.119 and 3.22.0 and commit
723cd4e) reads an `after`/`before` cursor so:

* one that does not decode to a list, or holds another number of values than the ordering has
  fields, is refused: "Received cursor is invalid.";
* each value is compared with its field (`_prepare_filter`: the rows after it in the ordering's
  direction, field by field), so the database converts it to the field's type, field after
  field: a value an integer field cannot take raises `ValueError`, caught: "Received cursor is
  invalid."; one a date-time or UUID field cannot take raises Django's `ValidationError`, not
  caught: its message, as a list (`str(ValidationError)`), code "ValidationError";
* a cursor whose values fit is a position in the ordering asked for, whichever ordering made it
  (Saleor cannot tell).

The sandbox keeps the items a listing pages through sorted ascending by the ordering's values
(`Ordering.key`) and finds a cursor's place by bisection (connections.py).
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from graphql import GraphQLError

T = TypeVar("T")
Key = tuple[Any, ...]

INVALID = "Received cursor is invalid."


def saleor_error(message: str, code: str = "GraphQLError") -> GraphQLError:
    """A GraphQL error shaped like Saleor's (``extensions.exception.code``)."""
    return GraphQLError(message, extensions={"exception": {"code": code}})


def _invalid(value: str) -> Any:
    raise saleor_error(INVALID)


def as_int(value: str) -> int:
    """An integer field's value (`IntegerField.get_prep_value`: `int()`, a ValueError caught)."""
    if not value.lstrip("-").isdigit():
        _invalid(value)
    return int(value)


def as_text(value: str) -> str:
    return value


def as_moment(value: str) -> datetime:
    """A date-time field's value (`DateTimeField.to_python`: ISO 8601, naive in UTC, as Saleor's
    `TIME_ZONE = "UTC"`); Django's `ValidationError` otherwise."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise saleor_error(
            f"['“{value}” value has an invalid format. It must be in "
            "YYYY-MM-DD HH:MM[:ss[.uuuuuu]][TZ] format.']",
            "ValidationError",
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def as_uuid(value: str) -> uuid.UUID:
    """A UUID field's value (`UUIDField.to_python`); Django's `ValidationError` otherwise."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise saleor_error(f"['“{value}” is not a valid UUID.']", "ValidationError") from None


@dataclass(frozen=True)
class Field(Generic[T]):
    """One field of an ordering: Saleor's name of it, an item's value (what is compared, and
    what the cursor holds as `str()`), and the conversion of a cursor's value back."""

    name: str
    value: Callable[[T], Any]
    parse: Callable[[str], Any]


@dataclass(frozen=True)
class Ordering(Generic[T]):
    """Fields in one direction (see the module docstring)."""

    fields: tuple[Field[T], ...]
    descending: bool = False

    @property
    def name(self) -> tuple[str, ...]:
        """The fields' names: what a sorted list of items is kept under, whatever the
        direction (it is read backwards for a descending ordering)."""
        return tuple(field.name for field in self.fields)

    def key(self, item: T) -> Key:
        return tuple(field.value(item) for field in self.fields)

    def cursor(self, item: T) -> str:
        values = [str(field.value(item)) for field in self.fields]
        return base64.b64encode(json.dumps(values).encode()).decode()

    def position(self, cursor: str) -> Key:
        """Where a cursor is in this ordering (Saleor's refusals, see the module docstring)."""
        try:
            values = json.loads(base64.b64decode(cursor.encode()).decode())
        except (binascii.Error, ValueError, UnicodeError) as exc:
            raise saleor_error(INVALID) from exc
        if not isinstance(values, list) or len(values) != len(self.fields):
            raise saleor_error(INVALID)
        # The sandbox's fields are never null: a null in a cursor is refused too.
        if any(value is None or isinstance(value, (list, dict)) for value in values):
            raise saleor_error(INVALID)
        return tuple(
            field.parse(str(value)) for field, value in zip(self.fields, values, strict=True)
        )


def by_int(key: Callable[[T], int], name: str = "pk") -> Ordering[T]:
    """Ascending by one integer (a pk): the cursor `["<pk>"]`."""
    return Ordering((Field(name, key, as_int),))
