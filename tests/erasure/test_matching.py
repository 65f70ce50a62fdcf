"""Which texts and values name an address the erasure forgets (`forget.address_pattern`)."""

from __future__ import annotations

import pytest

from addon.erasure.forget import address_pattern, names, scrub_text

ANN = "ann@example.com"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("ann@example.com", True),
        ("Write to Ann@Example.com.", True),  # any case; a full stop after it
        ("mailto:ann@example.com", True),
        ('"email":"ann@example.com"', True),
        ("Contact:\\nann@example.com", True),  # after a JSON escape, as in a nested body
        ("\\u0022ann@example.com", True),
        ("q=hello%20ann@example.com", True),  # after a URL's escape
        ("joann@example.com", False),  # longer addresses holding it
        ("jo.ann@example.com", False),
        ("x+ann@example.com", False),
        ("ann@example.com.au", False),
        ("ann@example.community", False),
        ("x%2Bann@example.com", False),  # x+ann@…, escaped
        ("jo%C3%A9ann@example.com", False),  # joéann@…, escaped
        ("j\\u00f6ann@example.com", False),  # jöann@…, escaped
    ],
)
def test_an_address_is_named_whole(text: str, named: bool) -> None:
    assert bool(address_pattern([ANN]).search(text)) is named


def test_values_are_read_decoded_and_scrubbed_where_named() -> None:
    pattern = address_pattern([ANN])
    assert names(pattern, {"note": "Contact:\nann@example.com"})
    assert names(pattern, {"ann@example.com": 1})
    assert not names(pattern, {"to": ["joann@example.com"], "n": 3})
    assert scrub_text("joann@example.com, ann@example.com", [ANN]) == (
        "joann@example.com, erased:257c57037d384ae37ea27a07e8a01665"
    )
