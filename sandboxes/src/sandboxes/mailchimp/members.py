"""List members: subscriber hashes, statuses, archiving and forgetting, tags.

* The member id is the MD5 hex digest of the lower-cased e-mail ("subscriber hash").
* ``POST`` on an existing (non-archived) e-mail is 400 "Member Exists"; ``PUT`` upserts with
  ``status_if_new``; ``DELETE`` archives; ``actions/delete-permanent`` forgets the e-mail, which
  can then never be re-added through the API ("Forgotten Email Not Subscribed").

The rules every write shares (compliance states among them) are in `member_rules.py`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .bodies import BodyIn, refuse_null
from .errors import (
    FieldError,
    MailchimpError,
    field_invalid,
    forgotten_email,
    invalid_resource,
    member_exists,
    not_found,
)
from .lists import list_data
from .member_query import select_members
from .member_rules import (
    ApiStatus,
    MemberFields,
    PatchStatus,
    apply_fields,
    check_address_accepted,
    check_email,
    check_required_merge_fields,
    create_member,
    set_status,
    set_tag,
)
from .models import Member
from .routing import ApiRequest, ApiResult, Router, paginate
from .state import ListData, subscriber_hash

router = Router()


class MemberCreate(MemberFields):
    email_address: str
    status: ApiStatus
    tags: list[str] = Field(default_factory=list)


class MemberUpsert(MemberFields):
    email_address: str
    status_if_new: ApiStatus
    status: ApiStatus | None = None
    _null_status = refuse_null("status")


class MemberPatch(MemberFields):
    email_address: str | None = None
    # The spec's enum for a PATCH (`Add_List_Members_3.status`) has no "transactional": only
    # a PUT's `status_if_new`/`status` or the e-commerce API makes a transactional contact.
    status: PatchStatus | None = None
    _null_patch = refuse_null("email_address", "status")


def render_member(data: ListData, member: Member) -> dict[str, Any]:
    doc = member.model_dump(mode="json")
    doc["interests"] = {i: member.interests.get(i, False) for i in data.interests}
    doc["tags"] = [{"id": t.id, "name": t.name} for t in member.tags]
    doc["tags_count"] = len(member.tags)
    doc["stats"] = {"avg_open_rate": 0, "avg_click_rate": 0}
    doc["last_note"] = {}
    doc["_links"] = []
    return doc


def _member(request: ApiRequest) -> tuple[ListData, Member]:
    data = list_data(request.account, request.params["list_id"])
    key = request.params["subscriber_hash"].lower()
    if "@" in key:  # Mailchimp also accepts the e-mail address itself
        key = subscriber_hash(key)
    found = data.members.get(key)
    if found is None:
        raise not_found()
    return data, found


def check_tag_names(tags: list[str]) -> None:
    """A blank name among a new member's ``tags`` is refused, one entry per blank, as Mailchimp
    answered ``"tags":["School",""]``: ``{"field":"tags[1]","message":"This value should not
    be blank."}`` (ibericode/mailchimp-for-wordpress#632). A name of spaces alone is refused
    alike (the issue's "or just a space"; the stricter reading)."""
    blank = [
        FieldError(field=f"tags[{index}]", message="This value should not be blank.")
        for index, name in enumerate(tags)
        if not name.strip()
    ]
    if blank:
        raise invalid_resource(errors=blank)


@router.route("GET", "/lists/{list_id}/members")
def get_members(request: ApiRequest) -> dict[str, Any]:
    data = list_data(request.account, request.params["list_id"])
    # Every filter and order the spec lists for it (`member_query.py`).
    members = select_members(request, data)
    # Only the page is rendered (an audience may hold 100 k members).
    page = paginate(request, "members", members)
    page["members"] = [render_member(data, m) for m in page["members"]]
    return {**page, "list_id": data.info.id}


@router.route("POST", "/lists/{list_id}/members")
def post_member(request: ApiRequest) -> dict[str, Any]:
    data = list_data(request.account, request.params["list_id"])
    payload = request.parse(MemberCreate)
    check_tag_names(payload.tags)
    existing = data.members.get(subscriber_hash(payload.email_address))
    if existing is not None and existing.status != "archived":
        raise member_exists(payload.email_address)
    member = create_member(
        request, data, payload.email_address, payload.status, payload, payload.tags
    )
    return render_member(data, member)


@router.route("GET", "/lists/{list_id}/members/{subscriber_hash}")
def get_member(request: ApiRequest) -> dict[str, Any]:
    data, member = _member(request)
    return render_member(data, member)


@router.route("PUT", "/lists/{list_id}/members/{subscriber_hash}")
def put_member(request: ApiRequest) -> dict[str, Any]:
    data = list_data(request.account, request.params["list_id"])
    payload = request.parse(MemberUpsert)
    check_email(payload.email_address)
    key = request.params["subscriber_hash"].lower()
    if "@" in key:
        key = subscriber_hash(key)
    if key != subscriber_hash(payload.email_address):
        raise invalid_resource(
            "The subscriber hash in the URL does not match the email address provided."
        )
    existing = data.members.get(key)
    if existing is not None and existing.status == "archived" and not payload.status:
        # `status_if_new` alone does not bring an archived contact back: it stays archived
        # ("Tried changing status_if_new to status in the mc api call and it seems to fix it",
        # tbar0970/jethro-pmm#708). Whether the rest of the body is applied is not reported:
        # nothing of it is (the stricter answer).
        return render_member(data, existing)
    if existing is None or existing.status == "archived":
        status = payload.status_if_new
        if existing is not None and payload.status:
            status = payload.status
        member = create_member(request, data, payload.email_address, status, payload)
    else:
        member = existing.model_copy(deep=True)
        apply_fields(request, data, member, payload)
        check_required_merge_fields(request, data, member)
        if payload.status:
            set_status(request, data, member, payload.status, new=False)
        data.members[key] = member
    return render_member(data, member)


@router.route("PATCH", "/lists/{list_id}/members/{subscriber_hash}")
def patch_member(request: ApiRequest) -> dict[str, Any]:
    data, found = _member(request)
    payload = request.parse(MemberPatch)
    member = found.model_copy(deep=True)
    if payload.email_address and payload.email_address.lower() != member.email_address.lower():
        check_email(payload.email_address)
        if member.status != "subscribed":
            # ibericode/mailchimp-user-sync#96 quotes Mailchimp's refusal.
            raise invalid_resource(
                f'This member\'s status is "{member.status}." You can only update email '
                'addresses for members with a status of "subscribed."'
            )
        new_key = subscriber_hash(payload.email_address)
        if new_key in data.forgotten:
            # A permanently deleted address stays out of the audience through the API ("… was
            # permanently deleted and cannot be re-imported. The contact must re-subscribe to
            # get back on the list.", quoted in ibericode/mailchimp-for-wordpress#771), an
            # e-mail change included: "they won't let you change the email address if the new
            # email address belongs to a member who has been deleted from the list"
            # (brandonseydel/MailChimp.Net#201).
            raise forgotten_email(payload.email_address)
        taken = data.members.get(new_key)
        if taken is not None:
            # Archived ones too (brandonseydel/MailChimp.Net#201 quotes the answer).
            raise invalid_resource(
                errors=[
                    FieldError(
                        field="email_address",
                        message=f'"{payload.email_address}" is already in this list with a '
                        f'status of "{taken.status}".',
                    )
                ]
            )
        check_address_accepted(request, payload.email_address)
        member.email_address = payload.email_address
        member.id = new_key
    apply_fields(request, data, member, payload)
    check_required_merge_fields(request, data, member)
    if payload.status:
        set_status(request, data, member, payload.status, new=False)
    # Stored once nothing refused it (a refused change leaves the member as it was).
    del data.members[found.id]
    data.members[member.id] = member
    return render_member(data, member)


@router.route("DELETE", "/lists/{list_id}/members/{subscriber_hash}")
def archive_member(request: ApiRequest) -> None:
    _, member = _member(request)
    if member.status == "archived":
        raise MailchimpError(
            405, "Method Not Allowed", "This list member has already been archived."
        )
    if member.status in ("pending", "cleaned"):
        # Real Mailchimp (amro/gibbon#320; grouparoo's recorded answers: 405, Allow: GET, PUT).
        raise MailchimpError(
            405,
            "Method Not Allowed",
            "This list member cannot be removed. "
            "Can not archive a contact that is bounced, pending or archived",
        )
    member.status_before_archive = member.status
    member.status = "archived"
    member.last_changed = request.sandbox.clock.iso()


@router.route("POST", "/lists/{list_id}/members/{subscriber_hash}/actions/delete-permanent")
def delete_member_permanently(request: ApiRequest) -> None:
    data, member = _member(request)
    del data.members[member.id]
    data.forgotten.add(member.id)


# --- tags -----------------------------------------------------------------------------------


class TagIn(BodyIn):
    name: str
    status: Literal["active", "inactive"]


class TagsIn(BodyIn):
    tags: list[TagIn]
    is_syncing: bool = False


@router.route("GET", "/lists/{list_id}/members/{subscriber_hash}/tags")
def get_tags(request: ApiRequest) -> dict[str, Any]:
    _, member = _member(request)
    items = [t.model_dump(mode="json") for t in member.tags]
    return paginate(request, "tags", items)


@router.route("POST", "/lists/{list_id}/members/{subscriber_hash}/tags")
def post_tags(request: ApiRequest) -> ApiResult:
    data, member = _member(request)
    payload = request.parse(TagsIn)
    for tag in payload.tags:
        if not tag.name.strip():
            raise field_invalid("tags", "Tag name cannot be blank.")
        set_tag(request, data, member, tag.name, active=tag.status == "active")
    member.last_changed = request.sandbox.clock.iso()
    return ApiResult(204, None)
