"""Batch subscribe (``POST /lists/{list_id}``): many members created or updated at once."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from .errors import MailchimpError, member_exists
from .lists import list_data
from .member_rules import ApiStatus, MemberFields, apply_fields, create_member, set_status
from .members import render_member
from .routing import ApiRequest, Router
from .state import subscriber_hash

router = Router()


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
                apply_fields(request, data, member, entry)
                if entry.status:
                    set_status(request, data, member, entry.status, new=False)
                data.members[member.id] = member
                updated.append(render_member(data, member))
            else:
                status = entry.status or entry.status_if_new or "subscribed"
                member = create_member(request, data, entry.email_address, status, entry)
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
