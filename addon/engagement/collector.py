"""One collection run: campaigns and reports of every active audience, e-mail activity since
the last run, members' ratings and tags, attributed orders, Saleor customers matched; then
the changed customers' metadata written.

Reads go page by page (1000 items, Mailchimp's maximum) and a campaign's page is written
before its next one is read, so memory holds at most one page per campaign being read (twice
the account's concurrency cap of them at once) whatever the audience's size; the client's
limiter keeps Mailchimp requests under the cap. One writer counts the pages waiting, of several
campaigns, in one transaction (each member's row updated once for all), so pages never contend
for the same rows, and a retried run resumes at each campaign's last written page.

Incremental: a campaign's activity is counted up to `activity_until`; the next run asks
Mailchimp only for activity since `OVERLAP` before then (`since`), and only campaigns sent within
the activity interval are read at all. The overlap is there because "activity since" is paged by
offset over a set that grows while it is read: a member whose event (stamped before the pass's
end) is listed while the pass pages can land before the page being read and be missed, and
Mailchimp may list an event some time after its time stamp; the next pass reads them again, and
what was counted already is not counted twice (`activity.py`).

Audiences' members are read `since_last_changed` the previous run, all of them once a day
(Mailchimp recomputes ratings without touching `last_changed`). Saleor customers are read
`updatedAt` since the previous scan.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import SecretStr
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from addon.audiences.repository import AudienceRepository
from addon.connection.service import mailchimp_for
from addon.db.types import utcnow
from addon.engagement import activity, store
from addon.engagement.metadata import Written, write_changed
from addon.engagement.models import EngagementCampaign, EngagementSettings, RunState
from addon.engagement.saleor_models import CustomersAnswer, parse
from addon.installations.repository import InstallationRepository
from addon.mailchimp.campaigns import MAX_PAGE, CampaignReads
from addon.services import Services
from addon.subscriptions.statuses_seen import enqueue_statuses_seen, seen_statuses
from addon.tasks import side_by_side

logger = logging.getLogger(__name__)

FULL_MEMBER_READ = timedelta(hours=24)
# How far before the previous pass's end a pass reads (see above): events listed up to this late
# are counted. (`since` is exclusive and to the second: at least a second.)
OVERLAP = timedelta(minutes=15)
ACTIVITY_PAGE = MAX_PAGE  # recipients a page of e-mail activity
CUSTOMER_PAGE = 100  # Saleor's largest `first`
WRITE_BATCH = 20  # pages counted in one transaction at most
READERS_PER_SLOT = 2


_Range = tuple[datetime | None, datetime | None]  # `updatedAt` from, until (None: open)
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
    their next change."""
    if since is None or written_from is None or written_until is None:
        return [(since, None)]
    if not since <= written_from <= written_until:
        return [(since, None)]
    return [(since, written_from), (written_until, None)]


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


@dataclass
class RunFigures:
    mailchimp_pages: int = 0
    members_seen: int = 0
    written: Written | None = None


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
            settings.last_error = None
            horizon = now - timedelta(days=settings.activity_interval_days)
            cursors = dict(settings.list_cursors or {})
            scanned_at = settings.customers_scanned_at
            scan = _scan_ranges(
                scanned_at, settings.customers_written_from, settings.customers_written_until
            )
            audiences = [
                (a.list_id, a.name)
                for a in await AudienceRepository(session).active_audiences(self.installation_id)
            ]
            installation = await InstallationRepository(session).get(self.installation_id)
            if installation is None:
                return self.figures
            api_url, token = installation.saleor_api_url, installation.app_token
        async with mailchimp_for(self.services, self.installation_id) as client:
            reads = CampaignReads(client)
            for list_id, name in audiences:
                async for campaign in reads.campaigns(list_id, since_send_time=horizon):
                    async with self.services.db.transaction() as session:
                        await store.upsert_campaign(session, self.installation_id, campaign, name)
            async with self.services.db.session() as session:
                campaigns = list(
                    await session.scalars(
                        EngagementCampaign.of_installation(self.installation_id)
                        .where(
                            EngagementCampaign.sent_at > horizon,
                            EngagementCampaign.list_id.in_([a for a, _ in audiences]),
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
            gate = asyncio.Semaphore(READERS_PER_SLOT * client.http.slots.cap)
            pages: asyncio.Queue[_Written | None] = asyncio.Queue()
            writer = asyncio.create_task(self._writer(pages, sent))
            try:
                async with side_by_side() as group:
                    for list_id, _ in audiences:
                        group.create_task(self._members(reads, list_id, cursors, now))
                    group.create_task(self._customers(api_url, token, scan))
                    for c in campaigns:
                        group.create_task(self._campaign(reads, gate, pages, c.id, now))
            finally:
                await pages.put(None)
                await writer
        async with self.services.db.transaction() as session:
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

    async def _writer(
        self, pages: asyncio.Queue[_Written | None], sent: dict[str, datetime]
    ) -> None:
        """Count the pages the campaigns' readers hand over, as many as are waiting at once
        (one transaction, each member's row updated once for all of them)."""
        closing = False
        while not closing:
            first = await pages.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < WRITE_BATCH:
                try:
                    item = pages.get_nowait()
                except asyncio.QueueEmpty:
                    break
                if item is None:
                    closing = True
                    break
                batch.append(item)
            try:
                async with self.writes, self.services.db.transaction() as session:
                    seen = await activity.apply_activity(
                        session, self.installation_id, [w.page for w in batch], sent
                    )
                    for written in batch:
                        await session.execute(
                            update(EngagementCampaign)
                            .where(EngagementCampaign.id == written.row_id)
                            .values(pass_offset=written.offset)
                        )
                    await _seen(session, self.installation_id, seen)
            except BaseException as exc:
                for written in batch:
                    written.done.set_exception(exc)
                raise
            self.figures.members_seen += seen
            for written in batch:
                written.done.set_result(None)

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
        offset = 0
        while True:
            page = await reads.members(list_id, since_last_changed=since, offset=offset)
            self.figures.mailchimp_pages += 1
            async with self.writes, self.services.db.transaction() as session:
                seen = await store.apply_members(
                    session, self.installation_id, list_id, page.members
                )
                await _seen(session, self.installation_id, seen)
                # Their statuses, for the newsletter capability (`statuses_seen.py`).
                statuses = [(m.email_address, m.status, m.last_changed) for m in page.members]
                await enqueue_statuses_seen(
                    session, self.installation_id, list_id, seen_statuses(statuses, statuses_since)
                )
            self.figures.members_seen += seen
            offset += len(page.members)
            if len(page.members) < MAX_PAGE or offset >= page.total_items:
                break
        cursors[list_id] = {"changed": now.isoformat(), "full": full.isoformat()}

    async def _customers(self, api_url: str, token: SecretStr, scan: list[_Range]) -> None:
        """Saleor customers changed since the last scan (all of them the first time), in
        `scan`'s ranges of `updatedAt`."""
        for since, until in scan:
            after: str | None = None
            while True:
                data = await self.services.saleor.execute(
                    api_url,
                    token,
                    "engagement_customers",
                    {
                        "first": CUSTOMER_PAGE,
                        "after": after,
                        "since": since.isoformat() if since else None,
                        "until": until.isoformat() if until else None,
                    },
                )
                answer = parse(CustomersAnswer, "engagement_customers", data)
                async with self.writes, self.services.db.transaction() as session:
                    await store.apply_customers(session, self.installation_id, answer.pairs())
                after = answer.next_cursor()
                if after is None:
                    break

    async def _campaign(
        self,
        reads: CampaignReads,
        gate: asyncio.Semaphore,
        pages: asyncio.Queue[_Written | None],
        row_id: int,
        now: datetime,
    ) -> None:
        """One campaign's activity since the last pass, then its report and attributed orders."""
        async with gate:
            async with self.services.db.session() as session:
                row = await session.get(EngagementCampaign, row_id)
                assert row is not None
                campaign_id = row.campaign_id
                start = row.activity_until
                # A pass interrupted by a failure resumes with its own window and position.
                resumed = row.pass_until is not None
                until = row.pass_until or now
                offset = row.pass_offset if resumed else 0
            if not resumed:
                async with self.writes, self.services.db.transaction() as session:
                    await session.execute(
                        update(EngagementCampaign)
                        .where(EngagementCampaign.id == row_id)
                        .values(pass_until=until, pass_offset=0)
                    )
            since = start - OVERLAP if start else None
            while True:
                page = await reads.email_activity(
                    campaign_id, since=since, offset=offset, count=ACTIVITY_PAGE
                )
                self.figures.mailchimp_pages += 1
                offset += len(page.emails)
                # The writer counts it with the pages of other campaigns read meanwhile.
                work = activity.ActivityPage(campaign_id, page.emails, start, until)
                written = _Written(row_id, work, offset)
                await pages.put(written)
                await written.done
                if len(page.emails) < ACTIVITY_PAGE or offset >= page.total_items:
                    break
            report = await reads.report(campaign_id)
            orders = []
            order_offset = 0
            while True:
                found = await reads.attributed_orders(campaign_id, offset=order_offset)
                orders += found.orders
                order_offset += len(found.orders)
                if len(found.orders) < MAX_PAGE or order_offset >= found.total_items:
                    break
            async with self.writes, self.services.db.transaction() as session:
                await store.apply_orders(session, self.installation_id, orders)
                row = await session.get(EngagementCampaign, row_id)
                assert row is not None
                store.apply_report(row, report)
                row.activity_until = until
                row.pass_until = None
                row.pass_offset = 0
                settings = await store.settings_row(session, self.installation_id)
                settings.campaigns_done = min(settings.campaigns_done + 1, settings.campaigns_total)


@dataclass
class _Written:
    """A page for the writer, and the future the campaign's reader waits on."""

    row_id: int
    page: activity.ActivityPage
    offset: int  # the campaign's position after it
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


async def _seen(session: AsyncSession, installation_id: int, members: int) -> None:
    """The run's visible progress: members read so far (in the page's own transaction)."""
    await session.execute(
        update(EngagementSettings)
        .where(EngagementSettings.installation_id == installation_id)
        .values(members_seen=EngagementSettings.members_seen + members)
    )


def _parse(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
