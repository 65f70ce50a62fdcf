"""The filters and the order of ``GET /lists/{list_id}/members``, every query parameter the
spec lists for it (shared/contracts/mailchimp-marketing.json, ``getListsIdMembers``).

* ``status`` is one of the spec's enum (``archived`` too); another value is refused, as are
  ``sort_field``, ``sort_dir`` and ``interest_match`` outside theirs (a bad value is a 400,
  not an empty page: the enum is the parameter's schema, as `campaigns.get_campaigns` holds
  ``status`` and ``sort_field`` to theirs).
* ``since_``/``before_last_changed`` and ``since_``/``before_timestamp_opt``: "Restrict results
  to subscribers whose information changed / who opted-in after (before) the set timeframe",
  exclusive bounds, ISO 8601 as the docs give them (held to RFC 3339, `bodies.date_time`).
* ``unique_email_id``, ``email_type`` and ``vip_only`` filter on the member's field.
* ``interest_category_id``, ``interest_ids`` and ``interest_match``: "Must be accompanied by"
  the other two; ``any`` / ``all`` / ``none`` of the interests listed, which must be "present
  for any supplied interest categories".
* ``unsubscribed_since``: "Using any status other than unsubscribed with this filter will
  result in an error"; the members unsubscribed at or after the date (`ListData
  .unsubscribed_at`).
* ``since_last_campaign``: "Member status is required to use this filter"; the members with
  that status changed since the audience's last campaign was sent (all of them before any).
* ``sort_field`` (``timestamp_opt``, ``timestamp_signup``, ``last_changed``) and ``sort_dir``
  (``ASC`` / ``DESC``) order the members; unsorted, they come as they were added. Integrations
  page through an audience in ``last_changed`` order (grouparoo's recorded Mailchimp traffic:
  ``sort_field=last_changed&sort_dir=ASC``), so an ignored ``sort_field`` would hand them pages
  in another order than Mailchimp's.

Mailchimp's wording of these refusals is not published: the sandbox words them as it words
`campaigns.get_campaigns`'s.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .bodies import date_time
from .errors import field_invalid
from .models import Member
from .routing import ApiRequest
from .state import ListData

STATUSES = ("subscribed", "unsubscribed", "cleaned", "pending", "transactional", "archived")
SORT_FIELDS = ("timestamp_opt", "timestamp_signup", "last_changed")
SORT_DIRS = ("ASC", "DESC")
INTEREST_MATCHES = ("any", "all", "none")
_INTEREST_PARAMS = ("interest_category_id", "interest_ids", "interest_match")
_EPOCH = datetime.fromtimestamp(0, UTC)


def _one_of(request: ApiRequest, name: str, allowed: tuple[str, ...]) -> str:
    value = request.query.get(name, "")
    if value and value not in allowed:
        raise field_invalid(name, f"Value must be one of: {', '.join(allowed)}.")
    return value


def _stamp(value: str) -> datetime | None:
    """A member's own date-time field (the sandbox's stamps, or a body's RFC 3339 one)."""
    if not value:
        return None
    # RFC 3339 allows a lower-case "t" and "z" (section 5.6).
    return datetime.fromisoformat(value.upper().replace("Z", "+00:00"))


def _bounded(
    request: ApiRequest, members: list[Member], field_name: str, since: str, before: str
) -> list[Member]:
    for name, after in ((since, True), (before, False)):
        raw = request.query.get(name)
        if not raw:
            continue
        bound = date_time(raw, name)
        kept = []
        for member in members:
            stamp = _stamp(getattr(member, field_name))
            if stamp is not None and (stamp > bound if after else stamp < bound):
                kept.append(member)
        members = kept
    return members


def _by_interests(request: ApiRequest, data: ListData, members: list[Member]) -> list[Member]:
    given = [name for name in _INTEREST_PARAMS if request.query.get(name)]
    if not given:
        return members
    if len(given) < len(_INTEREST_PARAMS):
        missing = [name for name in _INTEREST_PARAMS if name not in given]
        raise field_invalid(
            missing[0],
            "interest_category_id, interest_ids and interest_match must be used together.",
        )
    match = _one_of(request, "interest_match", INTEREST_MATCHES)
    categories = [c.strip() for c in request.query["interest_category_id"].split(",")]
    ids = [i.strip() for i in request.query["interest_ids"].split(",") if i.strip()]
    for interest_id in ids:
        interest = data.interests.get(interest_id)
        if interest is None or interest.category_id not in categories:
            raise field_invalid("interest_ids", f"Invalid interest ID: '{interest_id}'.")

    def matches(member: Member) -> bool:
        held = [bool(member.interests.get(i)) for i in ids]
        if match == "all":
            return all(held)
        if match == "none":
            return not any(held)
        return any(held)

    return [m for m in members if matches(m)]


def _last_send(request: ApiRequest, data: ListData) -> datetime:
    sent = [
        c.send_time for c in request.account.sent_campaigns.values() if c.list_id == data.info.id
    ]
    return datetime.fromtimestamp(max(sent), UTC) if sent else _EPOCH


def select_members(request: ApiRequest, data: ListData) -> list[Member]:
    """The audience's members the query asks for, in the order it asks for."""
    status = _one_of(request, "status", STATUSES)
    sort_field = _one_of(request, "sort_field", SORT_FIELDS)
    sort_dir = _one_of(request, "sort_dir", SORT_DIRS) or "ASC"
    members = list(data.members.values())
    if status:
        members = [m for m in members if m.status == status]
    if request.query.get("unsubscribed_since"):
        if status != "unsubscribed":
            raise field_invalid(
                "unsubscribed_since", "This filter can only be used with status=unsubscribed."
            )
        since = date_time(request.query["unsubscribed_since"], "unsubscribed_since")
        members = [
            m
            for m in members
            if (at := data.unsubscribed_at.get(m.id)) is not None
            and datetime.fromisoformat(at) >= since
        ]
    if request.flag("since_last_campaign"):
        if not status:
            raise field_invalid("status", "A status is required to use since_last_campaign.")
        sent = _last_send(request, data)
        members = [m for m in members if datetime.fromisoformat(m.last_changed) > sent]
    if request.flag("vip_only"):
        members = [m for m in members if m.vip]
    if request.query.get("unique_email_id"):
        members = [m for m in members if m.unique_email_id == request.query["unique_email_id"]]
    if request.query.get("email_type"):
        members = [m for m in members if m.email_type == request.query["email_type"]]
    members = _bounded(
        request, members, "last_changed", "since_last_changed", "before_last_changed"
    )
    members = _bounded(
        request, members, "timestamp_opt", "since_timestamp_opt", "before_timestamp_opt"
    )
    members = _by_interests(request, data, members)
    if sort_field:

        def key(member: Member) -> tuple[Any, ...]:
            stamp = _stamp(getattr(member, sort_field))
            return (stamp is not None, stamp or _EPOCH)

        # Stable: members stamped alike stay in the order they were added.
        members.sort(key=key, reverse=sort_dir == "DESC")
    return members
