"""A collection that fails: the run's error is the service's own, and its retry resumes."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select, update

from addon.engagement import metadata, repository
from addon.engagement.jobs import BUSY_RETRY_SECONDS, COLLECT_JOB, PERIODIC_KEY, schedule
from addon.engagement.metadata import SUMMARY_KEY
from addon.jobs.models import Job, JobStatus
from addon.jobs.statements import in_state
from addon.jobs.worker import Worker
from sandboxes.mailchimp.campaign_state import remove_campaign
from tests.engagement.conftest import ALICE, BOB, Engagement, FailingNth


async def _error(e: Engagement) -> tuple[str, str | None]:
    async with e.services.db.session() as session:
        run = await repository.run_status(session, e.installation_id)
    return run.state, run.last_error


async def test_a_failed_write_fails_the_run_with_saleors_error_and_the_retry_writes_the_rest(
    e: Engagement, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages of 8 customers, one request at a time: the third request (the second page's
    first) fails. The run's error is Saleor's; its retry writes the second and third pages,
    not the first, which was marked written when its last request was answered."""
    monkeypatch.setattr(metadata, "REQUESTS_AT_ONCE", 1)
    monkeypatch.setattr(metadata, "PAGE", 8)
    await e.readers(22)  # with Alice and Bob: 24 customers, three pages
    e.send("Big news", e.at(days=-1))
    e.outbound.inner = FailingNth(e.outbound.inner, b"updatePrivateMetadata", 3)

    await e.collect()

    state, error = await _error(e)
    assert state == "running"
    assert error is not None and error.startswith("Saleor did not answer as expected"), error
    first = e.metadata_writes()  # the first page, and the 4 of the request that failed
    assert len(first) == 12

    e.clock.advance(3600)
    await Worker(e.services).run_until_idle()

    assert await _error(e) == ("idle", None)
    retried = e.metadata_writes()[len(first) :]
    assert len(retried) == 16 and not set(first[:8]) & set(retried)
    assert set(first + retried) == {c.global_id for c in e.customers.values()}
    for email in e.customers:
        assert json.loads(e.private(email)[SUMMARY_KEY])["campaigns_received"] == 1


async def test_a_failed_read_fails_the_run_with_mailchimps_error(e: Engagement) -> None:
    """Campaigns are read side by side: the run's error is Mailchimp's, not a group's."""
    e.send("Big news", e.at(days=-1))
    # A 400: the client retries a 5xx itself, after a wait on the test's clock.
    e.outbound.inner = FailingNth(e.outbound.inner, b"/email-activity", 1, 400)

    await e.collect()

    state, error = await _error(e)
    assert state == "running"
    assert error is not None and error.startswith("Mailchimp did not answer as expected"), error


async def test_the_periodic_run_and_one_asked_for_now_due_together_run_one_after_the_other(
    e: Engagement,
) -> None:
    """Both jobs are claimed in one round: one takes the run, the other waits its turn (before,
    each saw the other running and both were put off, for ever)."""
    campaign = e.send("Big news", e.at(days=-1))
    e.activity(campaign, (ALICE, "open", e.at(hours=-2)))
    await Worker(e.services).run_until_idle()  # the run the audience's import asked for
    async with e.services.db.transaction() as session:
        await session.execute(
            update(Job)
            .where(Job.coalesce_key == PERIODIC_KEY, in_state(JobStatus.PENDING))
            .values(run_after=e.clock.now())
        )
        await schedule(session, e.installation_id, now=True)

    await Worker(e.services).run_until_idle()

    async with e.services.db.session() as session:
        run = await repository.run_status(session, e.installation_id)
        waiting = list(
            await session.scalars(
                select(Job.last_error).where(Job.kind == COLLECT_JOB, in_state(JobStatus.PENDING))
            )
        )
    assert (run.state, run.last_error) == ("idle", None) and run.last_finished_at is not None
    assert "Another engagement collection is running" in waiting
    assert json.loads(e.private(ALICE)[SUMMARY_KEY])["opens"] == 1

    # The one put off runs a minute later, or, if it is the periodic one, the run just made
    # moved it a schedule's length away. Nothing is left putting itself off.
    e.clock.advance(BUSY_RETRY_SECONDS)
    await Worker(e.services).run_until_idle()

    async with e.services.db.session() as session:
        run = await repository.run_status(session, e.installation_id)
        due = await session.scalar(
            select(func.count()).where(
                Job.kind == COLLECT_JOB,
                in_state(JobStatus.PENDING),
                Job.run_after <= e.clock.now(),
            )
        )
    assert (run.state, due) == ("idle", 0)
    assert json.loads(e.private(ALICE)[SUMMARY_KEY])["opens"] == 1  # counted once


async def test_one_failed_read_among_campaigns_read_side_by_side_is_the_runs_error(
    e: Engagement,
) -> None:
    """The other readers are cancelled while their pages wait on the writer: the run still
    fails with Mailchimp's error, not the writer's with a cancelled reader's."""
    campaigns = [e.send(f"News {i}", e.at(days=-1, minutes=i)) for i in range(8)]
    for campaign in campaigns:
        e.activity(campaign, (ALICE, "open", e.at(hours=-2)), (BOB, "click", e.at(hours=-2)))
    marker = f"/reports/{campaigns[-1]}/email-activity".encode()
    e.outbound.inner = FailingNth(e.outbound.inner, marker, 1, 400)

    await e.collect()

    state, error = await _error(e)
    assert state == "running"
    assert error is not None and error.startswith("Mailchimp did not answer as expected"), error


@pytest.mark.parametrize("when", ["before the run", "while it runs"])
async def test_a_campaign_deleted_in_mailchimp_is_left_as_it_was_counted(
    e: Engagement, when: str
) -> None:
    gone = e.send("Deleted later", e.at(days=-2))
    e.activity(gone, (ALICE, "open", e.at(days=-1)))
    await e.collect()
    e.clock.advance(3600)
    fresh = e.send("New season", e.at(minutes=-50))
    e.activity(fresh, (BOB, "click", e.at(minutes=-30)))
    if when == "before the run":
        remove_campaign(e.shop.mailchimp, e.shop.account, gone)
    else:  # listed by the run, gone when its activity is read
        marker = f"/reports/{gone}/email-activity".encode()
        e.outbound.inner = FailingNth(e.outbound.inner, marker, 1, 404)

    read_before = len(e.activity_reads())
    await e.collect()

    assert await _error(e) == ("idle", None)
    gone_reads = [url for url in e.activity_reads()[read_before:] if gone in url]
    # Not listed any more, not asked for (listed by the run, asked once).
    assert len(gone_reads) == (0 if when == "before the run" else 1)
    assert json.loads(e.private(BOB)[SUMMARY_KEY])["clicks"] == 1
    assert json.loads(e.private(ALICE)[SUMMARY_KEY])["opens"] == 1  # what was counted stays
