"""Counting e-mail activity: pages of several campaigns at once, each member's row updated once
for all of them, events counted once per pass however often a page is read (a member's row per
campaign keeps the pass that last counted it)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.repository import insert_for
from addon.db.types import utcnow
from addon.engagement.models import EngagementDay, EngagementMember, EngagementMemberCampaign
from addon.engagement.store import bulk_update, member_ids
from addon.mailchimp import subscriber_hash
from addon.mailchimp.campaigns import EmailRecipient

RECENT = 10  # campaigns kept per member for the customer panel


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


def _tally(recipient: EmailRecipient, start: datetime | None, until: datetime) -> _Tally | None:
    tally = _Tally()
    for event in recipient.activity:
        at = event.timestamp
        if at >= until or (start is not None and at < start):
            continue  # another pass counts it
        if event.action == "open":
            tally.opens += 1
            tally.last_open = _latest(tally.last_open, at)
            tally.days[at.date()][0] += 1
        elif event.action == "click":
            tally.clicks += 1
            tally.last_click = _latest(tally.last_click, at)
            tally.days[at.date()][1] += 1
    return tally if tally.opens or tally.clicks else None


def _recent(
    current: Sequence[str], received: Iterable[str], sent: dict[str, datetime]
) -> list[str]:
    new = set(received)
    ids = [c for c in current if c not in new and c in sent] + sorted(new)
    return sorted(ids, key=lambda c: sent[c], reverse=True)[:RECENT]


@dataclass(frozen=True)
class ActivityPage:
    """One page of a campaign's e-mail activity, counted for events in `[start, until)`; on
    the first pass (`start` None) every recipient also received the campaign."""

    campaign_id: str
    recipients: Sequence[EmailRecipient]
    start: datetime | None
    until: datetime

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
    for page in pages:
        tallies: dict[str, _Tally] = {}
        everyone = []
        for recipient in page.recipients:
            key = subscriber_hash(recipient.email_address)
            everyone.append(key)
            tally = _tally(recipient, page.start, page.until)
            if tally is not None:
                tallies[key] = tally
        seen += len(everyone)
        wanted.update(everyone if page.first_pass else tallies)
        parsed.append((page, everyone, tallies))
    ids = await member_ids(session, installation_id, wanted)
    changes: dict[int, _Change] = defaultdict(_Change)
    for page, everyone, tallies in parsed:
        counted = await _count_member_campaigns(
            session, installation_id, page.campaign_id, ids, tallies, page.until
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
    rows = await session.execute(
        select(
            EngagementMember.id,
            EngagementMember.campaigns_received,
            EngagementMember.recent_campaigns,
            EngagementMember.opens,
            EngagementMember.clicks,
            EngagementMember.last_open,
            EngagementMember.last_click,
        ).where(EngagementMember.id.in_(sorted(changes)))
    )
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
    tallies: dict[str, _Tally],
    until: datetime,
) -> dict[str, _Tally]:
    """Add the tallies to each member's row of the campaign; answer those counted now (a
    member already counted for this pass is skipped)."""
    if not tallies:
        return {}
    wanted = {ids[h]: h for h in tallies}
    existing = {
        row.member_id: row
        for row in await session.scalars(
            select(EngagementMemberCampaign).where(
                EngagementMemberCampaign.installation_id == installation_id,
                EngagementMemberCampaign.campaign_id == campaign_id,
                EngagementMemberCampaign.member_id.in_(sorted(wanted)),
            )
        )
    }
    counted: dict[str, _Tally] = {}
    new = []
    for member_id, key in wanted.items():
        tally = tallies[key]
        row = existing.get(member_id)
        if row is None:
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
        elif row.counted_until is not None and row.counted_until >= until:
            continue  # this pass counted them already (a page read twice)
        else:
            row.opens += tally.opens
            row.clicks += tally.clicks
            row.last_open = _latest(row.last_open, tally.last_open)
            row.last_click = _latest(row.last_click, tally.last_click)
            row.counted_until = until
        counted[key] = tally
    if new:
        await session.execute(insert_for(_dialect(session), EngagementMemberCampaign), new)
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
