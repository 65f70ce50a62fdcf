"""Which side's change stands when a store-side change of a contact meets Mailchimp's
(`apply.py`): an unsubscribe is always sent, a new consent goes unless the contact left the
audience after it, anything else follows the priority setting under two-way sync."""

from __future__ import annotations

from typing import Any

from addon.audiences.models import Priority
from addon.subscriptions.schemas import Action, ContactChange


def left_since(change: ContactChange, withdrawn_at: Any, withdrawal_waits: bool) -> bool:
    """A new consent the contact's leaving the audience (an unsubscribe, a bounce, an admin's
    removal: applied, or received and waiting its turn) came after: that is kept, whatever the
    priority, as an unsubscribe always is."""
    if change.action is not Action.SUBSCRIBE or not change.fresh_consent:
        return False
    return withdrawal_waits or (withdrawn_at is not None and withdrawn_at > change.requested_at)


def conflict_lost(change: ContactChange, mailchimp_changed_at: Any, settings: Any) -> bool:
    if settings is None or not settings.two_way or settings.priority is not Priority.MAILCHIMP_WINS:
        return False
    if change.action is Action.UNSUBSCRIBE:
        # An opt-out is kept whichever side it comes from, as Mailchimp's unsubscribes and
        # cleans are under "store wins" (`mailchimp_hooks.handle_event`): a change made in
        # Mailchimp meanwhile (a merge field, a group) never keeps mail going to them.
        return False
    if change.action is Action.SUBSCRIBE and change.fresh_consent:
        # The shopper's own consent: only their leaving the audience since keeps it from
        # going (`left_since`), not any other change made in Mailchimp (a name, a group).
        return False
    if mailchimp_changed_at is None:
        return False
    return change.base_synced_at is None or mailchimp_changed_at > change.base_synced_at
