"""Request bodies as strict as Mailchimp's: the base of every body model, the address shapes
several resources share, and the ``errors`` array of a refused body.

Mailchimp validates a body against the JSON schema of its operation before anything else
(its OpenAPI spec, shared/contracts/mailchimp-marketing.json, is that schema), and answers a
body it refuses with 400 "Invalid Resource" and one ``{field, message}`` per problem:

* a value of another JSON type: "Schema describes string, boolean found instead"
  (mailchimp/mc-magento#81), "Schema describes object, array found instead"
  (VingtCinq/python-mailchimp#56), "Schema describes string, NULL found instead"
  (drewm/mailchimp-api#179). No value is converted (pydantic's strict mode): "12" is not a
  number, 1 or "true" not a boolean, 12.0 not an integer, and ``null`` is none of them (the
  spec makes no request field of the app's writes nullable);
* a value outside an ``enum``: "Data presented is not one of the accepted values: subscribed,
  unsubscribed, cleaned, pending." (a member's ``status``, quoted in client libraries' tests);
* a string over its ``maxLength`` (an e-commerce customer's ``id``: 50): Mailchimp's wording is
  not published; the sandbox words it like its other length checks;
* a ``date-time`` that is not one: "This value is not a valid datetime." (Mailchimp's answer to a
  ``timestamp_signup`` sent without its offset, nopSolutions/mailchimp-plugin-for-nopcommerce#11).
  The spec's ``format: date-time`` is RFC 3339's (OpenAPI 3.0, "Data Types"): a date, ``T``, a
  time and an offset (``Z`` or ``+hh:mm``); its docs' example is ``2015-10-21T15:41:36+00:00``.
  A date alone, a time without an offset or a space for the ``T`` is refused (:data:`DateTimeIn`,
  :func:`date_time`). Chosen as the stricter side, not published: ``""`` is refused too
  (Mailchimp's validators may let a blank pass), and the query parameters the sandbox reads
  (``since_last_changed``, ``since_send_time``, ...) are held to the same form and wording;
  the docs give them "ISO 8601 time format: 2015-10-21T15:41:36+00:00";
* a required field left out: Mailchimp answers one entry for them all, with an empty ``field``
  and the message "Required fields were not provided: email_address" (drewm/mailchimp-api#179,
  mailchimp/APIv3-examples#42), ahead of the other entries. Several are listed comma-separated;
  one left out of a nested object is named in an entry whose ``field`` is that object's;
* a field inside a list is named by its item's index as ``item:N``: ``lines.item:0`` ("Required
  fields were not provided: id, product_id, ...", mailchimp/mailchimp-client-lib-codegen#127),
  ``lines.item:0.price`` (mailchimp/mc-woocommerce#759), ``operations.item:2``
  (mailchimp/mc-magento2#658).

Fields the spec does not declare are ignored (Mailchimp ignores them too).
"""

from __future__ import annotations

import re
import types
import typing
from datetime import datetime
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError
from rfc3339_validator import validate_rfc3339

from .errors import FieldError, field_invalid

NOT_A_DATE_TIME = "This value is not a valid datetime."

# The JSON type a pydantic error type says a value should have.
_EXPECTED = {
    "string_type": "string",
    "int_type": "integer",
    "int_from_float": "integer",
    "float_type": "number",
    "bool_type": "boolean",
    "model_type": "object",
    "model_attributes_type": "object",
    "dict_type": "object",
    "list_type": "array",
}


def json_type(value: object) -> str:
    """A JSON value's type, as Mailchimp's messages name it."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _declared(annotation: Any) -> str:
    """The JSON type of a field's annotation (``str | None`` -> string)."""
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        kinds = [_declared(a) for a in typing.get_args(annotation) if a is not type(None)]
        return kinds[0] if len(kinds) == 1 else "a value"
    if origin is Literal:
        return json_type(typing.get_args(annotation)[0])
    base = origin or annotation
    if base is bool:
        return "boolean"
    for python, kind in ((str, "string"), (int, "integer"), (float, "number"), (list, "array")):
        if isinstance(base, type) and issubclass(base, python):
            return kind
    return "object"


class BodyIn(BaseModel):
    """A request body's model (or a part of one): the JSON types as sent.

    A field whose default is not ``None`` refuses ``null`` by its type; one that defaults to
    ``None`` (to tell a field left out) refuses it through :func:`refuse_null`. A part of a
    body stored as given is dumped with :func:`given`.
    """

    model_config = ConfigDict(extra="ignore", strict=True)


def _date_time(value: str) -> str:
    if not validate_rfc3339(value):
        raise PydanticCustomError("date_time", NOT_A_DATE_TIME)
    return value


# A body field the spec types `format: date-time` (module docstring).
DateTimeIn = Annotated[str, AfterValidator(_date_time)]


def date_time(value: str, name: str) -> datetime:
    """``value`` (a query parameter or a body field named ``name``) as an aware datetime; a
    400 naming ``name`` when it is not RFC 3339's date-time."""
    if not validate_rfc3339(value):
        raise field_invalid(name, NOT_A_DATE_TIME)
    return datetime.fromisoformat(value)


def _not_null(cls: type[BaseModel], value: object, info: ValidationInfo) -> object:
    # Only a field the body gives is validated (a default is not): this is an explicit `null`.
    if value is None and info.field_name is not None:
        declared = _declared(cls.model_fields[info.field_name].annotation)
        message = "Schema describes {declared}, NULL found instead"
        raise PydanticCustomError("null_type", message, {"declared": declared})
    return value


def refuse_null(*fields: str) -> Any:
    """A validator (assigned in a model's body) refusing ``null`` for ``fields``, which default
    to ``None`` when left out: the spec makes none of the app's request fields nullable. Per
    field, not for every field of every model: a validator in Python costs about as much as
    the rest of an order's validation."""
    return field_validator(*fields, mode="before")(_not_null)


def given(part: BaseModel) -> dict[str, Any]:
    """The fields a body part gives (an address's parts it leaves out stay out)."""
    return part.model_dump(exclude_unset=True)


def _message(error: Any) -> str:
    kind = error["type"]
    if kind in _EXPECTED:
        return f"Schema describes {_EXPECTED[kind]}, {json_type(error['input'])} found instead"
    if kind == "literal_error":
        accepted = re.findall(r"'([^']*)'", str(error["ctx"]["expected"]))
        return f"Data presented is not one of the accepted values: {', '.join(accepted)}."
    if kind == "string_too_long":
        limit = error["ctx"]["max_length"]
        return f"This value is too long. It should have {limit} characters or less."
    return str(error["msg"])


def field_name(path: typing.Iterable[int | str]) -> str:
    """A field's name in Mailchimp's errors: ``lines.item:0.price`` (module docstring)."""
    return ".".join(f"item:{part}" if isinstance(part, int) else part for part in path)


def validation_errors(exc: ValidationError) -> list[FieldError]:
    """The ``errors`` array of Mailchimp's answer to a body ``exc`` refused: the fields left
    out first, one entry for those of each object (module docstring), then the others."""
    left_out: dict[str, list[str]] = {}
    others = []
    for error in exc.errors():
        if error["type"] == "missing":
            left_out.setdefault(field_name(error["loc"][:-1]), []).append(str(error["loc"][-1]))
        else:
            others.append(FieldError(field=field_name(error["loc"]), message=_message(error)))
    required = [
        FieldError(field=where, message=f"Required fields were not provided: {', '.join(names)}")
        for where, names in left_out.items()
    ]
    return required + others


# --- addresses ------------------------------------------------------------------------------
# The spec's address objects: every part a string, coordinates numbers, none required. What is
# stored of one is what it gives (`given`).


class AddressIn(BodyIn):
    """A customer's address (`E_commerce_Customer_3.address` and the like)."""

    address1: str = ""
    address2: str = ""
    city: str = ""
    province: str = ""
    province_code: str = ""
    postal_code: str = ""
    country: str = ""
    country_code: str = ""


class StoreAddressIn(AddressIn):
    """A store's address (`E_commerce_Store_1.address`): with its coordinates."""

    longitude: float = 0.0
    latitude: float = 0.0


class OrderAddressIn(StoreAddressIn):
    """An order's shipping or billing address (`E_commerce_Order_1.shipping_address`)."""

    name: str = ""
    phone: str = ""
    company: str = ""
