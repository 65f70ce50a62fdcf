"""The custom scalars of the sandbox schema (``Date``, ``DateTime``, ``JSONString``, ``UUID``,
``Metadata``, ``PositiveDecimal``): how each is serialized and parsed."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from graphql import GraphQLError, GraphQLScalarType, GraphQLSchema

# -- scalars ------------------------------------------------------------------------------------


def _serialize_datetime(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _serialize_json_string(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _parse_json_string(value: Any) -> Any:
    """Saleor's ``JSONString`` input (saleor/graphql/core/fields.py): graphene's ``json.loads``
    of the value, and None, silently, where that fails: a variable given as a JSON object
    instead of a string of JSON (TypeError), or a string that is no JSON."""
    try:
        return json.loads(value)
    except (json.JSONDecodeError, TypeError):
        return None


def _serialize_plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID | Decimal):
        return str(value) if isinstance(value, uuid.UUID) else float(value)
    if isinstance(value, Enum):
        return value.value
    return value


def _parse_datetime(value: Any) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise GraphQLError("Enter a valid date/time.") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _parse_date(value: Any) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise GraphQLError("Enter a valid date.") from exc


def _parse_uuid(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise GraphQLError(f"Invalid UUID: {value}") from exc


def configure_scalars(schema: GraphQLSchema) -> None:
    scalars: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any] | None]] = {
        "Date": (_serialize_datetime, _parse_date),
        "DateTime": (_serialize_datetime, _parse_datetime),
        "JSONString": (_serialize_json_string, _parse_json_string),
        "UUID": (_serialize_plain, _parse_uuid),
        "Metadata": (_serialize_plain, None),
        "PositiveDecimal": (_serialize_plain, None),
    }
    for name, (serialize, parse_value) in scalars.items():
        scalar = schema.type_map[name]
        assert isinstance(scalar, GraphQLScalarType)
        # graphql-core 3.2 calls ``serialize``/``parse_value``; 3.3 their ``coerce_*`` successors.
        setattr(scalar, "serialize", serialize)  # noqa: B010
        if hasattr(scalar, "coerce_output_value"):
            setattr(scalar, "coerce_output_value", serialize)  # noqa: B010
        if parse_value is not None:
            setattr(scalar, "parse_value", parse_value)  # noqa: B010
            if hasattr(scalar, "coerce_input_value"):
                setattr(scalar, "coerce_input_value", parse_value)  # noqa: B010
