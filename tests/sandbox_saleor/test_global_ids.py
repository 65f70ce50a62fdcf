"""Global ids are base64 of "<Type>:<pk>" exactly as `base64.b64encode` gives them."""

from __future__ import annotations

import base64

import pytest

from sandboxes.saleor.ids import from_global_id, to_global_id


@pytest.mark.parametrize(
    ("type_name", "pk"),
    [("App", 1), ("User", 12345), ("Order", "9" * 40), ("Checkout", "1b4e28ba-2fa1"), ("Ü", "é")],
)
def test_global_ids_are_base64_of_type_and_pk(type_name: str, pk: int | str) -> None:
    expected = base64.b64encode(f"{type_name}:{pk}".encode()).decode("ascii")
    assert to_global_id(type_name, pk) == expected
    assert from_global_id(expected) == (type_name, str(pk))
