"""Request bodies decode to what ``json.loads`` gives, whichever decoder does the work."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from sandboxes.mailchimp import json_body

BODIES = [
    '{"id": "o1", "order_total": 19.5, "lines": [{"quantity": 2}], "x": null, "y": true}',
    '{"a": 1, "a": 2}',
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551616",
    "-9223372036854775809",
    '{"quantity": 123456789012345678901234567890}',
    "123456789012345678901234567890.5",
    "0.1000000000000000055511151231257827",
    "1e400",
    "-1e400",
    "NaN",
    "-Infinity",
    "-0.0",
    "4.9e-324",
    '"\\ud800"',
    '"\\u00e9\\ud83d\\ude00"',
    " {} ",
    "",
    "\ufeff{}",
    "[1,]",
    '{"a": 1} x',
    '"\x01"',
    "01",
    '"abc',
]


def outcome(raw: str | bytes, decode: Any) -> tuple[str, Any]:
    try:
        return "value", decode(raw)
    except ValueError as exc:
        return "error", type(exc)


def same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or repr(a) == repr(b)
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@pytest.mark.parametrize("text", BODIES)
def test_same_value_or_error_as_json_loads(text: str) -> None:
    raws: list[str | bytes] = [text, text.encode("utf-8", "surrogatepass")]
    for raw in raws:
        expected, got = outcome(raw, json.loads), outcome(raw, json_body.loads)
        assert expected[0] == got[0], raw
        assert same(expected[1], got[1]), raw


def test_big_integers_stay_integers() -> None:
    assert json_body.loads('{"n": 123456789012345678901234567890}') == {
        "n": 123456789012345678901234567890
    }


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "utf-16-le"])
def test_bytes_in_other_encodings(encoding: str) -> None:
    assert json_body.loads('{"a": "é"}'.encode(encoding)) == {"a": "é"}
