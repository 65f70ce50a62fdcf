"""One collection run: campaigns and reports of every active audience, e-mail activity since
the last run, members' ratings and tags, attributed orders, Saleor customers matched; then
the changed customers' metadata written.

Reads go page by page (1000 items, Mailchimp's maximum); campaigns are read side by side, twice
the account's concurrency cap of them at once, their pages counted by one writer
(`campaign_passes.py`); the client's limiter keeps Mailchimp requests under the cap.

Incremental: a campaign's activity is counted up to `activity_until`; the next run asks
Mailchimp only for activity since `OVERLAP` before then (`since`), and only campaigns sent within
the activity interval are read at all. The overlap is there because "activity since" is paged by
offset over a set that grows while it is read: a member whose event (stamped before the pass's
end) is listed while the pass pages can land before the page being read and be missed, and
Mailchimp may list an event some time after its time stamp; the next pass reads them again, and
what was counted already is not counted twice (`activity.py`).

Audiences' members are read `since_last_changed` the previous run, all of them once a day
(Mailchimp recomputes ratings without touching `last_changed`). Saleor customers are read
`updatedAt` since the previous scan, and by `dateJoined` on the days of the last run's writes.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import SecretStr
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.audiences.repository import AudienceRepository
from addon.connection.account_data import AccountStamps, account_stamps, forget_account_data
from addon.connection.service import mailchimp_for
from addon.db.types import utcnow
from addon.engagement import audience_members, store
from addon.engagement.audience_members import RowIds
from addon.engagement.campaign_passes import (
    OVERLAP,
    PAGE_OVERLAP,
    CampaignPasses,
    RunFigures,
    count_seen,
)
from addon.engagement.metadata import write_changed
from addon.engagement.models import ENGAGEMENT_DATA, EngagementCampaign, RunState
from addon.engagement.saleor_models import CustomersAnswer, parse
from addon.installations.repository import InstallationRepository
from addon.mailchimp.campaigns import MAX_PAGE, Campaign, CampaignReads
from addon.saleor.paging import Pager
from addon.services import Services
from addon.subscriptions.statuses_seen import enqueue_statuses_seen, seen_statuses
from addon.tasks import side_by_side

logger = logging.getLogger(__name__)

FULL_MEMBER_READ = timedelta(hours=24)
# How long after a campaign's interval ended its closing pass is still owed (`_closing_passes`).
CLOSING_GRACE = timedelta(days=7)
MEMBER_PAGE = MAX_PAGE  # Mailchimp's largest `count`
CUSTOMER_PAGE = 100  # Saleor's largest `first`
READERS_PER_SLOT = 2


_Range = tuple[datetime | None, datetime | None]  # `updatedAt` from, until (None: open)
_Days = tuple[date, date]  # `dateJoined` from, until (UTC days, both included)
# The scan's start is the app's time, Saleor's `updatedAt` its server's: the next scan reads
# from this much before this one began, so a Saleor clock up to that much behind the app's
# loses no customer stamped just as it began (read again, they are matched again).
SCAN_OVERLAP = timedelta(minutes=5)


def _scan_ranges(
    since: datetime | None, written_from: datetime | None, written_until: datetime | None
) -> list[_Range]:
    """The customers to read: changed since the last scan, but for the window in which the
    last run wrote their metadata. Since Saleor 3.23 (and 3.21.37, 3.22.19) every metadata write
    sets the customer's `updatedAt` (saleor/saleor#18601, `TYPE_UPDATED_FIELD`), so without it
    the run after writing 50 k customers read them all again (500 pages). A customer who changed
    their address inside that window (seconds; minutes after a first collection) is matched at
    their next change; one who registered inside it is read by `_joined_days`."""
    if since is None or written_from is None or written_until is None:
        return [(since, None)]
    if not since <= written_from <= written_until:
        return [(since, None)]
    return [(since, written_from), (written_until, None)]


def _joined_days(
    scan: list[_Range], written_from: datetime | None, written_until: datetime | None
) -> _Days | None:
    """The days whose registrations are read too when `scan` skips the last run's writes: a
    customer who registered during them has their only `updatedAt` in the skipped window, and
    `dateJoined`, which metadata writes do not move, says when. Every supported Saleor filters
    it by day only (`CustomerFilterInput.dateJoined: DateRangeInput`; `where`, by instant, is
    3.22+): a collection after writes reads all who joined on those days (mostly today's)."""
    if len(scan) < 2 or written_from is None or written_until is None:
        return None
    return written_from.astimezone(UTC).date(), written_until.astimezone(UTC).date()


def _next_scan_from(
    began: datetime, written_from: datetime | None, written_until: datetime | None
) -> datetime:
    """Where the next scan starts: `SCAN_OVERLAP` before this one began, but not inside the
    window of the last run's writes, which this scan skipped (a run asked for just after a
    first collection would otherwise read again the customers it wrote last)."""
    start = began - SCAN_OVERLAP
    if written_from is None or written_until is None:
        return start
    return written_until if written_from <= start < written_until else start


def _sent_after(campaign: Campaign, horizon: datetime) -> bool:
    """Whether a listed campaign was sent inside the interval (one without a send time, as
    listed among the sent, counts as such)."""
    return campaign.send_time is None or campaign.send_time > horizon


async def _closing_passes(
    session: AsyncSession,
    installation_id: int,
    list_ids: list[str],
    now: datetime,
    interval: timedelta,
) -> dict[int, tuple[str, datetime]]:
    """Campaigns of these audiences whose interval ended since their last pass (row id →
    campaign id, send time): one last pass counts their activity up to the interval's end, or
    an open between the last pass and that end would never count. Only intervals that ended
    within `CLOSING_GRACE`: one owed longer (a collection failing for weeks) is left as
    counted, so no campaign is tried for ever and the listing (back to the oldest owed) stays
    short. One never read (sent before the app collected) has none: its activity was never
    collected."""
    horizon = now - interval
    rows = await session.execute(
        select(
            EngagementCampaign.id,
            EngagementCampaign.campaign_id,
            EngagementCampaign.sent_at,
            EngagementCampaign.activity_until,
        ).where(
            EngagementCampaign.installation_id == installation_id,
            EngagementCampaign.list_id.in_(list_ids),
            EngagementCampaign.sent_at <= horizon,
            EngagementCampaign.sent_at > horizon - CLOSING_GRACE,
            EngagementCampaign.activity_until.is_not(None),
        )
    )
    return {
        row_id: (campaign_id, sent)
        for row_id, campaign_id, sent, until in rows
        if until is not None and until < sent + interval
    }


class Collector:
    def __init__(self, services: Services, installation_id: int) -> None:
        self.services = services
        self.installation_id = installation_id
        self.writes = asyncio.Lock()  # one writer: pages take turns
        self.figures = RunFigures()

    async def run(self) -> RunFigures:
        """One collection. One that finds the last still running (it failed and is retried, or
        its worker stopped) goes on with it and its progress goes on counting; any other starts
        its progress afresh (whatever the job's attempts: a run put off while another ran never
        started one)."""
        # Mailchimp stamps activity to the second: a pass counts whole seconds before its end,
        # the next one from there.
        now = utcnow().replace(microsecond=0)
        async with self.services.db.transaction() as session:
            settings = await store.settings_row(session, self.installation_id)
            if settings.state is not RunState.RUNNING:
                settings.campaigns_done = 0
                settings.members_seen = 0
            settings.state = RunState.RUNNING
            settings.last_started_at = now
            # What it writes is of the account it reads: dropped at its end if the account's
            # data was dropped meanwhile (`_account_changed`).
            stamps = await account_stamps(session, self.installation_id)
            settings.last_error = None
            interval = timedelta(days=settings.activity_interval_days)
            horizon = now - interval
            cursors = dict(settings.list_cursors or {})
            scanned_at = settings.customers_scanned_at
            written = settings.customers_written_from, settings.customers_written_until
            scan = _scan_ranges(scanned_at, *written)
            joined = _joined_days(scan, *written)
            audiences = [
                (a.list_id, a.name)
                for a in await AudienceRepository(session).active_audiences(self.installation_id)
            ]
            closing = await _closing_passes(
                session, self.installation_id, [a for a, _ in audiences], now, interval
            )
            installation = await InstallationRepository(session).get(self.installation_id)
            if installation is None:
                return self.figures
            # An audience read before and no longer: its ratings and tags go.
            for list_id in set(cursors) - {a for a, _ in audiences}:
                await audience_members.forget_audience(session, self.installation_id, list_id)
                del cursors[list_id]
            settings.list_cursors = cursors
            api_url, token = installation.saleor_api_url, installation.app_token
        async with mailchimp_for(self.services, self.installation_id) as client:
            reads = CampaignReads(client)
            listed: set[str] = set()
            # Back to the oldest campaign owed its closing pass (Mailchimp lists those sent
            # after `since_send_time`, to the second): one not listed was deleted. Of the older
            # campaigns, only those are kept; the rest were never collected.
            owed = {campaign_id for campaign_id, _ in closing.values()}
            listed_from = min([horizon, *(sent for _, sent in closing.values())])
            for list_id, name in audiences:
                async for campaign in reads.campaigns(
                    list_id, since_send_time=listed_from - timedelta(seconds=1)
                ):
                    if campaign.id not in owed and not _sent_after(campaign, horizon):
                        continue
                    listed.add(campaign.id)
                    async with self.services.db.transaction() as session:
                        await store.upsert_campaign(session, self.installation_id, campaign, name)
            gone = {i: c for i, c in closing.items() if c[0] not in listed}
            if gone:  # deleted in Mailchimp: nothing more to read of them
                async with self.services.db.transaction() as session:
                    for row_id, (_, sent_on) in gone.items():
                        await store.close_campaign(session, row_id, sent_on + interval)
            async with self.services.db.session() as session:
                campaigns = list(
                    await session.scalars(
                        EngagementCampaign.of_installation(self.installation_id)
                        .where(
                            or_(
                                EngagementCampaign.sent_at > horizon,
                                EngagementCampaign.id.in_(closing),
                            ),
                            EngagementCampaign.list_id.in_([a for a, _ in audiences]),
                            # One deleted in Mailchimp (no longer listed) has no activity to
                            # read (404): what was counted of it stays.
                            EngagementCampaign.campaign_id.in_(listed),
                        )
                        .order_by(EngagementCampaign.sent_at, EngagementCampaign.id)
                    )
                )
                rows = await session.execute(
                    select(EngagementCampaign.campaign_id, EngagementCampaign.sent_at).where(
                        EngagementCampaign.installation_id == self.installation_id
                    )
                )
                sent = {campaign_id: sent_at for campaign_id, sent_at in rows}
            async with self.services.db.transaction() as session:
                settings = await store.settings_row(session, self.installation_id)
                settings.campaigns_total = len(campaigns)
            # Twice as many campaigns read side by side as requests may be in flight (the
            # client's limiter holds the rest back): each holds one page, and the writer counts
            # up to that many pages of mostly the same members in one go.
            passes = CampaignPasses(
                self.services, self.installation_id, self.writes, self.figures, sent,
                readers=READERS_PER_SLOT * client.http.slots.cap,
            )  # fmt: skip
            async with passes.writing(), side_by_side() as group:
                for list_id, _ in audiences:
                    group.create_task(self._members(reads, list_id, cursors, now))
                group.create_task(self._customers(api_url, token, scan, joined))
                for c in campaigns:
                    # Counted up to the end of its interval, at most (`closing`: past it).
                    until = min(now, c.sent_at + interval)
                    group.create_task(passes.read(reads, c.id, until, closing=until < now))
        async with self.services.db.transaction() as session:
            if await self._account_changed(session, stamps):
                # Another account connected, or the account's data forgotten, while this run
                # read the one before: what it wrote since is that account's (its cursors, its
                # members' ratings), never to be written on customers. The next run starts over.
                await forget_account_data(session, self.installation_id, only=ENGAGEMENT_DATA)
                logger.info("Engagement collection dropped: the Mailchimp account changed")
                return self.figures
            await store.link_new_members(session, self.installation_id)
            settings = await store.settings_row(session, self.installation_id)
            settings.list_cursors = cursors
            settings.customers_scanned_at = _next_scan_from(
                now, settings.customers_written_from, settings.customers_written_until
            )
        written_from = utcnow()
        self.figures.written = await write_changed(
            self.services, self.installation_id, api_url, token
        )
        async with self.services.db.transaction() as session:
            settings = await store.settings_row(session, self.installation_id)
            wrote = self.figures.written.mutations > 0
            settings.customers_written_from = written_from if wrote else None
            settings.customers_written_until = utcnow() if wrote else None
        return self.figures

    async def _account_changed(self, session: AsyncSession, stamps: AccountStamps) -> bool:
        """Whether the account's data was dropped since this attempt began: its stamps are not
        those read then (a switch committed meanwhile, whatever its clock said; read locked,
        so a switch under way is waited for). An earlier attempt of the run that failed after
        a switch wrote no cursors; rows it wrote of the account before are not dropped here."""
        return await account_stamps(session, self.installation_id, lock=True) != stamps

    async def _members(
        self, reads: CampaignReads, list_id: str, cursors: dict[str, object], now: datetime
    ) -> None:
        """The audience's members' ratings and tags (changed since the last read)."""
        cursor = cursors.get(list_id)
        since = full = None
        if isinstance(cursor, dict):
            since = _parse(cursor.get("changed"))
            full = _parse(cursor.get("full"))
        # Statuses changed since the last read only, even on a full read (the first: all).
        statuses_since = since - OVERLAP if since is not None else None
        if full is None or now - full >= FULL_MEMBER_READ:
            since, full = None, now
        # From a margin before the last read's start, as activity is read (`OVERLAP`): a member
        # changed in that read's second (Mailchimp stamps to the second, `since` excludes it)
        # or listed late is read again; what it holds is written once.
        since = since - OVERLAP if since is not None else None
        # On a full read: who is in the audience (their member rows, a bit each).
        listed = RowIds() if since is None else None
        offset, repeated = 0, frozenset[str]()
        while True:
            page = await reads.members(
                list_id, since_last_changed=since, offset=offset, count=MEMBER_PAGE
            )
            self.figures.mailchimp_pages += 1
            members = [m for m in page.members if m.email_address.lower() not in repeated]
            async with self.writes, self.services.db.transaction() as session:
                seen = await audience_members.apply_members(
                    session, self.installation_id, list_id, members, listed=listed
                )
                await count_seen(session, self.installation_id, seen)
                # Their statuses, for the newsletter capability (`statuses_seen.py`).
                statuses = [(m.email_address, m.status, m.last_changed) for m in members]
                await enqueue_statuses_seen(
                    session, self.installation_id, list_id, seen_statuses(statuses, statuses_since)
                )
            self.figures.members_seen += seen
            end = offset + len(page.members)
            if len(page.members) < MEMBER_PAGE or end >= page.total_items:
                break
            # Each page overlaps the last (as the activity's): a member deleted meanwhile moves
            # the rest back, and the one at the page's edge would be missed. Those read again
            # are written once.
            back = min(PAGE_OVERLAP, len(page.members) // 2)
            offset = end - back
            repeated = frozenset(m.email_address.lower() for m in page.members[-back:])
        if listed is not None:
            # Members deleted or archived there since: no rating or tags in it any more.
            async with self.writes, self.services.db.transaction() as session:
                await audience_members.forget_audience(
                    session, self.installation_id, list_id, listed=listed
                )
        cursors[list_id] = {"changed": now.isoformat(), "full": full.isoformat()}

    async def _customers(
        self, api_url: str, token: SecretStr, scan: list[_Range], joined: _Days | None
    ) -> None:
        """Saleor customers changed since the last scan (all of them the first time), in
        `scan`'s ranges of `updatedAt`, and those who joined on the `joined` days."""
        for since, until in scan:
            bounds = {
                "since": since.isoformat() if since else None,
                "until": until.isoformat() if until else None,
            }
            await self._customer_pages(api_url, token, "engagement_customers", bounds)
        if joined is not None:
            days = {"from": joined[0].isoformat(), "until": joined[1].isoformat()}
            await self._customer_pages(api_url, token, "engagement_customers_joined", days)

    async def _customer_pages(
        self, api_url: str, token: SecretStr, document: str, variables: dict[str, Any]
    ) -> None:
        """Every page of `document`'s customers, each matched as it is read."""
        variables = {**variables, "first": CUSTOMER_PAGE}
        saleor = self.services.saleor
        async for page in Pager(saleor, api_url, token, document, "customers", variables):
            answer = parse(CustomersAnswer, document, page.answer)
            async with self.writes, self.services.db.transaction() as session:
                await store.apply_customers(session, self.installation_id, answer.pairs())


def _parse(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
