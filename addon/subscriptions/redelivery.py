"""An audience-webhook body received before, for `mailchimp_hooks`.

Mailchimp retries a delivery it did not see taken: "If the URL is unavailable or takes more
than 10 seconds to respond, the request is canceled and the system will try again later.
Retries happen at increasing intervals over the course of 75 minutes" (its guide "Synchronize
Audience Data with Webhooks", https://mailchimp.com/developer/marketing/guides/
sync-audience-data-webhooks/). So the app takes a body once (`receive_event`'s `dedupe_key`).

But the body is all a delivery is known by (no delivery id): the change's `type`, the member as
it is, and `fired_at` to the second (the guide's payloads: "fired_at": "2009-03-26 21:35:57").
A member who unsubscribes and subscribes again within a second sends, the second time, the
first body again: a new change, not a retry. Neither can be told from the other, so a body seen
before gets a job of its own (`seen_before`), in the contact's lane: one that would not change
the contact (a retry of what was applied) ends there, without a call; any other has the member
read from Mailchimp, whose status then stands (`handle_event`), and waits for an outage to end
(the worker's retries) rather than apply the body's word blind.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from addon.jobs.repository import JobRepository
from addon.subscriptions.models import ContactState
from addon.subscriptions.schemas import MailchimpEvent
from addon.subscriptions.writeback import contact_lane


def _statuses_after(event: MailchimpEvent) -> frozenset[str] | None:
    """The contact's statuses once the event is applied; None: not told by the event alone (a
    profile or an address change brings what the member read says)."""
    if event.type == "subscribe":
        return frozenset({"subscribed"})
    if event.type == "cleaned":
        return frozenset({"cleaned"})
    if event.type == "unsubscribe":
        # A deletion keeps a contact's leaving (`handle_event`).
        if event.action == "delete":
            return frozenset({"archived", "unsubscribed", "cleaned"})
        return frozenset({"unsubscribed"})
    return None


def changes_nothing(event: MailchimpEvent, state: ContactState | None) -> bool:
    """Whether a body seen before would leave the contact as it is: its status is the one the
    event brings already (a retry of a change applied, or of one applied since again)."""
    statuses = _statuses_after(event)
    return statuses is not None and state is not None and state.status in statuses


async def enqueue_seen_before(
    session: AsyncSession, installation_id: int, kind: str, event: MailchimpEvent
) -> None:
    """Queue a body received before as a `seen_before` event (`kind`: the event job's), after
    the contact's jobs queued so far. Without a dedupe key: each delivery is one job (Mailchimp
    sends one a few times at most), and one that changes nothing costs no call.

    It does not mark the contact changed in Mailchimp (`mailchimp_changed_at`): most are
    retries, and the mark would hold its customer updates and lose its store changes under
    "Mailchimp wins" until the job ran. A store change pushed meanwhile is in what the job
    reads."""
    await JobRepository(session).enqueue(
        installation_id,
        kind,
        event.model_copy(update={"seen_before": True}).model_dump(mode="json"),
        lane=contact_lane(event.email),
    )
