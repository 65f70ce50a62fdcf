"""Mailchimp names a refused merge value by its tag ("DROPDOWN : Value must be one of: …"), or as
`merge_fields.<TAG>` when the value is not of the field's schema at all (the sandbox's anyOf
refusal, mailchimp/mc-magento2#593): either way the write goes again without it."""

from __future__ import annotations

from addon.mailchimp import FieldError, ValidationFailed
from addon.subscriptions.member_fields import MemberData
from addon.subscriptions.stale_fields import drop_refused


def _refusal(*errors: FieldError) -> ValidationFailed:
    return ValidationFailed("Invalid Resource", status=400, errors=errors)


def test_a_value_refused_under_its_schema_name_is_dropped() -> None:
    data = MemberData(merge_fields={"ADDRESS": {"addr1": "1 Main St"}, "FNAME": "Ann"})
    schema = "Data did not match any of the schemas described in anyOf."
    assert drop_refused(_refusal(FieldError("merge_fields.ADDRESS", schema)), data)
    assert data.merge_fields == {"FNAME": "Ann"}
    [problem] = data.problems
    assert problem.startswith("ADDRESS: Mailchimp refused the value")


def test_a_value_refused_by_its_tag_is_dropped_and_others_are_not_touched() -> None:
    data = MemberData(merge_fields={"PLAN": "Gold", "FNAME": "Ann"})
    assert drop_refused(_refusal(FieldError("PLAN", "Value must be one of: Silver")), data)
    assert data.merge_fields == {"FNAME": "Ann"}
    assert not drop_refused(_refusal(FieldError("tags[0]", "This value should not be blank")), data)
