"""The stores' `is_syncing`, released before the connection lets go of the account that set it.

An initial sync marks its store syncing in Mailchimp, which holds the store's automations
(abandoned-cart e-mails, order notifications) until the sync clears it; a re-created store's
re-send does too (`ecommerce/resend.py`). Only that account's credentials reach the store, and
a reset removes them (`ConnectionService.reset`), another account connected replaces them
(`Linking.save`); no job run afterwards has them. So before either, the connection asks this
(`LET_GO`, `addon.connection.letting_go`) with the credentials still known. The syncs still
running end first (committed: they cannot go on without the credentials, and a step setting
the flag meanwhile clears it itself, `Step.flag_store`); then each store held (`holds`):

- when the account's data goes (another account, a reset forgetting it, an uninstall), the
  batches of its syncs Mailchimp may still run are stopped (`DELETE /batches/{batch_id}`), then
  the flag is cleared: the syncs and the re-send are dropped with the data;
- when it is kept (a reset keeping it), a store whose syncs have batches at Mailchimp, or whose
  re-send is still sending, stays held: cleared now, the batches would land with its
  automations on (notifications for old orders). Reconnecting the same account settles them,
  then clears it (`jobs._until_connected`; the re-send's watch, `resend.py`). Others are
  cleared now.

What stays held (kept for the reconnection, or Mailchimp refusing the credentials, revoked or
the account disabled, not answering within `RELEASE_SECONDS`, or a batch it may still run not
stoppable: one a send with an unknown outcome may have created, `holds.LostSendMayRun`) is
said plainly, store by store with what the owner can do: in the reset's or the switch's answer
and on the Activity page (`LEFT_NOTE`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import select

from addon.connection.letting_go import Leaving, LetGo
from addon.connection.service import REFUSED_CREDENTIALS
from addon.initial_sync.holds import (
    LEFT_NOTE,
    BatchesStillOut,
    Hold,
    LostSendMayRun,
    end_running,
    read_holds,
    stop_batches,
)
from addon.initial_sync.models import InitialSync
from addon.initial_sync.unknown import known_batches
from addon.jobs.repository import JobRepository
from addon.mailchimp import (
    MailchimpClient,
    MailchimpCredentials,
    MailchimpError,
    NotFound,
    StorePatch,
)
from addon.services import Services

logger = logging.getLogger(__name__)

# How long a reset or a switch waits for Mailchimp to clear the flags, all stores together:
# one that does not answer (down, throttling) must not hold the admin's request for long.
RELEASE_SECONDS = 10.0
STOPPED = (
    "Mailchimp is not connected: the connection was reset or another account connected while "
    "the sync ran, and it cannot go on without the credentials it used."
)
REFUSED = (
    "Mailchimp refused the credentials (revoked, or the account disabled) when the app let go "
    "of the account, so the app could not clear it."
)
UNANSWERED = "Mailchimp did not answer when the app let go of the account, so it is not cleared."
NO_CREDENTIALS = "the app no longer held the account's credentials (removed by an earlier reset)."
STILL_OUT = (
    "some of the initial sync's work may still reach Mailchimp (a batch to be sent again, or "
    "orders it handed over not sent yet), so it is not cleared: that work would send "
    "notifications for old orders."
)
LOST_SEND = (
    "Mailchimp did not answer when the initial sync sent it a batch, and may still run that "
    "batch, so it is not cleared: the batch would send notifications for old orders."
)
BATCHES_KEPT = (
    "the initial sync's batches are still at Mailchimp, and cleared now they would run with the "
    "store's automations on (order notifications for old orders)."
)
RESEND_KEPT = "the re-created store's records are still being sent to it again."
PUSHES_KEPT = (
    "records the initial sync handed over are still to be sent to it, and cleared now they "
    "would be sent with the store's automations on (order notifications for old orders)."
)
WAIT_FOR_RECONNECTION = (
    "It stays held until that Mailchimp account is connected here again: the app then settles "
    "what is left and clears it within minutes (for 30 days after the sync ended). Connecting "
    "another account instead leaves it held."
)


def _remedy(leaving: Leaving, store_id: str) -> str:
    if leaving is Leaving.UNINSTALLED:
        return (
            "To release it, clear it through Mailchimp's API (PATCH "
            f"/ecommerce/stores/{store_id} with is_syncing false)."
        )
    if leaving is Leaving.RESET_KEEPING_DATA:
        return (
            "Reconnect that Mailchimp account here: the app clears it within minutes (for 30 "
            "days after the sync ended)."
        )
    return (
        "To release it, connect that account again, track the channel in the same audience and "
        "run the initial sync (its end clears the flag), or clear it through Mailchimp's API "
        f"(PATCH /ecommerce/stores/{store_id} with is_syncing false)."
    )


def _released(hold: Hold, stopped: int) -> str:
    sentence = (
        f"Mailchimp store {hold.named} is no longer marked as syncing: its automations, held "
        "during the initial sync, run again."
    )
    if stopped:
        sentence += (
            f" The sync's {stopped} {'batch' if stopped == 1 else 'batches'} still at Mailchimp "
            f"{'was' if stopped == 1 else 'were'} stopped first."
        )
    return sentence


def left_sentence(hold: Hold, why: str, leaving: Leaving) -> str:
    return (
        f"Mailchimp store {hold.named} is still marked as syncing, so Mailchimp holds its "
        f"automations (abandoned-cart e-mails, order notifications): {why} "
        f"{_remedy(leaving, hold.store_id)}"
    )


def kept_sentence(hold: Hold) -> str:
    why = BATCHES_KEPT if hold.batches_out else RESEND_KEPT if hold.resending else PUSHES_KEPT
    return (
        f"Mailchimp store {hold.named} is still marked as syncing, so Mailchimp holds its "
        f"automations (abandoned-cart e-mails, order notifications): {why} "
        f"{WAIT_FOR_RECONNECTION}"
    )


async def _clear(
    client: MailchimpClient,
    holds: list[Hold],
    stop: bool,
    nothing_sent: bool,
    known: set[str],
) -> tuple[dict[str, int], dict[str, str]]:
    """Clear each store's flag, its syncs' batches stopped first when `stop` (`known`: the
    installation's batches, for the sends with an unknown outcome): the stores released
    (channel: batches stopped), and why the others were not (the first refusal or failure
    stops: the rest would fail alike)."""
    released: dict[str, int] = {}
    left: dict[str, str] = {}
    try:
        async with asyncio.timeout(RELEASE_SECONDS):
            for hold in holds:
                stopped = 0
                if stop:
                    try:
                        stopped = await stop_batches(
                            client, hold, nothing_sent=nothing_sent, known=known
                        )
                    except BatchesStillOut:
                        left[hold.channel] = STILL_OUT
                        continue
                    except LostSendMayRun:
                        left[hold.channel] = LOST_SEND
                        continue
                # A store deleted in Mailchimp meanwhile took its flag with it.
                with contextlib.suppress(NotFound):
                    await client.update_store(hold.store_id, StorePatch(is_syncing=False))
                released[hold.channel] = stopped
    except REFUSED_CREDENTIALS:
        why = REFUSED
    except (MailchimpError, TimeoutError):
        why = UNANSWERED
    else:
        return released, left
    return released, {**{h.channel: why for h in holds if h.channel not in released}, **left}


async def release_flags(
    services: Services,
    installation_id: int,
    credentials: MailchimpCredentials | None,
    leaving: Leaving,
) -> LetGo:
    """The answer to `LET_GO` (see the module docstring)."""
    ended = await end_running(services, installation_id, STOPPED)
    holds = await read_holds(services, installation_id, ended)
    if not holds:
        return LetGo()
    keeping = leaving is Leaving.RESET_KEEPING_DATA
    # Kept for the reconnection: what would land with the automations on waits for it.
    kept = [h for h in holds if keeping and (h.batches_out or h.resending or h.pushing)]
    to_clear = [h for h in holds if h not in kept]
    released: dict[str, int] = {}
    why: dict[str, str] = {h.channel: NO_CREDENTIALS for h in to_clear}
    if credentials is not None and to_clear:
        client = MailchimpClient(services.mailchimp, credentials)
        # An uninstall dropped the installation's waiting jobs and waited for its running ones.
        uninstalled = leaving is Leaving.UNINSTALLED
        known: set[str] = set()
        if any(hold.unknown_since is not None for hold in to_clear):
            async with services.db.session() as session:
                known = await known_batches(session, installation_id)
        released, why = await _clear(client, to_clear, not keeping, uninstalled, known)
    left = [
        (hold, left_sentence(hold, why[hold.channel], leaving))
        for hold in to_clear
        if hold.channel not in released
    ]
    left += [(hold, kept_sentence(hold)) for hold in kept]
    async with services.db.transaction() as session:
        if released:
            rows = await session.scalars(
                select(InitialSync)
                .where(
                    InitialSync.installation_id == installation_id,
                    InitialSync.channel_slug.in_(released),
                    InitialSync.store_flagged.is_(True),
                )
                .with_for_update()
            )
            for row in rows:
                row.store_flagged = False
        jobs = JobRepository(session)
        # An uninstall's are logged only: its Activity page is erased next.
        noted = [] if leaving is Leaving.UNINSTALLED else left
        for hold, sentence in noted:
            payload = {"channel": hold.channel, "store_id": hold.store_id}
            await jobs.record_note(installation_id, LEFT_NOTE, payload, sentence)
    for hold, _ in left:
        logger.warning(
            "Installation %s let go of its Mailchimp account with store %s still syncing",
            installation_id,
            hold.store_id,
        )
    undone = [_released(h, released[h.channel]) for h in holds if h.channel in released]
    return LetGo(
        undone=undone,
        left=[sentence for _, sentence in left],
        may_pass=any(why.get(hold.channel) in (UNANSWERED, LOST_SEND) for hold, _ in left),
    )
