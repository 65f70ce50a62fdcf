"""What every write of a list member shares: the fields of POST, PUT and PATCH and their
checks, status changes under Mailchimp's compliance rules, making a member, setting a tag.

* An unsubscribed or cleaned contact cannot be set to ``subscribed`` ("Member In Compliance
  State"); setting ``pending`` is allowed and sends a confirmation e-mail.
* A cleaned contact cannot be edited: a write that carries any field is refused alike
  (`check_not_cleaned`); a change of its status alone is not.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from .bodies import BodyIn, DateTimeIn, given, refuse_null
from .errors import (
    FieldError,
    forgotten_email,
    invalid_resource,
    looks_fake,
    member_in_compliance_state,
    too_many_signups,
)
from .languages import check_language
from .merge_values import check_merge_fields
from .models import Member, MemberMarketingPermission, MemberStatus, MemberTag
from .routing import ApiRequest
from .state import ConfirmationEmail, ListData, subscriber_hash

# No dot to start or end the local part, and never two in a row (RFC 5322's dot-atom): an
# address such as Saleor's hidden "j...@example.com" is no address.
EMAIL_RE = re.compile(r"^(?!\.)(?!.*\.\.)[^@\s]+(?<!\.)@[^@\s]+\.[^@\s]+$")
# A member's status as a POST or PUT sets it (`Add_List_Members_1.status`), and as a PATCH does
# (`Add_List_Members_3.status`: no "transactional").
ApiStatus = Literal["subscribed", "unsubscribed", "cleaned", "pending", "transactional"]
PatchStatus = Literal["subscribed", "unsubscribed", "cleaned", "pending"]
COMPLIANCE_STATES = ("unsubscribed", "cleaned")


class PermissionIn(BodyIn):
    marketing_permission_id: str
    enabled: bool = False


class LocationIn(BodyIn):
    """`Add_List_Members_2.location`: coordinates, numbers."""

    latitude: float = 0.0
    longitude: float = 0.0


class MemberFields(BodyIn):
    """Fields that POST, PUT and PATCH share (`Add_List_Members_1`, `_2`, `_3`): typed as the
    spec types them, `merge_fields` values aside (the spec types them as objects, Mailchimp
    takes strings and numbers: `merge_values.py` checks them against the audience's fields)."""

    email_type: Literal["html", "text"] | None = None
    merge_fields: dict[str, Any] | None = None
    interests: dict[str, bool] | None = None
    language: str | None = None
    vip: bool | None = None
    location: LocationIn | None = None
    marketing_permissions: list[PermissionIn] | None = None
    ip_signup: str | None = None
    timestamp_signup: DateTimeIn | None = None
    ip_opt: str | None = None
    timestamp_opt: DateTimeIn | None = None
    _null = refuse_null(
        "email_type",
        "merge_fields",
        "interests",
        "language",
        "vip",
        "location",
        "marketing_permissions",
        "ip_signup",
        "timestamp_signup",
        "ip_opt",
        "timestamp_opt",
    )


def valid_email(email: str) -> bool:
    """Well formed, and an ASCII local part: "we cannot process UTF-8 characters in your
    subscribers' email address prefixes ... we'll block direcciónelectrónica@domain.com ... but
    we'll allow test@ñoñó1234.com" (mailchimp.com/help/international-characters-in-mailchimp;
    refused through the API alike, VingtCinq/python-mailchimp#117)."""
    return bool(EMAIL_RE.match(email)) and email.rsplit("@", 1)[0].isascii()


def check_email(email: str) -> None:
    if not valid_email(email):
        raise invalid_resource("Please provide a valid email address.")


def check_address_accepted(request: ApiRequest, email: str) -> None:
    """Mailchimp refuses some well-formed addresses as a list's new contact (or as a member's
    new address), with 400 "Invalid Resource" and a detail naming the address, no field error:
    "… looks fake or invalid, please enter a real email address." (bodies quoted in
    verbb/formie#2276, and JustFixNYC/tenants2#1554 for fooboo@example.com) and "… has signed
    up to a lot of lists very recently; we're not allowing more signups for now" (formie#2276).
    Its rules are not published: the sandbox refuses a domain under `.invalid` (reserved as
    never valid, RFC 2606 §2) as fake, and the addresses a test names
    (`AccountData.refused_addresses`). Those bodies are of adding a contact; that a member's
    e-mail change onto such an address is refused the same way is assumed (the new address
    becomes a contact of the list), not quoted from a source."""
    lowered = email.strip().lower()
    refused = request.account.refused_addresses.get(lowered)
    if refused == "signups":
        raise too_many_signups(email)
    if refused == "fake" or lowered.rsplit("@", 1)[-1].split(".")[-1] == "invalid":
        raise looks_fake(email)


def check_not_cleaned(member: Member, fields: MemberFields) -> None:
    """A cleaned contact's fields are not to be edited: "You can view cleaned addresses anytime
    or export them, but you can't edit them" (https://mailchimp.com/help/about-cleaned-contacts/);
    "a cleaned address is in a compliance state. This would mean that they would not be able to
    be added back or further updated outside of a double opt-in signup" (mailchimp/mc-magento
    #448). No source found quotes the API's answer to such an edit, but for the e-mail address's
    (`patch_member`, ibericode/mailchimp-user-sync#96): the sandbox answers as Mailchimp does
    to a bounced contact's subscription, "Member In Compliance State" ("… is in a compliance
    state due to unsubscribe, bounce, or compliance review …"), to any field the body carries,
    changed or not (the stricter reading). The status alone may still change: setting
    `pending`, the confirmation by e-mail, is the answer given to that same error ("Set the
    member's status to pending. That should resend the opt-in email", stackoverflow.com/q/
    42159327), and it is the double opt-in signup mc-magento#448 leaves open."""
    carried = [name for name in MemberFields.model_fields if getattr(fields, name) is not None]
    if member.status == "cleaned" and carried:
        raise member_in_compliance_state(member.email_address)


def apply_fields(request: ApiRequest, data: ListData, member: Member, fields: MemberFields) -> None:
    """Apply shared fields after validating merge fields, interests and permissions (never to a
    cleaned member: `check_not_cleaned`)."""
    check_not_cleaned(member, fields)
    if fields.language is not None:
        check_language(fields.language)  # before anything changes (`languages.py`)
    if fields.email_type is not None:
        member.email_type = fields.email_type
    if fields.merge_fields is not None:
        tags = {f.tag: f for f in data.merge_fields.values()}
        accepted, errors = check_merge_fields(tags, fields.merge_fields)
        if errors:
            raise invalid_resource("Your merge fields were invalid.", errors)
        member.merge_fields.update(accepted)
    if fields.interests is not None:
        for interest_id, enabled in fields.interests.items():
            if interest_id not in data.interests:
                raise invalid_resource(f"Invalid interest ID: '{interest_id}'.")
            member.interests[interest_id] = enabled
    if fields.marketing_permissions is not None:
        known = {p.marketing_permission_id: p for p in data.permissions}
        current = {p.marketing_permission_id: p for p in member.marketing_permissions}
        for permission in fields.marketing_permissions:
            if permission.marketing_permission_id not in known:
                raise invalid_resource(
                    f"Invalid marketing permission ID: '{permission.marketing_permission_id}'."
                )
            entry = current.get(permission.marketing_permission_id)
            if entry is None:  # a member from before the audience had permissions
                held = known[permission.marketing_permission_id]
                entry = MemberMarketingPermission(
                    marketing_permission_id=held.marketing_permission_id, text=held.text
                )
                member.marketing_permissions.append(entry)
            entry.enabled = permission.enabled
    for name in ("language", "vip", "ip_signup", "timestamp_signup", "ip_opt", "timestamp_opt"):
        value = getattr(fields, name)
        if value is not None:
            setattr(member, name, value)
    if fields.location is not None:
        member.location = {**member.location, **given(fields.location)}
    first = member.merge_fields.get("FNAME") or ""
    last = member.merge_fields.get("LNAME") or ""
    member.full_name = f"{first} {last}".strip()
    member.last_changed = request.sandbox.clock.iso()


def check_required_merge_fields(request: ApiRequest, data: ListData, member: Member) -> None:
    """A member written (added, or updated by PUT or PATCH) must hold a value for each required
    merge field, unless the request says `skip_merge_validation`: Mailchimp refuses a PATCH of
    an existing member lacking one even when the PATCH does not touch it
    (drewm/mailchimp-api#298 quotes the answer; brandonseydel/MailChimp.Net#312 for PUT)."""
    if request.flag("skip_merge_validation"):
        return
    missing = [
        FieldError(field=f.tag, message="Please enter a value")
        for f in data.merge_fields.values()
        if f.required and member.merge_fields.get(f.tag) in (None, "")
    ]
    if missing:
        raise invalid_resource("Your merge fields were invalid.", missing)


def set_status(
    request: ApiRequest, data: ListData, member: Member, status: MemberStatus, *, new: bool
) -> None:
    """Change a member's status, enforcing the compliance rules."""
    previous = member.status_before_archive if member.status == "archived" else member.status
    if not new and status == "subscribed" and previous in COMPLIANCE_STATES:
        raise member_in_compliance_state(member.email_address)
    if status == member.status:
        return
    member.status = status
    member.status_before_archive = None
    now = request.sandbox.clock.iso()
    if status == "subscribed":
        member.timestamp_opt = member.timestamp_opt or now
    if status == "pending":
        request.sandbox.state.confirmations.append(
            ConfirmationEmail(
                account_id=request.account.account.id,
                list_id=data.info.id,
                email_address=member.email_address,
                sent_at=request.sandbox.clock.now(),
            )
        )
    if status == "unsubscribed":
        member.unsubscribe_reason = "N/A (Unsubscribed by an admin)"
        data.unsubscribed_at[member.id] = now


def new_member(request: ApiRequest, data: ListData, email: str, source: str) -> Member:
    """A blank member (not yet stored), with the list's merge fields, interests, permissions."""
    state = request.sandbox.state
    now = request.sandbox.clock.iso()
    return Member(
        id=subscriber_hash(email),
        email_address=email,
        unique_email_id=state.new_id(10),
        contact_id=state.new_id(32),
        web_id=state.rng.randint(10_000_000, 99_999_999),
        status="transactional",
        merge_fields={f.tag: "" for f in data.merge_fields.values()},
        interests={i: False for i in data.interests},
        timestamp_signup=now if source else "",
        last_changed=now,
        marketing_permissions=[
            MemberMarketingPermission(
                marketing_permission_id=p.marketing_permission_id, text=p.text
            )
            for p in data.permissions
        ],
        source=source,
        list_id=data.info.id,
    )


def create_member(
    request: ApiRequest,
    data: ListData,
    email: str,
    status: MemberStatus,
    fields: MemberFields,
    tags: list[str] | None = None,
) -> Member:
    check_email(email)
    key = subscriber_hash(email)
    if key in data.forgotten:
        raise forgotten_email(email)
    existing = data.members.get(key)
    if existing is None or existing.status == "archived":
        check_address_accepted(request, email)
    member = new_member(request, data, email, "API - Generic")
    if existing is not None and existing.status == "archived":
        # Re-adding an archived contact brings back what it held (its GDPR permissions too)
        # but what the request names: "you'll retain all of their data" (Mailchimp's help,
        # "Archive or Unarchive Contacts"). Whether a re-add resets permissions is not said:
        # kept, the stricter reading (an integration must send a withdrawal it owes).
        member = existing.model_copy(deep=True)
    apply_fields(request, data, member, fields)
    check_required_merge_fields(request, data, member)
    set_status(request, data, member, status, new=existing is None)
    for name in tags or []:
        set_tag(request, data, member, name, active=True)
    data.members[key] = member
    return member


def set_tag(
    request: ApiRequest, data: ListData, member: Member, name: str, *, active: bool
) -> None:
    """A tag is a static segment of the list, named without regard to case ("Mailchimp doesn't
    care about case when creating segments. It sees 'Customers' as equal to 'customers'":
    DynamoMTL/spree_chimpy#15): "vip" is the tag "VIP" where that was made first, and making
    "vip" inactive removes "VIP". The stricter reading: an integration that sends a tag's new
    spelling and the old one's removal together ends with neither."""
    key = name.casefold()
    current = [t for t in member.tags if t.name.casefold() != key]
    if active:
        tag_id, spelled = data.tag_ids.setdefault(key, (len(data.tag_ids) + 1, name))
        existing = next((t for t in member.tags if t.name.casefold() == key), None)
        current.append(
            existing or MemberTag(id=tag_id, name=spelled, date_added=request.sandbox.clock.iso())
        )
    member.tags = current
