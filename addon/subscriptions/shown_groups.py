"""Customers written again when the groups shown to contacts change: the audiences' event
(`addon/audiences/shown_groups.py`) names an audience and the interests shown before and not
now (or the reverse), and each contact in one of them has its status written back, so that its
customer's public metadata lists what Mailchimp's profile page would show it (`writeback`)."""

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

# The write-backs are due a few a second, one after the other: jobs are taken oldest due first
# (`jobs.statements.claim_statement`), and due at once the customers of a large group (every
# customer in a group, at the one-time rewrite) would hold the store's live changes behind
# them. 10,000 customers take about seventeen minutes.
WRITES_PER_SECOND = 10


async def handle_shown_groups_changed(
    job: ClaimedJob, event: ShownGroupsChanged, services: Services
) -> None:
    changed = set(event.interest_ids)
    async with services.db.transaction() as session:
        contacts = await session.execute(
            select(ContactState.email, ContactState.interests).where(
                ContactState.installation_id == job.installation_id,
                ContactState.list_id == event.list_id,
            )
        )
        emails = sorted({email for email, interests in contacts if changed & set(interests or ())})
        start = utcnow()
        writes = [
            status_write_job(job.installation_id, email)._replace(
                run_after=start + timedelta(seconds=index / WRITES_PER_SECOND)
            )
            for index, email in enumerate(emails)
        ]
        # One statement for them all (a group of a large audience may hold thousands).
        await JobRepository(session).enqueue_coalesced(writes)
    logger.info(
        "Groups shown to contacts changed in audience %s: %d customer(s) to write again",
        event.list_id,
        len(emails),
    )
