"""Fields the spec does not let be empty are left out of answers while unset."""

from __future__ import annotations

import pytest

from sandboxes.mailchimp import batch_models, models
from sandboxes.mailchimp.batch_models import Batch
from sandboxes.mailchimp.models import Member, OmitsUnset, Order, Product

OMITTING = [Member, Product, Order, Batch]


@pytest.mark.parametrize("model", OMITTING)
def test_each_listed_field_is_declared_omitted_and_no_other(model: type[OmitsUnset]) -> None:
    if not models._HAS_EXCLUDE_IF:  # pragma: no cover - pydantic < 2.12: the wrap serializer
        pytest.skip("the list alone decides")
    declared = {n for n, f in model.model_fields.items() if f.exclude_if is not None}
    assert declared == set(model.omit_when_unset)


def test_every_omitting_model_is_checked() -> None:
    found = {
        m
        for module in (models, batch_models)
        for m in vars(module).values()
        if isinstance(m, type) and issubclass(m, OmitsUnset)
    }
    assert found - {OmitsUnset} == set(OMITTING)


def test_unset_fields_are_left_out_set_ones_kept() -> None:
    batch = Batch(id="b", total_operations=0, submitted_at="2024-01-01T00:00:00+00:00")
    for mode in ("python", "json"):
        assert "completed_at" not in batch.model_dump(mode=mode)
    assert "completed_at" not in batch.model_dump_json()
    batch.completed_at = "2024-01-01T00:00:01+00:00"
    assert batch.model_dump(mode="json")["completed_at"] == "2024-01-01T00:00:01+00:00"
    member = Member(
        id="h",
        email_address="a@b.test",
        unique_email_id="u",
        contact_id="c",
        web_id=1,
        status="subscribed",
        last_changed="2024-01-01T00:00:00+00:00",
        list_id="l",
    )
    dumped = member.model_dump(mode="json")
    for name in ("unsubscribe_reason", "timestamp_signup", "timestamp_opt"):
        assert name not in dumped
    assert list(dumped)[:4] == ["id", "email_address", "unique_email_id", "contact_id"]
    member.unsubscribe_reason = "N/A (Unsubscribed by an admin)"
    member.timestamp_opt = "2024-01-01T00:00:00+00:00"
    dumped = member.model_dump(mode="json")
    assert dumped["unsubscribe_reason"] == "N/A (Unsubscribed by an admin)"
    assert dumped["timestamp_opt"] == "2024-01-01T00:00:00+00:00"
    assert "timestamp_signup" not in dumped
    assert list(dumped).index("unsubscribe_reason") == list(dumped).index("status") + 1
