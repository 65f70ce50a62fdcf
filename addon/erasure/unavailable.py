"""When Mailchimp cannot carry out an erasure now: the account disconnected or refusing the
app's credentials, or Mailchimp down or throttling.

The erasure then waits, keeping the address only in its job, for as long as Mailchimp gives a
controller to honour a deletion request (`RECONNECT_WAIT`, `addon.connection.reconnect`, which
a shopper's unsubscribe waits by too): given up sooner, the customer would stay in Mailchimp,
and a quarantined job would keep their address in its payload and error. Another account
connected meanwhile (the admin confirming it, `Linking.save`) ends it not done
(`switched_note`): the app forgets the address all the same, as the shopper asked.
"""

from __future__ import annotations

from typing import NoReturn

from sqlalchemy import select

from addon.audiences.models import NewsletterSettings
from addon.connection.models import MailchimpConnection
from addon.connection.reconnect import (
    NOT_DONE_SWITCHED,
    RECONNECT_RETRY_SECONDS,
    RECONNECT_WAIT,
    asked_before_forgetting,
    gave_up_reconnecting,
)
from addon.db.types import utcnow
from addon.installations.models import Installation
from addon.jobs.models import Job
from addon.jobs.retry import DEFAULT_POLICY, error_text, retry_after
from addon.jobs.schemas import ClaimedJob, RetryLater
from addon.mailchimp import MailchimpError
from addon.services import Services

WAITING_FOR_CONNECTION = (
    "Waits for Mailchimp to be connected again: the customer is still in its audiences and stores"
)
WAITING_FOR_AUDIENCES = (
    "Waits for the Mailchimp account's audiences to be read: the app was installed again while "
    "this erasure waited, and the customer is to go from every audience"
)
AUDIENCES_RETRY_SECONDS = 60.0


def switched_note(forgotten: int) -> str:
    """Activity's note of an erasure asked under the account connected before another: not
    "erased", since the customer may still be in that one."""
    return (
        f"{NOT_DONE_SWITCHED}. A customer's erasure waited for the account connected before, "
        "and another account was connected in its place: the customer may still be in that "
        "account's audiences and stores (nothing was erased in the account connected now). "
        f"The app forgot the address in its own records ({forgotten} kept as a hash only)."
    )


async def carried_over(services: Services, job: ClaimedJob) -> bool:
    """Whether the erasure was asked of an earlier installation of this Saleor, the app
    installed again before it was carried out (`InstallationService._take_erasures`), or
    before a reset forgot the account's data here: what was filled in Mailchimp then is not
    known here now, so the erasure waits for the account, and its audiences, rather than end
    with nothing of the customer known here."""
    async with services.db.session() as session:
        asked = await session.scalar(select(Job.created_at).where(Job.id == job.id))
        installed = await session.scalar(
            select(Installation.installed_at).where(Installation.id == job.installation_id)
        )
        if asked is not None and installed is not None and asked < installed:
            return True
        return await asked_before_forgetting(session, job)


async def audiences_unread(services: Services, installation_id: int) -> bool:
    """The account's audiences were never read by this installation (its first import), or
    not since a reset forgot them."""
    async with services.db.session() as session:
        read = await session.scalar(
            select(NewsletterSettings.last_import_at).where(
                NewsletterSettings.installation_id == installation_id
            )
        )
        forgotten = await session.scalar(
            select(MailchimpConnection.account_forgotten_at).where(
                MailchimpConnection.installation_id == installation_id
            )
        )
    return read is None or (forgotten is not None and read < forgotten)


async def wait_for_mailchimp(
    services: Services, job: ClaimedJob, error: MailchimpError
) -> NoReturn:
    """Mailchimp down or throttling (a 5xx, a 429, no connection): tried again with the
    worker's backoff, capped at its longest (or after the wait a 429 asked for), as a failure
    never given up (`RetryLater(counted=True)`, as the uninstall's last job does) until
    `RECONNECT_WAIT` after the erasure was asked; then the kind's retry policy decides."""
    async with services.db.session() as session:
        asked = await session.scalar(select(Job.created_at).where(Job.id == job.id))
    if asked is not None and utcnow() - asked >= RECONNECT_WAIT:
        raise error
    settings = services.settings
    wait = retry_after(error, DEFAULT_POLICY.longest(settings)) or DEFAULT_POLICY.delay(
        job.attempts, settings
    )
    raise RetryLater(
        f"Waits for Mailchimp to answer again: {error_text(error)}", wait, counted=True
    ) from error


__all__ = [
    "AUDIENCES_RETRY_SECONDS",
    "RECONNECT_RETRY_SECONDS",
    "RECONNECT_WAIT",
    "WAITING_FOR_AUDIENCES",
    "WAITING_FOR_CONNECTION",
    "audiences_unread",
    "carried_over",
    "gave_up_reconnecting",
    "switched_note",
    "wait_for_mailchimp",
]
