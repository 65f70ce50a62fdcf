"""A push job's payload written out (`push_queue.push_payload`) is what `PushRequest` dumps."""

from __future__ import annotations

import pytest

from addon.ecommerce.models import EntityKind
from addon.ecommerce.push_queue import push_payload
from addon.ecommerce.push_request import PushRequest


@pytest.mark.parametrize("alone", [False, True])
@pytest.mark.parametrize("kind", list(EntityKind))
def test_a_push_payload_is_what_the_model_dumps(kind: EntityKind, alone: bool) -> None:
    request = PushRequest(
        channel="default-channel", kind=kind, saleor_id="UHJvZHVjdDox", alone=alone
    )
    expected = request.model_dump(mode="json", exclude_defaults=True)
    written = push_payload("default-channel", kind, "UHJvZHVjdDox", alone=alone)
    assert written == expected
    assert list(written) == list(expected)
    assert PushRequest.model_validate(written) == request
