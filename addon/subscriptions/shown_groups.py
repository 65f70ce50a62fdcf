"""Customers written again when the groups shown to contacts change: the audiences' event
(`addon/audiences/shown_groups.py`) names an audience and the interests shown before and not
now (or the reverse), and each contact in one of them has its status written back, so that its
customer's public metadata lists what Mailchimp's profile page would show it (`writeback`).

The contacts are taken a page at a time (`PAGE` of them, by id), each page's write-backs due at
once and the next page as much later as they take at `WRITES_PER_SECOND`
(`SHOWN_GROUPS_REWRITE`, no lane): jobs are taken oldest due first
(`jobs.statements.claim_statement`), so the write-backs of a large group all queued at once
(every customer in a group, at the one-time rewrite) would hold the store's live changes behind
them; and one queued for later in a contact's lane would hold that contact's own changes (a
leaving, an erasure) until its time (`jobs.statements.lane_busy`)."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from addon.audiences.shown_groups import ShownGroupsChanged
from addon.db.types import utcnow
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob
from addon.services import Services
from addon.subscriptions.models import ContactState
from addon.subscriptions.writeback import status_write_job

logger = logging.getLogger(__name__)

SHOWN_GROUPS_REWRITE = "subscriptions.shown_groups_rewrite"
PAGE = 50
WRITES_PER_SECOND = 10  # about 17 minutes for 10,000 customers in a changed group


class ShownGroupsRewrite(ShownGroupsChanged):
    """The rest of an audience's contacts to write again: those after id `after`."""

    after: int


async def handle_shown_groups_changed(
    job: ClaimedJob, event: ShownGroupsChanged, services: Services
) -> None:
    await handle_shown_groups_rewrite(
        job, ShownGroupsRewrite(**event.model_dump(), after=0), services
    )


async def handle_shown_groups_rewrite(
    job: ClaimedJob, page: ShownGroupsRewrite, services: Services
) -> None:
    """One page of the audience's contacts: those in a changed interest written again."""
    changed = set(page.interest_ids)
    async with services.db.transaction() as session:
        rows = (
            await session.execute(
                select(ContactState.id, ContactState.email, ContactState.interests)
                .where(
                    ContactState.installation_id == job.installation_id,
                    ContactState.list_id == page.list_id,
                    ContactState.id > page.after,
                )
                .order_by(ContactState.id)
                .limit(PAGE)
            )
        ).all()
        emails = sorted({email for _, email, interests in rows if changed & set(interests or ())})
        jobs = JobRepository(session)
        await jobs.enqueue_coalesced([status_write_job(job.installation_id, e) for e in emails])
        if len(rows) == PAGE:
            # Paced by the write-backs queued, not the contacts read: a page of none goes on
            # at once (a small group in a large audience is not hours of pages).
            rest = page.model_copy(update={"after": rows[-1].id})
            await jobs.enqueue(
                job.installation_id,
                SHOWN_GROUPS_REWRITE,
                rest.model_dump(),
                run_after=utcnow() + timedelta(seconds=len(emails) / WRITES_PER_SECOND),
            )
    logger.info(
        "Groups shown to contacts changed in audience %s: %d customer(s) written again",
        page.list_id,
        len(emails),
    )
