"""An ended initial sync (cancelled, failed) settles the batches it sent before it lets go of
the store's `is_syncing`.

Mailchimp runs an account's batches one at a time, so one sent may run minutes later. Left
unwatched, it lands its content whenever it runs: over a live push made since (a name changed,
a product deleted and hidden), with the ledger saying synced. So the step of an ended sync
sends nothing new and goes on looking at what it sent, as a running sync's step does
(`polling`): a finished batch is applied (`applier.apply`: a record pushed live since its page
was read is pushed live again), one whose sending had an unknown outcome is looked for
(`unknown.look`). A batch that cannot be watched to its end goes to live sync
(`applier.hand_over`): one Mailchimp no longer has, one queued (never sent, or one whose lost
sending may have run unseen), one held longer than `INITIAL_SYNC_BATCH_WAIT_SECONDS`. Its
pushes, like every push a sync hands over, go while `is_syncing` still holds back the store's
automations (`handoff`).
"""

from __future__ import annotations

from addon.db.types import utcnow
from addon.initial_sync import applier, polling
from addon.initial_sync import unknown as unknown_batches
from addon.initial_sync.models import BatchStatus
from addon.initial_sync.state import Flight, Snapshot, batch_expected
from addon.mailchimp import MailchimpClient
from addon.services import Services


async def settle(
    services: Services, client: MailchimpClient, run: Snapshot, flights: list[Flight]
) -> float:
    """One look at the ended sync's unsettled batches (`flights`, not empty): how long until
    the next one."""
    settings = services.settings
    now = utcnow()
    watched: list[Flight] = []
    for flight in flights:
        held = flight.status is not BatchStatus.QUEUED
        if held and batch_expected(settings, flight.submitted_at, now):
            watched.append(flight)
        else:
            await applier.hand_over(services, run.id, flight)

    def due(status: BatchStatus) -> list[Flight]:
        return [
            f
            for f in watched
            if f.status is status and (f.next_poll_at is None or f.next_poll_at <= now)
        ]

    answers = await polling.poll(client, due(BatchStatus.SUBMITTED))
    await polling.settle(services, client, run.id, answers)
    looked = due(BatchStatus.UNKNOWN)
    if looked:
        await unknown_batches.look(services, client, (run.installation_id, run.id), looked)
    if answers.limited is not None:
        return polling.wait(settings, answers.limited)
    # The next look: the earliest poll planned (read afresh by the next step); at once when
    # this one settled or handed over something (what is left is read again then).
    pending = [f for f in watched if f.next_poll_at is not None and f.next_poll_at > now]
    if len(pending) < len(flights):
        return 0.0
    return max((min(f.next_poll_at or now for f in pending) - now).total_seconds(), 0.0)
