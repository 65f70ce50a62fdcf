"""Tags from data: a metadata key holding JSON. A storefront writing `JSON.stringify(tags)`
stores `null` for no tags, and an array may hold `null`, booleans or nested values. Before,
each was turned into Python's spelling of it, giving the contact the tags "None", "True" or
"False" (or "[...]"), which the store never named."""

from __future__ import annotations

import pytest

from addon.subscriptions.member_fields import parse_tags


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("null", []),
        ("true", []),
        ("false", []),
        ('{"vip": true}', []),
        ('["vip", null, true, false, ["x"], {"y": 1}]', ["vip"]),
        ('["vip", 2024, 1.5]', ["vip", "2024", "1.5"]),  # numbers do name tags
        ('"vip"', ["vip"]),
        ("vip, null", ["vip", "null"]),  # not JSON: names separated by commas, as written
    ],
)
def test_json_null_booleans_and_nested_values_name_no_tag(raw: str, expected: list[str]) -> None:
    assert parse_tags(raw) == (expected, [])
