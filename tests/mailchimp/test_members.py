"""Members: upsert, patch, tags, and the member-state errors, against the sandbox."""

from __future__ import annotations

import pytest

from addon.mailchimp import (
    AddressRefused,
    AudienceList,
    ForgottenEmailNotSubscribed,
    MailchimpClient,
    MemberExists,
    MemberInComplianceState,
    MemberPatch,
    MemberUpsert,
    NotFound,
    TagUpdate,
    ValidationFailed,
    subscriber_hash,
)
from sandboxes.mailchimp.models import SandboxAccount
from sandboxes.mailchimp.sandbox import MailchimpSandbox
from tests.mailchimp.conftest import RecordingTransport
from tests.mailchimp.test_lists import make_list

EMAIL = "Jane.Doe@Example.com"


@pytest.fixture
async def audience(client: MailchimpClient) -> AudienceList:
    return await make_list(client)


async def test_upsert_get_patch(
    client: MailchimpClient,
    audience: AudienceList,
    recorder: RecordingTransport,
) -> None:
    member = await client.upsert_member(
        audience.id,
        MemberUpsert(
            email_address=EMAIL,
            status_if_new="subscribed",
            merge_fields={"FNAME": "Jane", "LNAME": "Doe"},
        ),
    )
    assert member.status == "subscribed"
    assert member.id == subscriber_hash(EMAIL)
    assert member.merge_fields["FNAME"] == "Jane"
    path = f"/us21/3.0/lists/{audience.id}/members/{subscriber_hash(EMAIL)}"
    assert recorder.to(path) == [("PUT", path, 200)]

    # A second upsert with status_if_new does not change an existing member's status.
    again = await client.upsert_member(
        audience.id, MemberUpsert(email_address=EMAIL, status_if_new="pending")
    )
    assert again.status == "subscribed"

    fetched = await client.get_member(audience.id, EMAIL.lower())
    assert fetched.email_address == EMAIL
    by_hash = await client.get_member(audience.id, subscriber_hash(EMAIL))
    assert by_hash.id == fetched.id

    patched = await client.update_member(
        audience.id, EMAIL, MemberPatch(merge_fields={"FNAME": "Janet"}, status="unsubscribed")
    )
    assert patched.status == "unsubscribed"
    assert patched.merge_fields["FNAME"] == "Janet"


async def test_double_opt_in_member_is_pending(
    client: MailchimpClient, sandbox: MailchimpSandbox
) -> None:
    audience = await make_list(client, double_optin=True)
    member = await client.upsert_member(
        audience.id, MemberUpsert(email_address="p@example.com", status_if_new="pending")
    )
    assert member.status == "pending"
    assert [c.email_address for c in sandbox.confirmations] == ["p@example.com"]


async def test_tags(client: MailchimpClient, audience: AudienceList) -> None:
    await client.upsert_member(
        audience.id, MemberUpsert(email_address=EMAIL, status_if_new="subscribed")
    )
    await client.update_member_tags(
        audience.id, EMAIL, [TagUpdate(name="customer"), TagUpdate(name="vip")]
    )
    await client.update_member_tags(audience.id, EMAIL, [TagUpdate(name="vip", status="inactive")])
    member = await client.get_member(audience.id, EMAIL)
    assert [t.name for t in member.tags] == ["customer"]


async def test_missing_member_is_not_found(client: MailchimpClient, audience: AudienceList) -> None:
    with pytest.raises(NotFound):
        await client.get_member(audience.id, "nobody@example.com")


async def test_member_exists(client: MailchimpClient, audience: AudienceList) -> None:
    for email in ("a@example.com", "b@example.com"):
        await client.upsert_member(
            audience.id, MemberUpsert(email_address=email, status_if_new="subscribed")
        )
    with pytest.raises(MemberExists) as info:
        await client.request(
            "POST",
            f"/lists/{audience.id}/members",
            json={"email_address": "a@example.com", "status": "subscribed"},
        )
    assert info.value.title == "Member Exists"
    assert "already a list member" in str(info.value)
    # Moving an address onto one in the list is a field error instead
    # (brandonseydel/MailChimp.Net#201).
    with pytest.raises(ValidationFailed) as moved:
        await client.update_member(
            audience.id, "a@example.com", MemberPatch(email_address="b@example.com")
        )
    assert moved.value.field_errors == {
        "email_address": '"b@example.com" is already in this list with a status of "subscribed".'
    }


async def test_member_in_compliance_state(
    client: MailchimpClient, audience: AudienceList, recorder: RecordingTransport
) -> None:
    await client.upsert_member(
        audience.id, MemberUpsert(email_address=EMAIL, status_if_new="unsubscribed")
    )
    with pytest.raises(MemberInComplianceState) as info:
        await client.upsert_member(
            audience.id,
            MemberUpsert(email_address=EMAIL, status_if_new="subscribed", status="subscribed"),
        )
    assert info.value.status == 400
    assert "compliance state" in str(info.value)
    path = f"/us21/3.0/lists/{audience.id}/members/{subscriber_hash(EMAIL)}"
    assert [s for _, _, s in recorder.to(path)] == [200, 400]  # sent once, never retried


async def test_forgotten_email_not_subscribed(
    client: MailchimpClient, audience: AudienceList
) -> None:
    await client.upsert_member(
        audience.id, MemberUpsert(email_address=EMAIL, status_if_new="subscribed")
    )
    await client.request(
        "POST", f"/lists/{audience.id}/members/{subscriber_hash(EMAIL)}/actions/delete-permanent"
    )
    with pytest.raises(ForgottenEmailNotSubscribed) as info:
        await client.upsert_member(
            audience.id, MemberUpsert(email_address=EMAIL, status_if_new="subscribed")
        )
    assert info.value.title == "Forgotten Email Not Subscribed"


async def test_validation_failed_with_field_errors(
    client: MailchimpClient, audience: AudienceList
) -> None:
    await client.create_merge_field(audience.id, "Saleor ID", "text", tag="SALEORID", required=True)
    with pytest.raises(ValidationFailed) as info:
        # Not through `upsert_member`: it skips merge validation (a required field the app
        # does not fill never blocks a write).
        await client.request(
            "PUT",
            f"/lists/{audience.id}/members/{EMAIL}",
            json={"email_address": EMAIL, "status_if_new": "subscribed"},
        )
    error = info.value
    assert error.title == "Invalid Resource"
    assert error.field_errors == {"SALEORID": "Please enter a value"}
    assert "Problems: SALEORID: Please enter a value." in str(error)


async def test_invalid_email_is_validation_failed(
    client: MailchimpClient, audience: AudienceList
) -> None:
    with pytest.raises(ValidationFailed, match="valid email"):
        await client.upsert_member(
            audience.id, MemberUpsert(email_address="not-an-email", status_if_new="subscribed")
        )


async def test_marketing_permissions_are_read_from_a_member(client: MailchimpClient) -> None:
    audience = await make_list(client, marketing_permissions=True)
    assert await client.marketing_permissions(audience.id) == []  # no member to show them
    await client.upsert_member(
        audience.id, MemberUpsert(email_address=EMAIL, status_if_new="subscribed")
    )
    permissions = await client.marketing_permissions(audience.id)
    assert permissions and all(p.marketing_permission_id and p.text for p in permissions)
    member = await client.get_member(audience.id, EMAIL)
    assert [p.marketing_permission_id for p in member.marketing_permissions] == [
        p.marketing_permission_id for p in permissions
    ]


async def test_an_address_mailchimp_refuses_is_address_refused(
    client: MailchimpClient,
    audience: AudienceList,
    sandbox: MailchimpSandbox,
    account: SandboxAccount,
) -> None:
    """Its title is "Invalid Resource" as for any invalid body: the detail tells it apart."""
    with pytest.raises(AddressRefused) as fake:
        await client.upsert_member(
            audience.id, MemberUpsert(email_address="bot@shop.invalid", status_if_new="subscribed")
        )
    assert isinstance(fake.value, ValidationFailed) and not fake.value.too_many_signups
    assert "looks fake or invalid" in fake.value.detail
    sandbox.refuse_address(account, "busy@example.com", "signups")
    with pytest.raises(AddressRefused) as busy:
        await client.upsert_member(
            audience.id, MemberUpsert(email_address="busy@example.com", status_if_new="subscribed")
        )
    assert busy.value.too_many_signups
    # Any other invalid body stays a plain validation failure.
    with pytest.raises(ValidationFailed) as other:
        await client.upsert_member(
            audience.id, MemberUpsert(email_address="no-at-sign", status_if_new="subscribed")
        )
    assert type(other.value) is ValidationFailed
