"""The Saleor sandbox refuses a webhook's custom headers as Saleor does: each rule of
`custom_headers_validator` (saleor/webhook/validators.py, the same since 3.20), in its order
and with its message, which webhookCreate / webhookUpdate answer as INVALID_CUSTOM_HEADERS."""

from __future__ import annotations

from typing import Any

import pytest

from sandboxes.saleor.webhook_headers import custom_headers_problem

PATTERN = '"X-*", "Authorization*", or "BrokerProperties".'

REFUSED: dict[str, tuple[dict[Any, Any], str]] = {
    # The number first, before any header is looked at (HEADERS_NUMBER_LIMIT = 5).
    "six": ({f"bad {n}": "v" for n in range(6)}, "Number of headers exceeds the limit: 5."),
    "not-a-string": ({"x-a": 1}, "Header must consist of strings."),
    # len(key) + len(value) + 2 > HEADERS_LENGTH_LIMIT (998), before the characters.
    "too-long": (
        {"x-a": "v" * 994},
        'Header with key: "x-a" exceeds the limit of characters: 998.',
    ),
    # KEY_CHARS_ALLOWED: printable ASCII but ":".
    "name-colon": ({"x-a:b": "v"}, 'Key "x-a:b" contains invalid character.'),
    "name-space": ({"x-a b": "v"}, 'Key "x-a b" contains invalid character.'),
    # VALUE_CHARS_ALLOWED: printable ASCII (":" since 3.20), space and tab.
    "value-newline": ({"x-a": "v\nw"}, 'Value "v\nw" contains invalid character.'),
    "value-non-ascii": ({"x-a": "thé"}, 'Value "thé" contains invalid character.'),
    "name-pattern": ({"y-a": "v"}, f'"y-a" does not match allowed key pattern: {PATTERN}'),
    "broker-prefix": (
        {"brokerpropertiesx": "v"},
        f'"brokerpropertiesx" does not match allowed key pattern: {PATTERN}',
    ),
}

TAKEN = [
    {f"x-{n}": "v" for n in range(5)},
    {"x-a": "v" * 993},  # 3 + 993 + 2 = 998
    {"X-A": "a: b\t c", "Authorization-Extra": "Bearer t", "BrokerProperties": "{}"},
]


@pytest.mark.parametrize("kind", REFUSED)
def test_each_rule_refuses_with_saleors_message(kind: str) -> None:
    headers, message = REFUSED[kind]
    assert custom_headers_problem(headers) == message


@pytest.mark.parametrize("headers", TAKEN)
def test_what_saleor_takes_is_taken(headers: dict[str, str]) -> None:
    assert custom_headers_problem(headers) is None
