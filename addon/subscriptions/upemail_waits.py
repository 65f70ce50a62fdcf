"""A Mailchimp audience event received while the app is not connected to the account (an admin
reset the connection, or Mailchimp refuses its credentials): the webhook still reaches the app,
but applying the event needs a member read (`mailchimp_hooks.handle_event`).

An address change (`upemail`) waits for the reconnection, as owed work does
(`addon.connection.reconnect`: tried again every `RECONNECT_RETRY_SECONDS`, given up after
`RECONNECT_WAIT`): nothing else would bring it, since the engagement collection's member reads
(`statuses_seen`) look the contact up at its old address and find nobody there. Dropped, the
contact would stay at the old address for good, its customer's status and consents no longer
following Mailchimp. It waits in the contact's lane, so the contact's later jobs there (a
withdrawal sent on from its wait for this very move, `awaiting_move`, made after the change
was received) run after it and follow the contact where it moved (`follow.followed`). Connected
again to the same account, it is applied at once (`WAITING_ADDRESS_CHANGES`, made due by the
reconnection as owed work is), the contact's jobs behind it with it; to another account, it is
dropped as an event of an audience the store no longer has (`handle_event`: that account's
data, its audiences too, were forgotten). It does not hold up connecting another account, as a
shopper's withdrawal does (`owed_withdrawals`): it is news for the store, owed to no one in that
account (`OwedKind.blocks_switch`).

The other events do not wait. A subscribe, unsubscribe or clean changes the member's status,
which the member reads bring once connected (the contact is still at its address); an
unsubscribe or a clean received once is applied at once anyway, on the event's word. A profile
change (fields, groups, consents) is not brought back by them, but waiting, it would hold the
contact's lane (a later unsubscribe's word with it) for as long as the account is away; the
member's next profile change brings its fields again.
"""

from __future__ import annotations

from addon.connection.reconnect import (
    RECONNECT_RETRY_SECONDS,
    RECONNECT_WAIT,
    gave_up_reconnecting,
)
from addon.jobs.schemas import ClaimedJob, RetryLater
from addon.services import Services
from addon.subscriptions.schemas import MailchimpEvent

WAITING_FOR_CONNECTION = (
    "Waits for Mailchimp to be connected again: the contact changed their address in Mailchimp, "
    "and the store does not follow it yet"
)
NOT_CONNECTED = "Mailchimp is not connected"
GAVE_UP = f"Mailchimp was not connected again within {RECONNECT_WAIT.days} days"


def waits_for_connection(event: MailchimpEvent) -> bool:
    """An address change received once (a body seen before is a retry of one that waits
    already, ahead of it in the lane: `redelivery`)."""
    return event.type == "upemail" and event.new_email is not None and not event.seen_before


async def not_connected(services: Services, job: ClaimedJob, event: MailchimpEvent) -> str:
    """Why the event cannot be applied with no account connected, or `RetryLater` while it
    waits for the reconnection (see the module)."""
    if not waits_for_connection(event):
        return NOT_CONNECTED
    if not await gave_up_reconnecting(services, job):  # (says it, when it gives up)
        raise RetryLater(WAITING_FOR_CONNECTION, RECONNECT_RETRY_SECONDS)
    return GAVE_UP
