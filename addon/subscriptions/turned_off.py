"""A change of an audience the admin turned off (no longer one of the app's audiences on the
Audiences page) between the shopper's request and the worker running it.

The `subscriptions.apply` job reads the audience's settings as they are when it runs, not as
they were when the change was asked: the admin's choice is the store's latest word. A joining,
a change of groups or details is not made (the store no longer offers the audience), and
Activity and the contact's panel say so. A leaving, or a consent withdrawn, is owed to the
shopper whatever the store offers (GDPR art. 7(3)), as the storefront takes one for every
audience the app knows (`SubscriptionService.resolve`, `leaving`): it still goes, without the
fresh consent or groups a withdrawal that also joined carried. An audience turned off and on
again before the job runs takes the change as asked.
"""

from __future__ import annotations

import logging

from addon.audiences.models import Audience
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob
from addon.services import Services
from addon.subscriptions.contact_settled import settled
from addon.subscriptions.owed_withdrawals import withdraws
from addon.subscriptions.schemas import Action, ContactChange

logger = logging.getLogger(__name__)

# Done on arrival: the Activity entry of a change not made (text in `last_error`, as the
# Activity page shows a row's).
CHANGE_SKIPPED = "subscriptions.change_skipped"
# The contact's problem once its change is skipped (the customer panel shows it).
AUDIENCE_TURNED_OFF = (
    "The store stopped offering this audience (turned off on the app's Audiences page) before "
    "this change reached Mailchimp, so it was not made. A leaving or a withdrawn consent is "
    "always sent."
)


def not_made(audience: Audience, change: ContactChange, held_permissions: set[str]) -> bool:
    """Whether the change is not made: its audience is turned off now, and the change is
    neither a leaving nor a consent withdrawn from `held_permissions` (`withdraws`)."""
    if audience.active or change.action is Action.UNSUBSCRIBE:
        return False
    return not withdraws(change, held_permissions)


# Added to the contact's problem when a withdrawal went without what came with it.
ONLY_WITHDRAWAL_SENT = (
    "The store stopped offering this audience (turned off on the app's Audiences page) before "
    "this change reached Mailchimp: only the consents withdrawn were sent, not the consents "
    "given or the groups chosen with them."
)


def gives_more(audience: Audience, change: ContactChange, held_permissions: set[str]) -> bool:
    """Whether `withdrawal_only` leaves out something the change gave: a consent not held, or
    a choice of groups (then said on the contact: `ONLY_WITHDRAWAL_SENT`)."""
    if audience.active or change.action is Action.UNSUBSCRIBE or not change.fresh_consent:
        return False
    return bool(set(change.permission_ids) - held_permissions) or change.interest_ids is not None


def withdrawal_only(audience: Audience, change: ContactChange) -> ContactChange:
    """The part of a change of a turned-off audience that still goes (one `not_made` keeps):
    a withdrawal, without the fresh consent (which would subscribe again a contact who left)
    or the groups that came with it."""
    if audience.active or change.action is Action.UNSUBSCRIBE:
        return change
    return change.model_copy(update={"fresh_consent": False, "interest_ids": None})


async def skip_change(
    services: Services, job: ClaimedJob, change: ContactChange, audience_name: str
) -> None:
    """End the change not made: over for the contact (no longer the store's pending change,
    `settled`), its problem saying why, and one Activity entry for the job."""
    message = (
        f"Not sent to “{audience_name}” for {change.email}: the audience was turned off on the "
        "app's Audiences page after this change was asked, and the app no longer writes to it "
        "(a leaving or a withdrawn consent still goes). Turn the audience on again and ask the "
        "customer to subscribe again if the store still wants them in it."
    )
    logger.info("Change of a contact dropped: its audience %s was turned off", change.list_id)
    async with services.db.transaction() as session:
        state = await settled(session, job.installation_id, change)
        state.last_problem = AUDIENCE_TURNED_OFF
        await JobRepository(session).record_note(
            job.installation_id,
            CHANGE_SKIPPED,
            {"email": change.email, "list_id": change.list_id},
            message,
            dedupe_key=f"{CHANGE_SKIPPED}:{job.id}",
        )
