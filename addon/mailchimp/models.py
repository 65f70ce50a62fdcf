"""Typed shapes of the Mailchimp Marketing API resources the app uses.

Response models (``MailchimpResource`` subclasses) keep fields Mailchimp adds later
(``extra="allow"``) and default what may be missing. Request models (``MailchimpInput``
subclasses) forbid unknown fields and declare only what the API's OpenAPI spec declares for
that operation; :meth:`MailchimpInput.body` drops unset (``None``) fields.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cached_property
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Account",
    "AudienceList",
    "Batch",
    "BatchOperation",
    "BatchOperationResult",
    "Interest",
    "InterestCategory",
    "ListStats",
    "MarketingPermission",
    "Member",
    "MemberPatch",
    "MemberTag",
    "MemberUpsert",
    "MergeField",
    "Ping",
    "TagUpdate",
    "Webhook",
    "WebhookEvents",
    "WebhookInput",
    "WebhookSources",
]

MemberStatus = Literal["subscribed", "unsubscribed", "cleaned", "pending", "transactional"]
PatchStatus = Literal["subscribed", "unsubscribed", "cleaned", "pending"]


class MailchimpResource(BaseModel):
    """A resource returned by Mailchimp."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class MailchimpInput(BaseModel):
    """A request body; unknown fields are an error."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def body(self) -> dict[str, Any]:
        """The JSON body: set fields only, ``None`` dropped."""
        return self.model_dump(mode="json", exclude_none=True, by_alias=True)


# --- account -------------------------------------------------------------------------------


class Ping(MailchimpResource):
    health_status: str = ""


class Account(MailchimpResource):
    account_id: str
    login_id: str = ""
    account_name: str = ""
    email: str = Field(default="", description="The login e-mail of the user.")
    first_name: str = ""
    last_name: str = ""
    username: str = ""
    role: str = ""
    pricing_plan_type: str = ""
    account_timezone: str = ""
    total_subscribers: int | None = None


# --- audiences ------------------------------------------------------------------------------


class ListStats(MailchimpResource):
    member_count: int = 0
    total_contacts: int | None = None
    unsubscribe_count: int = 0
    cleaned_count: int = 0


class AudienceList(MailchimpResource):
    id: str
    web_id: int | None = None
    name: str = ""
    double_optin: bool = False
    marketing_permissions: bool = False
    email_type_option: bool = False
    visibility: str | None = None
    date_created: str | None = None
    stats: ListStats = Field(default_factory=ListStats)


class InterestCategory(MailchimpResource):
    id: str
    list_id: str = ""
    title: str = ""
    display_order: int = 0
    type: str = ""


class Interest(MailchimpResource):
    id: str
    category_id: str = ""
    list_id: str = ""
    name: str = ""
    display_order: int = 0
    subscriber_count: str | int | None = None


class MergeField(MailchimpResource):
    merge_id: int
    tag: str
    name: str = ""
    type: str = ""
    required: bool = False
    default_value: str = ""
    public: bool = False
    display_order: int = 0
    options: dict[str, Any] = Field(default_factory=dict)
    help_text: str = ""
    list_id: str = ""


class MarketingPermission(MailchimpResource):
    marketing_permission_id: str
    text: str = ""
    enabled: bool = False


class MemberTag(MailchimpResource):
    id: int | None = None
    name: str


class Member(MailchimpResource):
    id: str
    email_address: str
    unique_email_id: str = ""
    contact_id: str = ""
    full_name: str = ""
    email_type: str = ""
    status: str
    merge_fields: dict[str, Any] = Field(default_factory=dict)
    interests: dict[str, bool] = Field(default_factory=dict)
    language: str = ""
    vip: bool = False
    marketing_permissions: list[MarketingPermission] = Field(default_factory=list)
    tags: list[MemberTag] = Field(default_factory=list)
    source: str = ""
    timestamp_signup: str = ""
    timestamp_opt: str = ""
    last_changed: str = ""
    list_id: str = ""


class MarketingPermissionInput(MailchimpInput):
    marketing_permission_id: str
    enabled: bool


class _MemberFields(MailchimpInput):
    """What adding and changing a member both may set."""

    email_type: str | None = None
    merge_fields: dict[str, Any] | None = None
    interests: dict[str, bool] | None = None
    language: str | None = None
    vip: bool | None = None
    marketing_permissions: list[MarketingPermissionInput] | None = None
    ip_signup: str | None = None
    timestamp_signup: str | None = None
    ip_opt: str | None = None
    timestamp_opt: str | None = None


class MemberUpsert(_MemberFields):
    """Body of ``PUT /lists/{list_id}/members/{subscriber_hash}`` (add or update)."""

    email_address: str
    status_if_new: MemberStatus
    status: MemberStatus | None = None


class MemberPatch(_MemberFields):
    """Body of ``PATCH /lists/{list_id}/members/{subscriber_hash}``."""

    email_address: str | None = None
    status: PatchStatus | None = None


class TagUpdate(MailchimpInput):
    """One entry of ``POST .../members/{hash}/tags``: add (``active``) or remove a tag."""

    name: str
    status: Literal["active", "inactive"] = "active"


# --- webhooks -------------------------------------------------------------------------------


class WebhookEvents(MailchimpInput):
    subscribe: bool | None = None
    unsubscribe: bool | None = None
    profile: bool | None = None
    cleaned: bool | None = None
    upemail: bool | None = None
    campaign: bool | None = None


class WebhookSources(MailchimpInput):
    user: bool | None = None
    admin: bool | None = None
    api: bool | None = None


class WebhookInput(MailchimpInput):
    url: str
    events: WebhookEvents | None = None
    sources: WebhookSources | None = None


class Webhook(MailchimpResource):
    id: str
    url: str = ""
    events: dict[str, bool] = Field(default_factory=dict)
    sources: dict[str, bool] = Field(default_factory=dict)
    list_id: str = ""


# --- batches --------------------------------------------------------------------------------


class BatchOperation(MailchimpInput):
    """One operation of ``POST /batches``; ``body`` is a JSON-encoded string (see :meth:`of`)."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str
    params: dict[str, Any] | None = None
    body_json: str | None = Field(default=None, alias="body")
    operation_id: str | None = None

    @classmethod
    def of(
        cls,
        method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"],
        path: str,
        body: MailchimpInput | dict[str, Any] | None = None,
        *,
        operation_id: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> BatchOperation:
        """Build an operation from a request model or a dict body."""
        if isinstance(body, MailchimpInput):
            body = body.body()
        encoded = None if body is None else orjson.dumps(body).decode()
        return cls(
            method=method, path=path, params=params, body_json=encoded, operation_id=operation_id
        )


class Batch(MailchimpResource):
    """A batch request (``GET /batches``, ``GET /batches/{id}``). ``status`` is one of the
    spec's ``pending``, ``preprocessing``, ``started``, ``finalizing``, ``finished``."""

    id: str
    status: str = ""
    total_operations: int = 0
    finished_operations: int = 0
    errored_operations: int = 0
    submitted_at: str | None = None
    completed_at: str | None = None
    response_body_url: str = ""

    @property
    def unfinished(self) -> bool:
        """Mailchimp may still run (some of) its operations: any status but ``finished``
        (one not given or not known too)."""
        return self.status != "finished"

    @property
    def submitted(self) -> datetime | None:
        """``submitted_at`` (when Mailchimp received it, by Mailchimp's clock) as a time."""
        if not self.submitted_at:
            return None
        try:
            when = datetime.fromisoformat(self.submitted_at.replace("Z", "+00:00"))
        except ValueError:
            return None
        return when if when.tzinfo else when.replace(tzinfo=UTC)


class BatchOperationResult(MailchimpResource):
    """One entry of a batch's results archive. ``response`` is its body parsed from the JSON
    string Mailchimp writes (``body``), on first use: most are successes, whose echo of the
    resource nothing reads (decoding them all was a fortieth of an initial sync's CPU)."""

    status_code: int
    operation_id: str | None = None
    body: Any = None

    @cached_property
    def response(self) -> Any:
        if isinstance(self.body, str):
            try:
                return orjson.loads(self.body) if self.body.strip() else None
            except ValueError:
                return self.body
        return self.body

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300
