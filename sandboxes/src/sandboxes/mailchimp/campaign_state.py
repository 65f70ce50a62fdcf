"""The sandbox's sent campaigns (`AccountData.sent_campaigns`) and the controls that make and
change them (tests, benchmarks): :func:`send_campaign` sends to the audience's subscribed
members as they are at that moment; :func:`record_activity` records an open, click or bounce
of a recipient at a chosen time on the sandbox's clock (never before the send);
:func:`set_member_rating` sets Mailchimp's 1-5 star rating (Mailchimp computes it itself, so
it does not change the member's ``last_changed``); :func:`remove_campaign` takes one away.
`campaigns.py` serves them.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from .state import AccountData, subscriber_hash

if TYPE_CHECKING:
    from .models import SandboxAccount
    from .sandbox import MailchimpSandbox

Action = Literal["open", "click", "bounce"]


@dataclass
class Event:
    action: Action
    at: float
    url: str = ""
    bounce_type: str = ""


@dataclass
class CampaignData:
    id: str
    web_id: int
    list_id: str
    title: str
    subject: str
    create_time: float
    send_time: float
    recipients: list[str]  # subscriber hashes, in send order
    addresses: dict[str, str]  # hash -> the address it was sent to
    index: dict[str, int] = field(default_factory=dict)
    activity: dict[str, list[Event]] = field(default_factory=dict)
    log: list[tuple[float, int]] = field(default_factory=list)  # (time, recipient index)
    unsubscribed: set[str] = field(default_factory=set)


def _account(sandbox: MailchimpSandbox, account: SandboxAccount | str) -> AccountData:
    account_id = account if isinstance(account, str) else account.id
    return sandbox.state.accounts[account_id]


def send_campaign(
    sandbox: MailchimpSandbox,
    account: SandboxAccount | str,
    list_id: str,
    *,
    title: str,
    subject: str = "",
    sent_at: float | None = None,
    campaign_id: str | None = None,
) -> str:
    """Send a regular campaign to the audience's subscribed members (as they are now); returns
    its id, which orders may then carry as `campaign_id`."""
    data = _account(sandbox, account)
    with sandbox.state.lock:
        audience = data.lists.get(list_id)
        if audience is None:
            raise KeyError(f"no audience {list_id!r}")
        at = sandbox.clock.now() if sent_at is None else sent_at
        members = [m for m in audience.members.values() if m.status == "subscribed"]
        cid = campaign_id or sandbox.state.new_id(10)
        campaign = CampaignData(
            id=cid,
            web_id=sandbox.state.rng.randint(1_000_000, 9_999_999),
            list_id=list_id,
            title=title,
            subject=subject or title,
            create_time=at,
            send_time=at,
            recipients=[m.id for m in members],
            addresses={m.id: m.email_address for m in members},
        )
        campaign.index = {h: i for i, h in enumerate(campaign.recipients)}
        data.sent_campaigns[cid] = campaign
        data.campaigns[cid] = list_id
        return cid


def record_activity(
    sandbox: MailchimpSandbox,
    account: SandboxAccount | str,
    campaign_id: str,
    events: Iterable[tuple[str, Action, float | None]],
    *,
    url: str = "https://shop.test/",
    bounce_type: Literal["hard", "soft"] = "hard",
) -> None:
    """Record (e-mail or subscriber hash, action, time) events of recipients (time None: now).
    An event before the send, or of someone the campaign was not sent to, is refused; so is an
    open or click of a hard-bounced recipient and a hard bounce of one who opened or clicked: a
    hard bounce is an e-mail that was never delivered, and the report's rates divide by the
    delivered ("unique opens divided by the total number of successful deliveries", the spec's
    ``opens.open_rate``), so they could otherwise exceed 1."""
    data = _account(sandbox, account)
    with sandbox.state.lock:
        campaign = data.sent_campaigns[campaign_id]
        for who, action, at in events:
            member = who if "@" not in who else subscriber_hash(who)
            if member not in campaign.index:
                raise KeyError(f"{who!r} was not sent campaign {campaign_id!r}")
            when = sandbox.clock.now() if at is None else at
            if when < campaign.send_time:
                raise ValueError("activity cannot come before the campaign was sent")
            event = Event(action, when, url if action == "click" else "", "")
            if action == "bounce":
                event.bounce_type = bounce_type
            _check_delivery(campaign.activity.get(member, []), event)
            campaign.activity.setdefault(member, []).append(event)
            campaign.activity[member].sort(key=lambda e: e.at)
            bisect.insort(campaign.log, (when, campaign.index[member]))


def _check_delivery(earlier: list[Event], event: Event) -> None:
    hard = event.bounce_type == "hard" or any(e.bounce_type == "hard" for e in earlier)
    engaged = event.action != "bounce" or any(e.action != "bounce" for e in earlier)
    if hard and engaged:
        raise ValueError("a hard-bounced recipient cannot open or click (it was never delivered)")


def record_unsubscribe(
    sandbox: MailchimpSandbox, account: SandboxAccount | str, campaign_id: str, email: str
) -> None:
    """The recipient unsubscribed from the campaign's e-mail (the member becomes unsubscribed)."""
    data = _account(sandbox, account)
    with sandbox.state.lock:
        campaign = data.sent_campaigns[campaign_id]
        member_id = subscriber_hash(email)
        campaign.unsubscribed.add(member_id)
        audience = data.lists[campaign.list_id]
        member = audience.members.get(member_id)
        if member is not None:
            member.status = "unsubscribed"
            member.unsubscribe_reason = "N/A (Unsubscribed from a campaign)"
            member.last_changed = sandbox.clock.iso()
            audience.unsubscribed_at[member_id] = member.last_changed


def set_member_rating(
    sandbox: MailchimpSandbox,
    account: SandboxAccount | str,
    list_id: str,
    email: str,
    rating: int,
) -> None:
    """Mailchimp's star rating (1-5) of a member; its own computation, so `last_changed` stays."""
    if not 1 <= rating <= 5:
        raise ValueError("a member rating is 1 to 5")
    data = _account(sandbox, account)
    with sandbox.state.lock:
        data.lists[list_id].members[subscriber_hash(email)].member_rating = rating


def campaign_list(sandbox: MailchimpSandbox, account: SandboxAccount | str) -> list[str]:
    with sandbox.state.lock:
        return list(_account(sandbox, account).sent_campaigns)


def remove_campaign(
    sandbox: MailchimpSandbox, account: SandboxAccount | str, campaign_id: str
) -> None:
    """A campaign the account no longer has (deleted by its owner): no longer listed, and its
    report and activity answer 404, as for any id Mailchimp does not know."""
    with sandbox.state.lock:
        del _account(sandbox, account).sent_campaigns[campaign_id]
