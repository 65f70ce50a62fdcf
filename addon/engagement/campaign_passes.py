"""A collection run's passes over its campaigns (`collector.py`): each campaign's e-mail activity
since its last pass, read page by page, then its report and attributed orders; campaigns read side
by side, their pages counted by one writer.

A campaign's page is written before its next one is read, so memory holds at most one page per
campaign being read whatever the audience's size. The writer counts the pages waiting, of several
campaigns, in one transaction (each member's row updated once for all), so pages never contend
for the same rows, and a retried run resumes at each campaign's last written page. A campaign
deleted in Mailchimp since it was listed is left as it was counted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from addon.engagement import activity, store
from addon.engagement.metadata import Written
from addon.engagement.models import EngagementCampaign, EngagementSettings
from addon.mailchimp import NotFound, subscriber_hash
from addon.mailchimp.campaigns import MAX_PAGE, CampaignReads, OutreachOrder
from addon.services import Services

logger = logging.getLogger(__name__)

# How far before the previous pass's end a pass reads (`collector.py` says why): events listed up
# to this late are counted. (`since` is exclusive and to the second: at least a second.)
OVERLAP = timedelta(minutes=15)
ACTIVITY_PAGE = MAX_PAGE  # recipients a page of e-mail activity
# Recipients each page of e-mail activity reads again of the one before (at most half of it).
# Offset paging over a list that shrinks: a contact deleted in Mailchimp while the pages are
# read takes its activity with it (Fivetran's Mailchimp connector: "When you delete a list
# member in Mailchimp, their activity (sent, open, click, bounce) is deleted as well"), and every
# later recipient moves back a place; without this, the one at the page boundary would never be
# read. Those read again are counted once (`activity.ActivityPage.repeated`).
PAGE_OVERLAP = 25
ORDER_PAGE = MAX_PAGE  # attributed orders a page
WRITE_BATCH = 20  # pages counted in one transaction at most


@dataclass
class RunFigures:
    mailchimp_pages: int = 0
    members_seen: int = 0
    written: Written | None = None


@dataclass
class _Written:
    """A page for the writer, and the future the campaign's reader waits on."""

    row_id: int
    page: activity.ActivityPage
    offset: int  # the campaign's position after it (a retried run resumes there)
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class CampaignPasses:
    """`read` each campaign (at most `readers` at once) inside `writing()`, which runs the
    writer. `sent`: each campaign's send time, by id (`activity.apply_activity`)."""

    def __init__(
        self,
        services: Services,
        installation_id: int,
        writes: asyncio.Lock,
        figures: RunFigures,
        sent: dict[str, datetime],
        *,
        readers: int,
    ) -> None:
        self.services, self.installation_id = services, installation_id
        self.writes, self.figures, self.sent = writes, figures, sent
        self.gate = asyncio.Semaphore(readers)
        self.pages: asyncio.Queue[_Written | None] = asyncio.Queue()

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[None]:
        writer = asyncio.create_task(self._write())
        try:
            yield
        except BaseException:
            # The run fails with what failed first (a Mailchimp refusal, a 429's wait): the
            # writer's own failure, if any, was handed to a reader and is that one.
            await self.pages.put(None)
            await asyncio.gather(writer, return_exceptions=True)
            raise
        await self.pages.put(None)
        await writer

    async def read(
        self, reads: CampaignReads, row_id: int, now: datetime, *, closing: bool = False
    ) -> None:
        """One campaign's activity since the last pass, then its report and attributed orders;
        `closing`: its last pass, counting up to `now`, its interval's end."""
        async with self.gate:
            try:
                await self._pass(reads, row_id, now)
            except NotFound:
                # Deleted in Mailchimp since it was listed: what was counted of it stays, and
                # the next run no longer lists it. The pass keeps its window and position: a
                # campaign listed again (a 404 of a moment) resumes there, counting no page
                # twice (a pass started afresh would count its recipients as received again).
                # A closing pass is not tried again: the campaign is left as counted.
                logger.warning("Campaign row %s is gone from Mailchimp: not read", row_id)
                async with self.writes, self.services.db.transaction() as session:
                    if closing:
                        await store.close_campaign(session, row_id, now)
                    await self._one_done(session)

    async def _pass(self, reads: CampaignReads, row_id: int, now: datetime) -> None:
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
        # A retried run resumes where the last page written ended, without an overlap: what it
        # would read again is not known to be counted.
        repeated: frozenset[str] = frozenset()
        while True:
            page = await reads.email_activity(
                campaign_id, since=since, offset=offset, count=ACTIVITY_PAGE
            )
            self.figures.mailchimp_pages += 1
            end = offset + len(page.emails)
            # The writer counts it with the pages of other campaigns read meanwhile.
            work = activity.ActivityPage(campaign_id, page.emails, start, until, repeated)
            written = _Written(row_id, work, end)
            await self.pages.put(written)
            await written.done
            if len(page.emails) < ACTIVITY_PAGE or end >= page.total_items:
                break
            back = min(PAGE_OVERLAP, len(page.emails) // 2)
            offset = end - back
            repeated = frozenset(subscriber_hash(r.email_address) for r in page.emails[-back:])
        report = await reads.report(campaign_id)
        orders: dict[tuple[str, str], OutreachOrder] = {}
        order_offset = 0
        while True:
            found = await reads.attributed_orders(
                campaign_id, offset=order_offset, count=ORDER_PAGE
            )
            orders.update(((o.store_id, o.id), o) for o in found.orders)
            end = order_offset + len(found.orders)
            if len(found.orders) < ORDER_PAGE or end >= found.total_items:
                break
            # Each page overlaps the last (as the activity's): an order deleted meanwhile moves
            # the rest back, and the one at the page's edge, missed, would be taken for one no
            # longer the campaign's (`store.apply_orders`).
            order_offset = end - min(PAGE_OVERLAP, len(found.orders) // 2)
        async with self.writes, self.services.db.transaction() as session:
            # All its pages were read (a failure above writes none): orders no longer listed
            # are no longer the campaign's.
            await store.apply_orders(
                session, self.installation_id, campaign_id, list(orders.values())
            )
            row = await session.get(EngagementCampaign, row_id)
            assert row is not None
            store.apply_report(row, report)
            row.activity_until = until
            row.pass_until = None
            row.pass_offset = 0
            await self._one_done(session)

    async def _one_done(self, session: AsyncSession) -> None:
        settings = await store.settings_row(session, self.installation_id)
        settings.campaigns_done = min(settings.campaigns_done + 1, settings.campaigns_total)

    async def _write(self) -> None:
        """Count the pages the campaigns' readers hand over, as many as are waiting at once
        (one transaction, each member's row updated once for all of them)."""
        closing = False
        while not closing:
            first = await self.pages.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < WRITE_BATCH:
                try:
                    item = self.pages.get_nowait()
                except asyncio.QueueEmpty:
                    break
                if item is None:
                    closing = True
                    break
                batch.append(item)
            try:
                async with self.writes, self.services.db.transaction() as session:
                    seen = await activity.apply_activity(
                        session, self.installation_id, [w.page for w in batch], self.sent
                    )
                    for written in batch:
                        await session.execute(
                            update(EngagementCampaign)
                            .where(EngagementCampaign.id == written.row_id)
                            .values(pass_offset=written.offset)
                        )
                    await count_seen(session, self.installation_id, seen)
            except BaseException as exc:
                for written in batch:
                    if not written.done.done():  # its reader may have been cancelled
                        written.done.set_exception(exc)
                raise
            self.figures.members_seen += seen
            for written in batch:
                if not written.done.done():
                    written.done.set_result(None)


async def count_seen(session: AsyncSession, installation_id: int, members: int) -> None:
    """The run's visible progress: members read so far (in the page's own transaction)."""
    await session.execute(
        update(EngagementSettings)
        .where(EngagementSettings.installation_id == installation_id)
        .values(members_seen=EngagementSettings.members_seen + members)
    )
