"""A batch submission whose outcome is unknown (`create_batch` raised `OutcomeUnknown`): whether
a batch it may have created can still run at Mailchimp.

Mailchimp runs batches asynchronously, sometimes minutes after it accepted them, so a batch
created by a send whose answer was lost may still write its (older) content. Its id is not
known, but every batch Mailchimp received is listed by ``GET /batches`` with its status and
``submitted_at``. It may still run while the list shows an unfinished batch (pending,
preprocessing, started, finalizing) submitted at or after the send began that is none of the
caller's known batches; once there is none, whatever the lost send created has finished (or
never was), and a newer push lands after anything it wrote.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from .client_batches import BatchCalls

__all__ = ["CLOCK_SKEW", "may_still_run"]

# `submitted_at` is Mailchimp's clock (to the second), the send's start the app's: a batch
# submitted this long before the send began still counts (holding longer only delays).
CLOCK_SKEW = timedelta(minutes=5)


async def may_still_run(client: BatchCalls, since: datetime, known: Collection[str] = ()) -> bool:
    """Whether Mailchimp lists an unfinished batch, submitted at or after `since` (less
    `CLOCK_SKEW`), whose id is not in `known` (batches the caller submitted and follows)."""
    start = since - CLOCK_SKEW
    async for batch in client.batches():
        if not batch.unfinished or batch.id in known:
            continue
        submitted = batch.submitted
        if submitted is None or submitted >= start:
            return True  # when it was submitted is not said: it may be the one
    return False
