"""How a failed push is retried and shown: the worker's policy for `ecommerce.push` jobs, and
its decision mirrored on the ledger record (attempts, Mailchimp's reason, next attempt, or
quarantine) in the transaction that writes the job's outcome.
"""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from addon.ecommerce.burst_release import release_led
from addon.ecommerce.catalog import DependencyFailed
from addon.ecommerce.models import SyncStatus
from addon.ecommerce.push_request import PushRequest
from addon.ecommerce.repository import LedgerRepository
from addon.jobs.retry import Failure, RetryPolicy
from addon.jobs.schemas import ClaimedJob
from addon.mailchimp import FieldError, MailchimpError
from addon.saleor.client import SaleorError

# Transient errors and 429s back off and retry; after ECOMMERCE_MAX_ATTEMPTS the job and its
# record are quarantined with Mailchimp's reason. Other records have their own jobs.
PUSH_RETRY = RetryPolicy(
    max_attempts=lambda settings: settings.ecommerce_max_attempts,
    expected=(MailchimpError, SaleorError, DependencyFailed),
)


# What stands for an address cut out of Mailchimp's answer (`without_address`).
ADDRESS_CUT = "[the customer's address]"


def without_address(error: MailchimpError, address: str | None) -> MailchimpError:
    """`error` with `address` cut out of what Mailchimp answered (whatever its case), before
    the worker records its text on the job and the ledger record (`record_failure`): Mailchimp
    quotes the address in some refusals ("... was permanently deleted and cannot be
    re-imported", `ForgottenEmailNotSubscribed`), one of a customer who may have been erased,
    and Activity shows the text to every admin."""
    if not address:
        return error
    pattern = re.compile(re.escape(address), re.IGNORECASE)
    error.title = pattern.sub(ADDRESS_CUT, error.title)
    error.detail = pattern.sub(ADDRESS_CUT, error.detail)
    error.errors = tuple(
        FieldError(e.field, pattern.sub(ADDRESS_CUT, e.message)) for e in error.errors
    )
    error.args = (str(error),)
    return error


async def record_failure(
    session: AsyncSession, job: ClaimedJob, request: PushRequest, failure: Failure
) -> None:
    """The worker's decision about a failed push, shown on its ledger record; given up, what
    it took over as a burst's leader goes back (no rerun of it will)."""
    record = await LedgerRepository(session).get_or_create(
        job.installation_id, request.channel, request.kind, request.saleor_id
    )
    if failure.gave_up:
        # First: it locks this record with those it hands back, in id order.
        await release_led(session, job, keep=request)
    record.attempts = failure.attempts
    record.last_error = failure.reason
    record.status = SyncStatus.QUARANTINED if failure.gave_up else SyncStatus.PENDING
    record.next_attempt_at = failure.retry_at
