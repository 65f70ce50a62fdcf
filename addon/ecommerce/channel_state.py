"""A channel card's state on the E-commerce page, and its one primary action.

Derived from the same rows the card shows (connection, the channel's store and its ledger
record, the latest initial sync), so the card can never claim what its rows contradict.

The latest initial sync is read through a port, `LATEST_INITIAL_SYNC`, that the composition
root answers with initial sync's query: initial sync builds on ecommerce, not the other way
round, so ecommerce names what it asks for, down to the status of a run (`RunStatus`, which the
initial sync's table uses).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from addon.ecommerce.channel_presence import Whereabouts
from addon.ecommerce.page_schemas import NextAction
from addon.ecommerce.store_state import StoreStatus
from addon.services import Port


class RunStatus(StrEnum):
    """Where an initial sync of a channel stands."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    CANCELLED = "cancelled"
    FAILED = "failed"


# (session, installation id, channel slug) → the status of the channel's latest initial sync,
# None when it never had one.
LatestInitialSync = Callable[[AsyncSession, int, str], Awaitable[RunStatus | None]]
LATEST_INITIAL_SYNC = Port[LatestInitialSync]("the status of a channel's latest initial sync")
# (session, installation id, old slug, new slug): a channel's initial syncs follow it to its new
# slug (`channel_follow.py`), so that one ended but still to clear its store's `is_syncing`
# finds the store there.
MoveInitialSyncs = Callable[[AsyncSession, int, str, str], Awaitable[None]]
MOVE_INITIAL_SYNCS = Port[MoveInitialSyncs]("a channel's initial syncs moved to its new slug")
# (session, installation id, channel slug) → whether an initial sync of the channel holds its
# store's `is_syncing` (its automations paused: `order_confirmation.automations_paused`).
SyncHoldsStore = Callable[[AsyncSession, int, str], Awaitable[bool]]
SYNC_HOLDS_STORE = Port[SyncHoldsStore]("whether an initial sync holds a channel's is_syncing")


@dataclass(frozen=True)
class ChannelFacts:
    name: str
    connected: bool
    revoked: bool  # was connected, then Mailchimp stopped accepting the key or token
    has_audience: bool  # an imported audience that still exists in Mailchimp
    tracked: bool
    tracking_enabled: bool
    store_status: StoreStatus
    initial_sync: RunStatus | None  # the latest initial sync of the channel, if any
    # Why Mailchimp refuses the channel's currency (`currencies.py`), if it does.
    currency_refused: str | None = None
    # Saleor no longer lists the channel's slug: what its list says of it (`channel_presence`).
    channel_gone: Whereabouts | None = None


def next_action(facts: ChannelFacts) -> NextAction:
    if not facts.connected:
        if facts.revoked:
            return NextAction(
                code="connect_mailchimp",
                label="Reconnect Mailchimp",
                hint="Mailchimp no longer accepts the app's access, so nothing is sent.",
            )
        if facts.tracked:  # the connection was reset: still tracked, nothing sent meanwhile
            hint = "Mailchimp is not connected, so nothing of this channel is sent."
        else:
            hint = "Connect a Mailchimp account before tracking channels."
        return NextAction(code="connect_mailchimp", label="Connect Mailchimp", hint=hint)
    if not facts.tracked and facts.channel_gone is not None:
        return NextAction(
            code="none",
            hint=f"{facts.channel_gone.card()}. Its Mailchimp store keeps what it holds.",
        )
    if not facts.tracked:
        if facts.currency_refused is not None:
            return NextAction(code="none", hint=facts.currency_refused)
        if not facts.has_audience:
            return NextAction(
                code="choose_audience",
                label="Choose an audience",
                hint="A store belongs to a Mailchimp audience: import or choose one first.",
            )
        return NextAction(
            code="track",
            label="Track this channel",
            hint=f"{facts.name} is not sent to Mailchimp.",
        )
    if not facts.tracking_enabled:
        return NextAction(
            code="enable_tracking",
            label="Turn on e-commerce tracking",
            hint="E-commerce tracking is off, so nothing is sent to Mailchimp.",
        )
    if facts.channel_gone is not None:
        stopped = f"{facts.channel_gone.card()}, so its changes are not sent to Mailchimp."
        if facts.channel_gone.followable:
            return NextAction(
                code="follow_channel",
                label=f"Switch to {facts.channel_gone.renamed_to!r}",
                hint=f"{stopped} Switch to the new slug: the same Mailchimp store goes on.",
            )
        return NextAction(
            code="stop_tracking",
            label="Stop tracking",
            hint=f"{stopped} Stop tracking it: its Mailchimp store keeps what it holds.",
        )
    if facts.store_status is StoreStatus.MISSING:
        return NextAction(
            code="recreate_store",
            label="Re-create the store",
            hint=f"The Mailchimp store for {facts.name} was deleted in Mailchimp.",
        )
    if facts.store_status is StoreStatus.FAILED:
        return NextAction(
            code="resync_all",
            label="Resync everything",
            hint=f"The Mailchimp store for {facts.name} could not be created or updated.",
        )
    if facts.store_status in (StoreStatus.CREATING, StoreStatus.NOT_CREATED):
        return NextAction(
            code="none", hint=f"The Mailchimp store for {facts.name} is being created."
        )
    if facts.initial_sync is RunStatus.RUNNING:
        return NextAction(code="none", hint="The initial sync is running.")
    if facts.initial_sync is not RunStatus.SUCCEEDED:
        hint = {
            None: "Send the channel's existing products, customers and orders to Mailchimp.",
            RunStatus.FAILED: "The last initial sync failed: start it again.",
            RunStatus.CANCELLED: "The last initial sync was cancelled: start it again.",
        }[facts.initial_sync]
        return NextAction(code="start_initial_sync", label="Start the initial sync", hint=hint)
    return NextAction(code="none", hint="New changes are sent to Mailchimp as they happen.")
