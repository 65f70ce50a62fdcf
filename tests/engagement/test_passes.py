"""Passes of a collection against the sandboxes: activity Mailchimp lists while a pass pages is
counted once across passes, and a run put off while another ran starts its progress afresh."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import delete, select, update

from addon.engagement import campaign_passes, repository
from addon.engagement.jobs import COLLECT_JOB, schedule
from addon.engagement.models import EngagementSettings, RunState
from addon.jobs.models import Job, JobStatus
from addon.jobs.worker import Worker
from tests.engagement.conftest import ALICE, BOB, GUEST, Engagement


class _BetweenPages(httpx.AsyncBaseTransport):
    """Passes requests on; once armed, runs `then` after the answer to the first page of an
    incremental (`since`) e-mail activity read, before the app asks for the next page."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.then: Callable[[], None] | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        params = request.url.params
        first_page = params.get("offset") == "0" and "since" in params
        if self.then and request.url.path.endswith("/email-activity") and first_page:
            then, self.then = self.then, None
            then()
        return response


async def _opens_clicks(e: Engagement, email: str) -> tuple[int, int]:
    async with e.services.db.session() as session:
        found = await repository.customer_engagement(
            session, e.installation_id, e.customers[email].global_id
        )
    assert found is not None
    return found.opens, found.clicks


async def test_activity_listed_while_a_pass_pages_is_counted_once(
    e: Engagement, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Paged by offset, "activity since" grows while it is read: Alice's open, stamped before
    the pass's end but listed after its first page, lands before that page's position (she was
    sent the campaign first) and the pass misses her. The next pass reads from a margin before
    the previous end and counts her open; Bob's open, read by both passes (and twice by the
    first, shifted by Alice), is counted once."""
    monkeypatch.setattr(campaign_passes, "ACTIVITY_PAGE", 1)
    between = _BetweenPages(e.outbound.inner)
    monkeypatch.setattr(e.outbound, "inner", between)
    campaign = e.send("Flash sale", e.at(days=-1))
    e.activity(campaign, (BOB, "open", e.at(hours=-3)))
    await e.collect()  # the first pass: every recipient

    e.clock.advance(3600)
    e.activity(campaign, (BOB, "open", e.at(minutes=-1)), (GUEST, "click", e.at(minutes=-20)))
    between.then = lambda: e.activity(campaign, (ALICE, "open", e.at(seconds=-10)))
    reads = len(e.activity_reads())
    await e.collect()
    assert between.then is None  # Alice's open was listed between two pages
    assert len(e.activity_reads()[reads:]) == 3  # Bob, Bob again (shifted), the guest
    assert await _opens_clicks(e, ALICE) == (0, 0)  # missed by this pass
    assert await _opens_clicks(e, BOB) == (2, 0)

    e.clock.advance(3600)
    await e.collect()
    assert await _opens_clicks(e, ALICE) == (1, 0)
    assert await _opens_clicks(e, BOB) == (2, 0)  # not counted again

    e.clock.advance(3600)
    await e.collect()  # nothing new: nothing counted
    async with e.services.db.session() as session:
        days = await repository.daily_activity(
            session, e.installation_id, sent_from=None, sent_to=None
        )
        [row] = await repository.campaign_rows(
            session, e.installation_id, sent_from=None, sent_to=None
        )
    assert (sum(d.opens for d in days), sum(d.clicks for d in days)) == (3, 1)
    assert (row.opens, row.clicks) == (3, 1)  # Mailchimp's report says the same
    assert await _opens_clicks(e, ALICE) == (1, 0) and await _opens_clicks(e, BOB) == (2, 0)


async def test_a_run_put_off_while_another_ran_starts_afresh(e: Engagement) -> None:
    """A run that finds another running is put off (a wait, not counted as an attempt); when
    it runs, its progress starts from nothing, not from the other run's."""
    campaign = e.send("News", e.at(days=-1))
    e.activity(campaign, (ALICE, "open", e.at(hours=-2)))
    await e.collect()
    async with e.services.db.transaction() as session:
        other = Job(  # another collection, holding its lease and the run, with its progress
            installation_id=e.installation_id,
            kind=COLLECT_JOB,
            payload={},
            status=JobStatus.RUNNING,
            attempts=1,
            locked_by="another-worker",
            locked_until=e.at(minutes=30),
        )
        session.add(other)
        await session.flush()
        await session.execute(
            update(EngagementSettings)
            .where(EngagementSettings.installation_id == e.installation_id)
            .values(
                state=RunState.RUNNING,
                campaigns_done=1,
                campaigns_total=1,
                members_seen=1000,
                run_job_id=other.id,
            )
        )
        await schedule(session, e.installation_id, now=True)
    await Worker(e.services).run_until_idle()  # put off: the other one runs

    async with e.services.db.transaction() as session:  # the other one ends
        await session.execute(delete(Job).where(Job.locked_by == "another-worker"))
        await session.execute(
            update(EngagementSettings)
            .where(EngagementSettings.installation_id == e.installation_id)
            .values(state=RunState.IDLE)
        )
    e.clock.advance(61)
    e.activity(campaign, (BOB, "open", e.at(minutes=-1)))  # something for it to see
    await Worker(e.services).run_until_idle()

    async with e.services.db.session() as session:
        attempts = await session.scalar(
            select(Job.attempts).where(Job.kind == COLLECT_JOB, Job.status == JobStatus.DONE)
            .order_by(Job.id.desc()).limit(1)
        )  # fmt: skip
        run = await repository.run_status(session, e.installation_id)
    assert attempts == 1  # the put-off one: its wait was not counted
    assert (run.state, run.campaigns_done, run.campaigns_total) == ("idle", 1, 1)
    assert 0 < run.members_seen < 1000
