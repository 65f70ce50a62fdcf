"""CUSTOMER_DELETED and ACCOUNT_DELETED: the deleted customer's erasure (`jobs.py`), once Saleor
confirms the deletion.

Saleor sends both once the user is deleted (saleor/graphql/account/mutations/staff/
customer_delete.py and account/account_delete.py: the event after `delete()`, on commit), so
Saleor no longer has it when the delivery is handled. The signature covers the body alone, not
the `Saleor-Event` header, and Saleor signs every app's deliveries with one key: another
delivery's body about the user (a CUSTOMER_UPDATED any app subscribed to receives), posted as
CUSTOMER_DELETED, verifies, and an old body names the address the user had then. An erasure
deletes the contact permanently, so neither a customer Saleor still has (a staff member hidden
from the app included) nor an address another customer holds now is erased.
"""

from __future__ import annotations

import logging

from addon.erasure.jobs import enqueue_erasure
from addon.erasure.schemas import EraseRequest, ErasureSource
from addon.errors import NotFound
from addon.installations.repository import InstallationRepository
from addon.jobs.completion import complete_in
from addon.jobs.registry import HandlerRegistry
from addon.jobs.schemas import ClaimedJob, WebhookJob
from addon.saleor.customers import address_holder, customer_email
from addon.saleor.deleted_users import user_deleted
from addon.saleor.schemas import UserEventBody
from addon.services import Services

logger = logging.getLogger(__name__)

WEBHOOK_SLUGS = ("erasure-account-deleted", "erasure-customer-deleted")

DeletedEvent = WebhookJob[UserEventBody]


async def on_deleted(job: ClaimedJob, event: DeletedEvent, services: Services) -> None:
    user = event.body.user
    source = (
        ErasureSource.ACCOUNT_DELETED
        if event.event.upper() == "ACCOUNT_DELETED"
        else ErasureSource.CUSTOMER_DELETED
    )
    email = user.email if user is not None else None
    erase = user is not None and email is not None and await _gone(services, job, user.id, email)
    async with services.db.transaction() as session:
        await complete_in(session)
        if erase and user is not None and user.email:
            request = EraseRequest(email=user.email.lower(), saleor_user_id=user.id, source=source)
            await enqueue_erasure(session, job.installation_id, request)


async def _gone(services: Services, job: ClaimedJob, user_id: str, email: str) -> bool:
    """Whether Saleor no longer has the user, and no other customer holds the address (a body
    from before the user changed address, naming one another customer registered with since).
    `user(id:)` answers null for a staff member without orders too (a customer `staffCreate`
    promoted): only the probe's NOT_FOUND says the user is gone (`deleted_users.py`). Saleor
    failing to answer fails the job: retried."""
    async with services.db.session() as session:
        installation = await InstallationRepository(session).get(job.installation_id)
    if installation is None:
        return False
    if installation.uninstalled_at is not None:
        return _unconfirmed(job, user_id)
    api_url, token = installation.saleor_api_url, installation.app_token
    try:
        await customer_email(services.saleor, api_url, token, user_id)
    except NotFound:
        if await user_deleted(services.saleor, api_url, token, user_id):
            holder = await address_holder(services.saleor, api_url, token, email.lower())
            if holder is None:
                return True
    logger.warning(
        "Ignored a deletion of user %s of installation %s: Saleor still has them or their address",
        user_id,
        job.installation_id,
    )
    return False


def _unconfirmed(job: ClaimedJob, user_id: str) -> bool:
    """A deletion the uninstall's last job carries out (`addon.installations.uninstall`):
    Saleor refuses the token of an uninstalled app, so the deletion can never be confirmed, and
    it is erased on what the verified delivery says. The shopper's deletion (or staff's) is one
    the store must honour; left undone, the customer stays subscribed in Mailchimp for good.
    What that risks is a live customer's body posted as a deletion in the moments before an
    uninstall, which needs a delivery to an app holding MANAGE_USERS, one that could delete
    the customer in Saleor anyway; and a contact erased wrongly can sign up again by a form."""
    logger.warning(
        "Erasing user %s of uninstalled installation %s unconfirmed: Saleor refuses its token",
        user_id,
        job.installation_id,
    )
    return True


def register(registry: HandlerRegistry[Services]) -> None:
    from addon.installations.webhook_kinds import webhook_job_kind

    for slug in WEBHOOK_SLUGS:
        registry.register(webhook_job_kind(slug), on_deleted, payload=DeletedEvent)
