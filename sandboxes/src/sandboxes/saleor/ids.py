"""Saleor-style global object IDs.

Saleor exposes every node through a Relay global ID: ``base64("<GraphQLType>:<pk>")``, e.g.
``base64("App:1") == "QXBwOjE="``. These helpers encode and decode them.
"""

from __future__ import annotations

import base64
import binascii
import uuid


class InvalidGlobalId(ValueError):
    """Raised when a string is not a well-formed global ID (or of an unexpected type)."""


def to_global_id(type_name: str, pk: int | str) -> str:
    """Encode ``type_name`` and ``pk`` as a global ID, like graphene's ``Node.to_global_id``
    (what ``base64.b64encode`` does, without its Python wrapper: a page reads hundreds)."""
    return binascii.b2a_base64(f"{type_name}:{pk}".encode(), newline=False).decode("ascii")


def from_global_id(global_id: str) -> tuple[str, str]:
    """Decode a global ID into ``(type_name, pk)``; raise :class:`InvalidGlobalId` if malformed."""
    try:
        decoded = base64.b64decode(global_id.encode("ascii"), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise InvalidGlobalId(f"Couldn't resolve id: {global_id}.") from exc
    type_name, sep, pk = decoded.partition(":")
    if not sep or not type_name or not pk:
        raise InvalidGlobalId(f"Couldn't resolve id: {global_id}.")
    return type_name, pk


def checked_global_id(global_id: str, expected_type: str) -> tuple[str, str]:
    """The type and pk of an id whose pk is an integer or a UUID; otherwise Saleor's error,
    before any type is compared (saleor/graphql/core/utils `from_global_id_or_error`:
    `validate_if_int_or_uuid`, "Invalid ID: …. Expected: <type>.")."""
    try:
        type_name, pk = from_global_id(global_id)
        if not pk.isdigit():
            uuid.UUID(pk)
    except ValueError as exc:  # InvalidGlobalId is one
        raise InvalidGlobalId(f"Invalid ID: {global_id}. Expected: {expected_type}.") from exc
    return type_name, pk


def pk_from_global_id(global_id: str, expected_type: str) -> int:
    """Return the integer pk of ``global_id``, checking that it names ``expected_type``."""
    type_name, pk = from_global_id(global_id)
    if type_name != expected_type:
        raise InvalidGlobalId(f"Must receive a {expected_type} id.")
    try:
        return int(pk)
    except ValueError as exc:
        raise InvalidGlobalId(f"Couldn't resolve id: {global_id}.") from exc
