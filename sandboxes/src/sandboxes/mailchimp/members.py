"""List members: subscriber hashes, statuses and Mailchimp's compliance rules, tags.

* The member id is the MD5 hex digest of the lower-cased e-mail ("subscriber hash").
* ``POST`` on an existing (non-archived) e-mail is 400 "Member Exists"; ``PUT`` upserts with
  ``status_if_new``; ``DELETE`` archives; ``actions/delete-permanent`` forgets the e-mail, which
  can then never be re-added through the API ("Forgotten Email Not Subscribed").
* An unsubscribed or cleaned contact cannot be set to ``subscribed`` ("Member In Compliance
  State"); setting ``pending`` is allowed and sends a confirmation e-mail.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .errors import (
    FieldError,
    MailchimpError,
    field_invalid,
    forgotten_email,
    invalid_resource,
    member_exists,
    member_in_compliance_state,
    not_found,
)
from .lists import list_data
from .merge_values import check_merge_fields
from .models import Member, MemberMarketingPermission, MemberStatus, MemberTag
from .routing import ApiRequest, ApiResult, Router, paginate
from .state import ConfirmationEmail, ListData, subscriber_hash

router = Router()

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ApiStatus = Literal["subscribed", "unsubscribed", "cleaned", "pending", "transactional"]
COMPLIANCE_STATES = ("unsubscribed", "cleaned")


class PermissionIn(BaseModel):
    marketing_permission_id: str
    enabled: bool = False


class MemberFields(BaseModel):
    """Fields that POST, PUT and PATCH share."""

    model_config = ConfigDict(extra="ignore")

    email_type: Literal["html", "text"] | None = None
    merge_fields: dict[str, Any] | None = None
    interests: dict[str, bool] | None = None
    language: str | None = None
    vip: bool | None = None
    location: dict[str, Any] | None = None
    marketing_permissions: list[PermissionIn] | None = None
    ip_signup: str | None = None
    timestamp_signup: str | None = None
    ip_opt: str | None = None
    timestamp_opt: str | None = None


class MemberCreate(MemberFields):
    email_address: str
    status: ApiStatus
    tags: list[str] = Field(default_factory=list)


class MemberUpsert(MemberFields):
    email_address: str
    status_if_new: ApiStatus
    status: ApiStatus | None = None


class MemberPatch(MemberFields):
    email_address: str | None = None
    status: ApiStatus | None = None


def _check_email(email: str) -> None:
    if not EMAIL_RE.match(email):
        raise invalid_resource("Please provide a valid email address.")


def _apply(request: ApiRequest, data: ListData, member: Member, fields: MemberFields) -> None:
    """Apply shared fields after validating merge fields, interests and permissions."""
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
            current[permission.marketing_permission_id].enabled = permission.enabled
    for name in ("language", "vip", "ip_signup", "timestamp_signup", "ip_opt", "timestamp_opt"):
        value = getattr(fields, name)
        if value is not None:
            setattr(member, name, value)
    if fields.location is not None:
        member.location = {**member.location, **fields.location}
    first = member.merge_fields.get("FNAME") or ""
    last = member.merge_fields.get("LNAME") or ""
    member.full_name = f"{first} {last}".strip()
    member.last_changed = request.sandbox.clock.iso()


def _check_required_merge_fields(request: ApiRequest, data: ListData, member: Member) -> None:
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


def _create(
    request: ApiRequest,
    data: ListData,
    email: str,
    status: MemberStatus,
    fields: MemberFields,
    tags: list[str] | None = None,
) -> Member:
    _check_email(email)
    key = subscriber_hash(email)
    if key in data.forgotten:
        raise forgotten_email(email)
    existing = data.members.get(key)
    member = new_member(request, data, email, "API - Generic")
    if existing is not None and existing.status == "archived":
        member = existing.model_copy(deep=True)  # re-adding an archived contact
    _apply(request, data, member, fields)
    _check_required_merge_fields(request, data, member)
    set_status(request, data, member, status, new=existing is None)
    for name in tags or []:
        _set_tag(request, data, member, name, active=True)
    data.members[key] = member
    return member


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


@router.route("GET", "/lists/{list_id}/members")
def get_members(request: ApiRequest) -> dict[str, Any]:
    data = list_data(request.account, request.params["list_id"])
    members = list(data.members.values())
    if request.query.get("status"):
        members = [m for m in members if m.status == request.query["status"]]
    if request.flag("vip_only"):
        members = [m for m in members if m.vip]
    # "Restrict results to subscribers whose information changed after/before the set
    # timeframe" (ISO 8601): exclusive bounds on `last_changed`.
    if request.query.get("since_last_changed"):
        since = _instant(request.query["since_last_changed"], "since_last_changed")
        members = [m for m in members if _instant(m.last_changed, "last_changed") > since]
    if request.query.get("before_last_changed"):
        before = _instant(request.query["before_last_changed"], "before_last_changed")
        members = [m for m in members if _instant(m.last_changed, "last_changed") < before]
    # Only the page is rendered (an audience may hold 100 k members).
    page = paginate(request, "members", members)
    page["members"] = [render_member(data, m) for m in page["members"]]
    return {**page, "list_id": data.info.id}


def _instant(value: str, name: str) -> datetime:
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise field_invalid(name, "This value should be a valid ISO 8601 date-time.") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@router.route("POST", "/lists/{list_id}/members")
def post_member(request: ApiRequest) -> dict[str, Any]:
    data = list_data(request.account, request.params["list_id"])
    payload = request.parse(MemberCreate)
    existing = data.members.get(subscriber_hash(payload.email_address))
    if existing is not None and existing.status != "archived":
        raise member_exists(payload.email_address)
    member = _create(request, data, payload.email_address, payload.status, payload, payload.tags)
    return render_member(data, member)


@router.route("GET", "/lists/{list_id}/members/{subscriber_hash}")
def get_member(request: ApiRequest) -> dict[str, Any]:
    data, member = _member(request)
    return render_member(data, member)


@router.route("PUT", "/lists/{list_id}/members/{subscriber_hash}")
def put_member(request: ApiRequest) -> dict[str, Any]:
    data = list_data(request.account, request.params["list_id"])
    payload = request.parse(MemberUpsert)
    _check_email(payload.email_address)
    key = request.params["subscriber_hash"].lower()
    if "@" in key:
        key = subscriber_hash(key)
    if key != subscriber_hash(payload.email_address):
        raise invalid_resource(
            "The subscriber hash in the URL does not match the email address provided."
        )
    existing = data.members.get(key)
    if existing is None or existing.status == "archived":
        status = payload.status_if_new
        if existing is not None and payload.status:
            status = payload.status
        member = _create(request, data, payload.email_address, status, payload)
    else:
        member = existing.model_copy(deep=True)
        _apply(request, data, member, payload)
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
        _check_email(payload.email_address)
        new_key = subscriber_hash(payload.email_address)
        if new_key in data.members:
            raise member_exists(payload.email_address)
        del data.members[member.id]
        member.email_address = payload.email_address
        member.id = new_key
    _apply(request, data, member, payload)
    if payload.status:
        set_status(request, data, member, payload.status, new=False)
    data.members[member.id] = member
    return render_member(data, member)


@router.route("DELETE", "/lists/{list_id}/members/{subscriber_hash}")
def archive_member(request: ApiRequest) -> None:
    _, member = _member(request)
    if member.status == "archived":
        raise MailchimpError(
            405, "Method Not Allowed", "This list member has already been archived."
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


class TagIn(BaseModel):
    name: str
    status: Literal["active", "inactive"]


class TagsIn(BaseModel):
    tags: list[TagIn]
    is_syncing: bool = False


def _set_tag(
    request: ApiRequest, data: ListData, member: Member, name: str, *, active: bool
) -> None:
    current = [t for t in member.tags if t.name != name]
    if active:
        tag_id = data.tag_ids.setdefault(name, len(data.tag_ids) + 1)
        existing = next((t for t in member.tags if t.name == name), None)
        current.append(
            existing or MemberTag(id=tag_id, name=name, date_added=request.sandbox.clock.iso())
        )
    member.tags = current


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
        _set_tag(request, data, member, tag.name, active=tag.status == "active")
    member.last_changed = request.sandbox.clock.iso()
    return ApiResult(204, None)


# --- batch subscribe (POST /lists/{list_id}) ------------------------------------------------


class BatchMemberIn(MemberFields):
    email_address: str
    status: ApiStatus | None = None
    status_if_new: ApiStatus | None = None


class BatchSubscribeIn(BaseModel):
    members: list[BatchMemberIn]
    update_existing: bool = False
    sync_tags: bool = False


@router.route("POST", "/lists/{list_id}")
def batch_subscribe(request: ApiRequest) -> dict[str, Any]:
    data = list_data(request.account, request.params["list_id"])
    payload = request.parse(BatchSubscribeIn)
    created: list[dict[str, Any]] = []
    updated: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for entry in payload.members:
        try:
            existing = data.members.get(subscriber_hash(entry.email_address))
            if existing is not None and existing.status != "archived":
                if not payload.update_existing:
                    raise member_exists(entry.email_address)
                member = existing.model_copy(deep=True)
                _apply(request, data, member, entry)
                if entry.status:
                    set_status(request, data, member, entry.status, new=False)
                data.members[member.id] = member
                updated.append(render_member(data, member))
            else:
                status = entry.status or entry.status_if_new or "subscribed"
                member = _create(request, data, entry.email_address, status, entry)
                created.append(render_member(data, member))
        except MailchimpError as exc:
            errors.append(
                {
                    "email_address": entry.email_address,
                    "error": exc.detail,
                    "error_code": exc.title.upper().replace(" ", "_"),
                    "field": "",
                    "field_message": "",
                }
            )
    return {
        "new_members": created,
        "updated_members": updated,
        "errors": errors,
        "total_created": len(created),
        "total_updated": len(updated),
        "error_count": len(errors),
        "_links": [],
    }
