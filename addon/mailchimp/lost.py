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

__all__ = ["CLOCK_SKEW", "may_be_among", "may_still_run", "unfinished_unknown"]

# `submitted_at` is Mailchimp's clock (to the second), the send's start the app's: a batch
# submitted this long before the send began still counts (holding longer only delays).
CLOCK_SKEW = timedelta(minutes=5)


async def unfinished_unknown(
    client: BatchCalls, known: Collection[str] = ()
) -> list[datetime | None]:
    """When each unfinished batch Mailchimp lists whose id is not in `known` (batches the
    caller submitted and follows) was submitted (None: not said)."""
    return [
        batch.submitted
        async for batch in client.batches()
        if batch.unfinished and batch.id not in known
    ]


def may_be_among(unfinished: list[datetime | None], since: datetime) -> bool:
    """Whether one of these batches (`unfinished_unknown`) may be what a send begun at `since`
    created: submitted at or after it, less `CLOCK_SKEW` (or when is not said)."""
    start = since - CLOCK_SKEW
    return any(submitted is None or submitted >= start for submitted in unfinished)


async def may_still_run(client: BatchCalls, since: datetime, known: Collection[str] = ()) -> bool:
    """Whether Mailchimp lists an unfinished batch, submitted at or after `since` (less
    `CLOCK_SKEW`), whose id is not in `known`."""
    return may_be_among(await unfinished_unknown(client, known), since)
