"""A refused request's fields and rules in words a store admin reads: the pages show the
message as it comes (`addon/validation_messages.py`)."""

from __future__ import annotations

from typing import Any

from addon.validation_messages import plain_message
from tests.ecommerce.conftest import Shop


async def _refused(shop: Shop, method: str, path: str, body: Any) -> str:
    response = await shop.api(method, path, body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "INVALID_INPUT"
    return str(error["message"])


async def test_a_field_is_named_in_words_and_a_row_counted_from_one(shop: Shop) -> None:
    rules = [
        {"shipping_method": "Express", "carrier": "DHL"},
        {"shipping_method": "x" * 300, "carrier": "UPS"},
    ]
    message = await _refused(shop, "PATCH", "/api/ecommerce/settings", {"tracking_rules": rules})
    assert message == "Tracking rules, row 2, shipping method is too long: at most 255 characters."


async def test_a_key_too_long_and_a_value_error(shop: Shop) -> None:
    message = await _refused(shop, "POST", "/api/connection/api-key", {"api_key": "k" * 201})
    assert message == "API key is too long: at most 200 characters."
    message = await _refused(
        shop, "PATCH", "/api/ecommerce/settings", {"default_timezone": "Mars/Olympus"}
    )
    assert message.startswith("Default timezone must be a time zone name such as Europe/Warsaw")


def test_every_problem_is_a_sentence_and_unknown_rules_keep_their_words() -> None:
    errors = [
        {"loc": ("body",), "msg": "Field required", "type": "missing"},
        {"loc": ("query", "limit"), "msg": "…", "type": "less_than_equal", "ctx": {"le": 100}},
        {
            "loc": ("body", "tags", "key"),
            "msg": "…",
            "type": "string_too_short",
            "ctx": {"min_length": 1},
        },
        {"loc": ("body", "note"), "msg": "Input should be a valid string", "type": "string_type"},
        {"loc": ("body", "orders_since"), "msg": "Value error, a reason", "type": "value_error"},
    ]
    assert plain_message(errors) == (
        "The request's body is required. Limit must be at most 100. Tags, key must not be "
        "empty. Note: Input should be a valid string. Orders since: a reason."
    )
