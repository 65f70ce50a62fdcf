"""Sent campaigns, their reports and e-mail activity, and the account's orders across stores.

What the real API does, and where it is written down (Marketing API reference, "Campaigns",
"Reports", "Email Activity", "E-commerce Orders"; the contract in ../shared/contracts):

- ``GET /campaigns`` filters by ``list_id``, ``status``, ``type``, ``since_/before_send_time``
  and ``since_/before_create_time`` (ISO 8601; "after/before the set time": exclusive),
  ``member_id`` (a recipient's subscriber hash) and ``folder_id`` (sandbox campaigns have none);
  none the spec lists is ignored. Pages with ``count`` (≤1000) / ``offset``; ``sort_field``.
- ``GET /reports/{campaign_id}``: ``emails_sent``, ``opens``, ``clicks``, ``unsubscribed``,
  ``bounces``, ``ecommerce`` (the spec's ``Campaign_Report``); ``opens.last_open`` and
  ``clicks.last_click`` are ``""`` until there is one (`render_report`). Rates are over the
  delivered: ``open_rate`` "The number of unique opens divided by the total number of successful
  deliveries", ``click_rate`` likewise "unique clicks", which Mailchimp's report glossary words
  "successfully delivered campaigns that registered at least one click" (quoted at
  cnsg.com/category/emails/): so ``unique_subscriber_clicks``. ``hard_bounces`` is "The total
  number of hard bounced email addresses": a recipient bouncing twice is one bounce, hard if
  either was. A campaign that is not a sent one has no report: 404.
- ``GET /reports/{campaign_id}/email-activity``: "An array of members that were sent the
  campaign", each ``{campaign_id, list_id, list_is_active, email_id, email_address, activity:
  [{action, type, timestamp, url, ip}]}``; ``since`` "restricts results to email activity
  events that occur after a specific time": only those events, and (not documented) only the
  members who have one. (The converted spec's item schema is a self-reference.)
- ``GET /ecommerce/orders``: every store's orders, filtered by ``campaign_id``,
  ``outreach_id``, ``customer_id``, ``has_outreach``; an order attributed to a campaign
  carries ``outreach`` {``id``, ``name``, ``type``, ``published_time``}.

Sandbox controls (tests, benchmarks) are in `campaign_state.py` (re-exported here): sending a
campaign to an audience, recording activity, unsubscribes and member ratings. What a campaign's
activity adds up to (a report's figures, its orders) is counted in `campaign_figures.py`.
"""

from __future__ import annotations

import bisect
from datetime import UTC, datetime
from typing import Any

from .bodies import date_time
from .campaign_figures import ecommerce_totals, figures, rate
from .campaign_state import (
    CampaignData,
    Event,
    campaign_list,
    record_activity,
    record_unsubscribe,
    send_campaign,
    set_member_rating,
)
from .errors import field_invalid, not_found
from .orders import render_order
from .routing import ApiRequest, Router, paginate
from .state import AccountData

router = Router()

STATUSES = ("save", "paused", "schedule", "sending", "sent")
TYPES = ("regular", "plaintext", "absplit", "rss", "variate")


def _campaigns(account: AccountData) -> dict[str, CampaignData]:
    return account.sent_campaigns


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")


def _instant(request: ApiRequest, name: str) -> float | None:
    raw = request.query.get(name)
    return date_time(raw, name).timestamp() if raw else None


def _campaign(request: ApiRequest) -> CampaignData:
    found = _campaigns(request.account).get(request.params["campaign_id"])
    if found is None:
        raise not_found()
    return found


def _list_name(account: AccountData, list_id: str) -> tuple[str, bool]:
    data = account.lists.get(list_id)
    return (data.info.name, True) if data else ("", False)


def render_campaign(account: AccountData, campaign: CampaignData) -> dict[str, Any]:
    f = figures(campaign)
    list_name, active = _list_name(account, campaign.list_id)
    shop = ecommerce_totals(account, campaign.id)
    return {
        "id": campaign.id,
        "web_id": campaign.web_id,
        "type": "regular",
        "create_time": _iso(campaign.create_time),
        "archive_url": f"https://mailchi.mp/sandbox/{campaign.id}",
        "long_archive_url": f"https://us1.campaign-archive.com/?u=sandbox&id={campaign.id}",
        "status": "sent",
        "emails_sent": len(campaign.recipients),
        "send_time": _iso(campaign.send_time),
        "content_type": "template",
        "needs_block_refresh": False,
        "resendable": False,
        "recipients": {
            "list_id": campaign.list_id,
            "list_is_active": active,
            "list_name": list_name,
            "segment_text": "",
            "recipient_count": len(campaign.recipients),
        },
        "settings": {
            "subject_line": campaign.subject,
            "preview_text": "",
            "title": campaign.title,
            "from_name": "Sandbox Shop",
            "reply_to": "shop@sandbox.test",
            "use_conversation": False,
            "to_name": "",
            "folder_id": "",
            "authenticate": True,
            "auto_footer": False,
            "inline_css": False,
            "auto_tweet": False,
            "fb_comments": False,
            "timewarp": False,
            "template_id": 0,
            "drag_and_drop": True,
        },
        "tracking": {
            "opens": True,
            "html_clicks": True,
            "text_clicks": False,
            "goal_tracking": False,
            "ecomm360": True,
            "google_analytics": "",
            "clicktale": "",
        },
        "report_summary": {
            "opens": f.opens,
            "unique_opens": f.unique_opens,
            "open_rate": rate(f.unique_opens, campaign, f),
            "clicks": f.clicks,
            "subscriber_clicks": f.subscriber_clicks,
            "click_rate": rate(f.subscriber_clicks, campaign, f),
            "ecommerce": {k: shop[k] for k in ("total_orders", "total_spent", "total_revenue")},
        },
        "delivery_status": {"enabled": False},
        "_links": [],
    }


def render_report(account: AccountData, campaign: CampaignData) -> dict[str, Any]:
    f = figures(campaign)
    list_name, active = _list_name(account, campaign.list_id)
    # No open / click yet: "" (though the spec types them date-time), as Mailchimp answers
    # (airbytehq/airbyte, source-mailchimp streams.py, `Reports.remove_empty_datetime_fields`:
    # "the 'clicks.last_click' and 'opens.last_open' fields are returned as an empty string").
    opens: dict[str, Any] = {
        "opens_total": f.opens,
        "unique_opens": f.unique_opens,
        "open_rate": rate(f.unique_opens, campaign, f),
        "last_open": _iso(f.last_open) if f.last_open is not None else "",
    }
    clicks: dict[str, Any] = {
        "clicks_total": f.clicks,
        "unique_clicks": f.unique_clicks,
        "unique_subscriber_clicks": f.subscriber_clicks,
        "click_rate": rate(f.subscriber_clicks, campaign, f),
        "last_click": _iso(f.last_click) if f.last_click is not None else "",
    }
    return {
        "id": campaign.id,
        "campaign_title": campaign.title,
        "type": "regular",
        "list_id": campaign.list_id,
        "list_is_active": active,
        "list_name": list_name,
        "subject_line": campaign.subject,
        "preview_text": "",
        "emails_sent": len(campaign.recipients),
        "abuse_reports": 0,
        "unsubscribed": len(campaign.unsubscribed),
        "send_time": _iso(campaign.send_time),
        "bounces": {"hard_bounces": f.hard, "soft_bounces": f.soft, "syntax_errors": 0},
        "forwards": {"forwards_count": 0, "forwards_opens": 0},
        "opens": opens,
        "clicks": clicks,
        "ecommerce": ecommerce_totals(account, campaign.id),
        "delivery_status": {"enabled": False},
        "_links": [],
    }


def _render_event(event: Event) -> dict[str, Any]:
    doc: dict[str, Any] = {"action": event.action, "timestamp": _iso(event.at), "ip": ""}
    if event.action == "click":
        doc["url"] = event.url
    if event.action == "bounce":
        doc["type"] = event.bounce_type
    return doc


def _render_recipient(
    account: AccountData, campaign: CampaignData, member: str, since: float | None
) -> dict[str, Any]:
    events = campaign.activity.get(member, [])
    if since is not None:
        events = [e for e in events if e.at > since]
    return {
        "campaign_id": campaign.id,
        "list_id": campaign.list_id,
        "list_is_active": campaign.list_id in account.lists,
        "email_id": member,
        "email_address": campaign.addresses[member],
        "activity": [_render_event(e) for e in events],
        "_links": [],
    }


@router.route("GET", "/campaigns")
def get_campaigns(request: ApiRequest) -> dict[str, Any]:
    query = request.query
    for name, allowed in (("status", STATUSES), ("type", TYPES)):
        if query.get(name) and query[name] not in allowed:
            raise field_invalid(name, f"Value must be one of: {', '.join(allowed)}.")
    since, before = _instant(request, "since_send_time"), _instant(request, "before_send_time")
    created_since = _instant(request, "since_create_time")
    created_before = _instant(request, "before_create_time")
    campaigns = list(_campaigns(request.account).values())
    if query.get("list_id"):
        campaigns = [c for c in campaigns if c.list_id == query["list_id"]]
    if query.get("member_id"):
        campaigns = [c for c in campaigns if query["member_id"] in c.index]
    if query.get("folder_id"):
        campaigns = []  # the sandbox's campaigns are in no folder
    if created_since is not None:
        campaigns = [c for c in campaigns if c.create_time > created_since]
    if created_before is not None:
        campaigns = [c for c in campaigns if c.create_time < created_before]
    if query.get("status") and query["status"] != "sent":
        campaigns = []  # the sandbox's campaigns are all sent ones
    if query.get("type") and query["type"] != "regular":
        campaigns = []
    if since is not None:
        campaigns = [c for c in campaigns if c.send_time > since]
    if before is not None:
        campaigns = [c for c in campaigns if c.send_time < before]
    sort = query.get("sort_field", "create_time")
    if sort not in ("create_time", "send_time"):
        raise field_invalid("sort_field", "Value must be one of: create_time, send_time.")
    direction = query.get("sort_dir", "ASC")
    if direction not in ("ASC", "DESC"):
        raise field_invalid("sort_dir", "Value must be one of: ASC, DESC.")
    campaigns.sort(
        key=lambda c: (c.send_time if sort == "send_time" else c.create_time, c.web_id),
        reverse=direction == "DESC",
    )
    page = paginate(request, "campaigns", campaigns)  # only the page is rendered
    page["campaigns"] = [render_campaign(request.account, c) for c in page["campaigns"]]
    return page


@router.route("GET", "/reports/{campaign_id}")
def get_report(request: ApiRequest) -> dict[str, Any]:
    return render_report(request.account, _campaign(request))


@router.route("GET", "/reports/{campaign_id}/email-activity")
def get_email_activity(request: ApiRequest) -> dict[str, Any]:
    campaign = _campaign(request)
    since = _instant(request, "since")
    if since is None:
        members = campaign.recipients
    else:
        # Only the recipients with an event after `since`, in send order.
        start = bisect.bisect_right(campaign.log, (since, len(campaign.recipients)))
        indexes = sorted({i for _, i in campaign.log[start:]})
        members = [campaign.recipients[i] for i in indexes]
    # A contact deleted permanently takes its campaign activity with it: "When you delete a
    # list member in Mailchimp, their activity (sent, open, click, bounce) is deleted as well"
    # (Fivetran's Mailchimp connector docs). The later recipients move back a place each.
    audience = request.account.lists.get(campaign.list_id)
    if audience is not None and audience.forgotten:
        members = [m for m in members if m not in audience.forgotten]
    page = paginate(request, "emails", members)
    page["emails"] = [
        _render_recipient(request.account, campaign, m, since) for m in page["emails"]
    ]
    return {**page, "campaign_id": campaign.id}


def _outreach(account: AccountData, campaign_id: str) -> dict[str, Any] | None:
    campaign = _campaigns(account).get(campaign_id)
    if campaign is None:
        return None
    return {
        "id": campaign.id,
        "name": campaign.title,
        "type": "regular",
        "published_time": _iso(campaign.send_time),
    }


@router.route("GET", "/ecommerce/orders")
def get_account_orders(request: ApiRequest) -> dict[str, Any]:
    query = request.query
    has_outreach = query.get("has_outreach", "").lower()
    if has_outreach not in ("", "true", "false"):
        raise field_invalid("has_outreach", "This value should be of type boolean.")
    found = []
    for store in request.account.stores.values():
        for order in store.orders.values():
            if query.get("campaign_id") and order.campaign_id != query["campaign_id"]:
                continue
            if query.get("customer_id") and order.customer.id != query["customer_id"]:
                continue
            outreach = _outreach(request.account, order.campaign_id)
            if query.get("outreach_id") and (outreach or {}).get("id") != query["outreach_id"]:
                continue
            if has_outreach and (outreach is not None) != (has_outreach == "true"):
                continue
            found.append((store, order, outreach))
    page = paginate(request, "orders", found)
    orders = []
    for store, order, outreach in page["orders"]:
        doc = render_order(store, order)
        if outreach is not None:
            doc["outreach"] = outreach
        orders.append(doc)
    return {**page, "orders": orders}


__all__ = [
    "CampaignData",
    "Event",
    "campaign_list",
    "record_activity",
    "record_unsubscribe",
    "router",
    "send_campaign",
    "set_member_rating",
]
