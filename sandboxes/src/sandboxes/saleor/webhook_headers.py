"""A webhook's ``customHeaders`` as Saleor checks them when it installs an app's manifest
(``manifest_rules``): ``custom_headers_validator`` (saleor/webhook/validators.py@3.20.119, the
same on main) takes at most five headers of RFC 5322 names and bodies, each name starting with
``X-`` or ``Authorization`` or being ``BrokerProperties``; :func:`custom_headers_problem` gives
Saleor's reason for refusing them, which the installation reports as
``INVALID_CUSTOM_HEADERS``."""

from __future__ import annotations

from typing import Any

# `custom_headers_validator` (saleor/webhook/validators.py@3.20.119, the same on main): RFC 5322
# field names (printable ASCII but ":") and bodies (printable ASCII, space and tab).
HEADERS_NUMBER_LIMIT = 5
HEADERS_LENGTH_LIMIT = 998
_KEY_CHARS = frozenset(chr(c) for c in range(33, 127)) - {":"}
_VALUE_CHARS = frozenset(chr(c) for c in range(32, 127)) | {"\t"}


def custom_headers_problem(headers: dict[Any, Any]) -> str | None:
    """Why Saleor refuses a webhook's ``customHeaders``, or None."""
    if len(headers) > HEADERS_NUMBER_LIMIT:
        return f"Number of headers exceeds the limit: {HEADERS_NUMBER_LIMIT}."
    for key, value in headers.items():
        if not isinstance(key, str) or not isinstance(value, str):
            return "Header must consist of strings."
        if len(key) + len(value) + 2 > HEADERS_LENGTH_LIMIT:
            return (
                f'Header with key: "{key}" exceeds the limit of characters: {HEADERS_LENGTH_LIMIT}.'
            )
        if not _KEY_CHARS.issuperset(key):
            return f'Key "{key}" contains invalid character.'
        if not _VALUE_CHARS.issuperset(value):
            return f'Value "{value}" contains invalid character.'
        lowered = key.lower()
        if not (lowered.startswith(("x-", "authorization")) or lowered == "brokerproperties"):
            return (
                f'"{key}" does not match allowed key pattern: '
                '"X-*", "Authorization*", or "BrokerProperties".'
            )
    return None
