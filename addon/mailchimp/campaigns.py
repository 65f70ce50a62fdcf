"""Campaigns, their reports and e-mail activity, account-wide orders and members' engagement
fields: typed reads composed over a :class:`MailchimpClient` (its HTTP layer, limiter and
errors), so the client itself stays the account's calls.

Every read asks only for the fields the app uses (``fields``), and pages at most 1000 items
(Mailchimp's maximum ``count``). Every read goes through the client's `request` (its concurrency
cap, retries and error mapping) to a path of `paths.py`; none is sent another way. An unset
date-time may come as ``""`` (a report's ``last_click`` before any click): `UnsetDateTime`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from pydantic import ConfigDict, Field

from . import paths
from .client import MailchimpClient
from .date_times import UnsetDateTime
from .http import QueryParams
from .models import MailchimpResource, MemberTag

__all__ = [
    "MAX_PAGE",
    "ActivityEvent",
    "AttributedOrderPage",
    "Campaign",
    "CampaignReads",
    "CampaignReport",
    "EmailActivityPage",
    "EmailRecipient",
    "EngagementMember",
    "EngagementMembersPage",
    "OrderOutreach",
    "OutreachOrder",
]

MAX_PAGE = 1000  # Mailchimp's largest `count`


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


class CampaignRecipients(MailchimpResource):
    list_id: str = ""
    list_name: str = ""
    recipient_count: int = 0


class CampaignSettings(MailchimpResource):
    title: str = ""
    subject_line: str = ""


class Campaign(MailchimpResource):
    id: str
    status: str = ""
    send_time: UnsetDateTime = None
    emails_sent: int = 0
    recipients: CampaignRecipients = Field(default_factory=CampaignRecipients)
    settings: CampaignSettings = Field(default_factory=CampaignSettings)


class ReportOpens(MailchimpResource):
    opens_total: int = 0
    unique_opens: int = 0
    open_rate: float = 0.0
    last_open: UnsetDateTime = None


class ReportClicks(MailchimpResource):
    clicks_total: int = 0
    unique_clicks: int = 0
    unique_subscriber_clicks: int = 0
    click_rate: float = 0.0
    last_click: UnsetDateTime = None


class ReportBounces(MailchimpResource):
    hard_bounces: int = 0
    soft_bounces: int = 0
    syntax_errors: int = 0

    @property
    def total(self) -> int:
        return self.hard_bounces + self.soft_bounces + self.syntax_errors


class ReportEcommerce(MailchimpResource):
    total_orders: int = 0
    total_spent: float = 0.0
    total_revenue: float = 0.0
    currency_code: str | None = None


class CampaignReport(MailchimpResource):
    id: str
    campaign_title: str = ""
    list_id: str = ""
    list_name: str = ""
    subject_line: str = ""
    emails_sent: int = 0
    unsubscribed: int = 0
    send_time: UnsetDateTime = None
    opens: ReportOpens = Field(default_factory=ReportOpens)
    clicks: ReportClicks = Field(default_factory=ReportClicks)
    bounces: ReportBounces = Field(default_factory=ReportBounces)
    ecommerce: ReportEcommerce = Field(default_factory=ReportEcommerce)


class _Lean(MailchimpResource):
    """A page item read by the thousand: unknown fields are dropped, not kept."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class ActivityEvent(_Lean):
    action: str  # "open", "click", "bounce" (others may come: ignored by the app)
    timestamp: datetime
    url: str | None = None
    type: str | None = None


class EmailRecipient(_Lean):
    email_id: str = ""
    email_address: str
    list_id: str = ""
    activity: list[ActivityEvent] = Field(default_factory=list)


class EmailActivityPage(_Lean):
    emails: list[EmailRecipient] = Field(default_factory=list)
    total_items: int = 0


class OrderCustomer(MailchimpResource):
    id: str = ""
    email_address: str | None = None


class OrderOutreach(MailchimpResource):
    id: str
    name: str = ""
    type: str = ""


class OutreachOrder(MailchimpResource):
    id: str
    store_id: str = ""
    campaign_id: str = ""
    customer: OrderCustomer = Field(default_factory=OrderCustomer)
    currency_code: str = ""
    order_total: float = 0.0
    processed_at_foreign: UnsetDateTime = None
    outreach: OrderOutreach | None = None


class AttributedOrderPage(MailchimpResource):
    orders: list[OutreachOrder] = Field(default_factory=list)
    total_items: int = 0


class EngagementMember(MailchimpResource):
    id: str
    email_address: str
    status: str = ""
    member_rating: int | None = None
    last_changed: UnsetDateTime = None
    tags: list[MemberTag] = Field(default_factory=list)


class EngagementMembersPage(MailchimpResource):
    members: list[EngagementMember] = Field(default_factory=list)
    total_items: int = 0


_CAMPAIGN_FIELDS = (
    ",".join(
        f"campaigns.{f}"
        for f in (
            "id",
            "status",
            "send_time",
            "emails_sent",
            "recipients.list_id",
            "recipients.list_name",
            "recipients.recipient_count",
            "settings.title",
            "settings.subject_line",
        )
    )
    + ",total_items"
)
_ACTIVITY_FIELDS = "emails.email_id,emails.email_address,emails.list_id,emails.activity,total_items"
_ORDER_FIELDS = (
    ",".join(
        f"orders.{f}"
        for f in (
            "id",
            "store_id",
            "campaign_id",
            "customer.id",
            "customer.email_address",
            "currency_code",
            "order_total",
            "processed_at_foreign",
            "outreach",
        )
    )
    + ",total_items"
)
_MEMBER_FIELDS = (
    ",".join(
        f"members.{f}"
        for f in ("id", "email_address", "status", "member_rating", "last_changed", "tags")
    )
    + ",total_items"
)


class CampaignReads:
    """Engagement reads of one account (`CampaignReads(client)`)."""

    def __init__(self, client: MailchimpClient) -> None:
        self.client = client

    def campaigns(
        self,
        list_id: str,
        *,
        since_send_time: datetime | None = None,
        before_send_time: datetime | None = None,
        count: int = MAX_PAGE,
    ) -> AsyncIterator[Campaign]:
        """The audience's sent campaigns, oldest send first (``GET /campaigns``)."""
        params: QueryParams = {
            "list_id": list_id,
            "status": "sent",
            "since_send_time": _iso(since_send_time) if since_send_time else None,
            "before_send_time": _iso(before_send_time) if before_send_time else None,
            "sort_field": "send_time",
            "sort_dir": "ASC",
            "fields": _CAMPAIGN_FIELDS,
        }
        return self.client._paginate(
            Campaign, paths.CAMPAIGNS, "campaigns", count=count, params=params
        )

    async def report(self, campaign_id: str) -> CampaignReport:
        """``GET /reports/{campaign_id}``."""
        return await self.client._get(
            CampaignReport, paths.report(campaign_id), {"exclude_fields": "_links"}
        )

    async def email_activity(
        self,
        campaign_id: str,
        *,
        since: datetime | None = None,
        offset: int = 0,
        count: int = MAX_PAGE,
    ) -> EmailActivityPage:
        """One page of ``GET /reports/{campaign_id}/email-activity``: every recipient, or with
        ``since`` only those with activity after it (and only that activity)."""
        params: QueryParams = {
            "since": _iso(since) if since else None,
            "fields": _ACTIVITY_FIELDS,
            "count": count,
            "offset": offset,
        }
        return await self.client._get(EmailActivityPage, paths.email_activity(campaign_id), params)

    async def attributed_orders(
        self, campaign_id: str, *, offset: int = 0, count: int = MAX_PAGE
    ) -> AttributedOrderPage:
        """One page of the account's orders Mailchimp attributes to the campaign
        (``GET /ecommerce/orders?campaign_id=``): those of every store of the account, each
        with its ``store_id`` (the caller keeps those of its own stores)."""
        params: QueryParams = {
            "campaign_id": campaign_id,
            "fields": _ORDER_FIELDS,
            "count": count,
            "offset": offset,
        }
        return await self.client._get(AttributedOrderPage, paths.ACCOUNT_ORDERS, params)

    async def members(
        self,
        list_id: str,
        *,
        since_last_changed: datetime | None = None,
        offset: int = 0,
        count: int = MAX_PAGE,
    ) -> EngagementMembersPage:
        """One page of the audience's members with their rating and tags, changed after
        ``since_last_changed`` if given."""
        params: QueryParams = {
            "since_last_changed": _iso(since_last_changed) if since_last_changed else None,
            "fields": _MEMBER_FIELDS,
            "count": count,
            "offset": offset,
        }
        return await self.client._get(
            EngagementMembersPage, f"{paths.audience(list_id)}/members", params
        )
