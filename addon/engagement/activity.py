"""Counting e-mail activity: pages of several campaigns at once, each member's row updated once
for all of them, each event counted once however often it is read.

Passes overlap (the collector reads each pass from a margin before the previous one's end, so an
event Mailchimp lists late is still read), and so do a pass's pages (each starts a few recipients
before the last one's end: a contact deleted meanwhile takes its activity with it and shifts the
rest back), so the same event may be read in two passes, or twice in one. A member's row per
campaign keeps the time of the last open and the last click it counted: an event is counted when
it is later than that one (and before the pass's end, the next pass's from there). An open or
click Mailchimp lists later than one already counted of the same member, campaign and action,
stamped at or before it, is not counted: Mailchimp's events carry no id, and this keeps no more
than two times per row. A first pass counts the campaign as received by each recipient once:
those its previous page already counted (`ActivityPage.repeated`) are not counted again, nor a
recipient whose e-mail had hard-bounced by then (never delivered: Mailchimp's rates divide by
"successful deliveries"; a bounce listed after the first pass is not taken back)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.repository import insert_for
from addon.db.types import utcnow
from addon.engagement import in_lists
from addon.engagement.models import EngagementDay, EngagementMember, EngagementMemberCampaign
from addon.engagement.store import bulk_update, member_ids
from addon.mailchimp import subscriber_hash
from addon.mailchimp.campaigns import ActivityEvent, EmailRecipient

RECENT = 10  # campaigns kept per member for the customer panel
_MEMBER_CAMPAIGNS: Table = EngagementMemberCampaign.__table__  # type: ignore[assignment]


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


@dataclass
class _Tally:
    opens: int = 0
    clicks: int = 0
    last_open: datetime | None = None
    last_click: datetime | None = None
    days: dict[date, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None or (b is not None and b > a) else a


def _counts(event: ActivityEvent, until: datetime) -> bool:
    """An open or click this pass may count (a later one is the next pass's)."""
    return event.action in ("open", "click") and event.timestamp < until


def _tally(
    recipient: EmailRecipient,
    until: datetime,
    counted_open: datetime | None,
    counted_click: datetime | None,
) -> _Tally | None:
    """The recipient's opens and clicks before `until` and later than the last of each counted
    before (None: none counted yet)."""
    tally = _Tally()
    for event in recipient.activity:
        at = event.timestamp
        if not _counts(event, until):
            continue
        if event.action == "open":
            if counted_open is not None and at <= counted_open:
                continue  # read again: counted already
            tally.opens += 1
            tally.last_open = _latest(tally.last_open, at)
            tally.days[at.date()][0] += 1
        else:
            if counted_click is not None and at <= counted_click:
                continue
            tally.clicks += 1
            tally.last_click = _latest(tally.last_click, at)
            tally.days[at.date()][1] += 1
    return tally if tally.opens or tally.clicks else None


def _delivered(recipient: EmailRecipient) -> bool:
    """Not hard-bounced (a soft bounce is retried by Mailchimp, and may yet be delivered)."""
    return not any(e.action == "bounce" and e.type == "hard" for e in recipient.activity)


def _recent(
    current: Sequence[str], received: Iterable[str], sent: dict[str, datetime]
) -> list[str]:
    new = set(received)
    ids = [c for c in current if c not in new and c in sent] + sorted(new)
    return sorted(ids, key=lambda c: sent[c], reverse=True)[:RECENT]


@dataclass(frozen=True)
class ActivityPage:
    """One page of a campaign's e-mail activity, counted for events before `until` not counted
    yet; on the first pass (`start`, the previous pass's end, None) every recipient also
    received the campaign."""

    campaign_id: str
    recipients: Sequence[EmailRecipient]
    start: datetime | None
    until: datetime
    # The recipients (by subscriber hash) the pass's previous page read too: its overlap.
    repeated: frozenset[str] = frozenset()

    @property
    def first_pass(self) -> bool:
        return self.start is None


@dataclass
class _Change:
    received: list[str] = field(default_factory=list)  # campaign ids
    opens: int = 0
    clicks: int = 0
    last_open: datetime | None = None
    last_click: datetime | None = None


async def apply_activity(
    session: AsyncSession,
    installation_id: int,
    pages: Sequence[ActivityPage],
    sent: dict[str, datetime],
) -> int:
    """Count pages of several campaigns at once: each member's row is updated once for all of
    them (the pages of campaigns read side by side hold the same members, mostly). Answers the
    members seen."""
    seen = 0
    wanted: set[str] = set()
    parsed = []
    keyed = [[(subscriber_hash(r.email_address), r) for r in page.recipients] for page in pages]
    erased = await in_lists.erased(session, installation_id, (k for page in keyed for k, _ in page))
    for page, recipients in zip(pages, keyed, strict=True):
        active: dict[str, EmailRecipient] = {}
        listed = []
        everyone = []  # a first pass's recipients to count as received
        sent_at = sent.get(page.campaign_id)
        for key, recipient in recipients:
            erased_at = erased.get(key)
            if erased_at is not None and (sent_at is None or sent_at <= erased_at):
                # Sent before the address was erased: its engagement went with it, and is not
                # made again (as its attributed orders, `store.apply_orders`).
                continue
            listed.append(key)
            if key not in page.repeated and _delivered(recipient):
                everyone.append(key)
            if any(_counts(event, page.until) for event in recipient.activity):
                active[key] = recipient
        seen += len(recipients)
        wanted.update(listed if page.first_pass else active)
        parsed.append((page, everyone, active))
    ids = await member_ids(session, installation_id, wanted)
    changes: dict[int, _Change] = defaultdict(_Change)
    for page, everyone, active in parsed:
        counted = await _count_member_campaigns(
            session, installation_id, page.campaign_id, ids, active, page.until
        )
        if page.first_pass:
            for key in everyone:
                changes[ids[key]].received.append(page.campaign_id)
        for key, tally in counted.items():
            change = changes[ids[key]]
            change.opens += tally.opens
            change.clicks += tally.clicks
            change.last_open = _latest(change.last_open, tally.last_open)
            change.last_click = _latest(change.last_click, tally.last_click)
        await _add_days(session, installation_id, page.campaign_id, counted.values())
    if not changes:
        return seen
    read = select(
        EngagementMember.id,
        EngagementMember.campaigns_received,
        EngagementMember.recent_campaigns,
        EngagementMember.opens,
        EngagementMember.clicks,
        EngagementMember.last_open,
        EngagementMember.last_click,
    )
    rows = [
        row
        for chunk in in_lists.chunks(sorted(changes))
        for row in await session.execute(read.where(EngagementMember.id.in_(chunk)))
    ]
    updates = []
    now = utcnow()
    for member_id, received, recent, opens, clicks, last_open, last_click in rows:
        change = changes[member_id]
        values: dict[str, Any] = {
            "id": member_id,
            "changed": True,
            "updated_at": now,
            "campaigns_received": received + len(change.received),
            "recent_campaigns": _recent(recent or [], change.received, sent)
            if change.received
            else recent or [],
            "opens": opens + change.opens,
            "clicks": clicks + change.clicks,
            "last_open": _latest(last_open, change.last_open),
            "last_click": _latest(last_click, change.last_click),
        }
        updates.append(values)
    await bulk_update(session, updates)
    return seen


async def _count_member_campaigns(
    session: AsyncSession,
    installation_id: int,
    campaign_id: str,
    ids: dict[str, int],
    active: dict[str, EmailRecipient],
    until: datetime,
) -> dict[str, _Tally]:
    """Add what the recipients did and was not counted yet to each member's row of the
    campaign; answer those tallies (a member with nothing new is left out)."""
    if not active:
        return {}
    wanted = {ids[h]: h for h in active}
    existing: dict[int, EngagementMemberCampaign] = {}
    for chunk in in_lists.chunks(sorted(wanted)):
        for found in await session.scalars(
            select(EngagementMemberCampaign).where(
                EngagementMemberCampaign.installation_id == installation_id,
                EngagementMemberCampaign.campaign_id == campaign_id,
                EngagementMemberCampaign.member_id.in_(chunk),
            )
        ):
            existing[found.member_id] = found
    counted: dict[str, _Tally] = {}
    new = []
    for member_id, key in wanted.items():
        row = existing.get(member_id)
        if row is None:
            tally = _tally(active[key], until, None, None)
            if tally is None:
                continue
            new.append(
                {
                    "installation_id": installation_id,
                    "member_id": member_id,
                    "campaign_id": campaign_id,
                    "opens": tally.opens,
                    "clicks": tally.clicks,
                    "last_open": tally.last_open,
                    "last_click": tally.last_click,
                    "counted_until": until,
                }
            )
        else:
            tally = _tally(active[key], until, row.last_open, row.last_click)
            if tally is None:
                continue  # everything read was counted before (an overlap, a page read twice)
            row.opens += tally.opens
            row.clicks += tally.clicks
            row.last_open = _latest(row.last_open, tally.last_open)
            row.last_click = _latest(row.last_click, tally.last_click)
            row.counted_until = until
        counted[key] = tally
    if new:
        # Core's executemany: the ORM's bulk insert (RETURNING each id) was a sixth of a first
        # collection's time.
        await session.execute(_MEMBER_CAMPAIGNS.insert(), new)
    await session.flush()
    return counted


async def _add_days(
    session: AsyncSession, installation_id: int, campaign_id: str, tallies: Iterable[_Tally]
) -> None:
    days: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for tally in tallies:
        for day, (opens, clicks) in tally.days.items():
            days[day][0] += opens
            days[day][1] += clicks
    if not days:
        return
    insert = insert_for(_dialect(session), EngagementDay)
    statement = insert.on_conflict_do_update(
        index_elements=["installation_id", "campaign_id", "day"],
        set_={
            "opens": EngagementDay.opens + insert.excluded.opens,
            "clicks": EngagementDay.clicks + insert.excluded.clicks,
        },
    )
    await session.execute(
        statement,
        [
            {
                "installation_id": installation_id,
                "campaign_id": campaign_id,
                "day": day,
                "opens": opens,
                "clicks": clicks,
            }
            for day, (opens, clicks) in sorted(days.items())
        ],
    )
