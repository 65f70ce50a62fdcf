"""A customer's address edited or deleted in Saleor reaches the merge fields that map it.

Saleor sends ADDRESS_UPDATED or ADDRESS_DELETED alone for these, no CUSTOMER_UPDATED
(webhooks/subscriptions_addresses.graphql), so without this a member's ADDRESS or PHONE merge
field kept the old address until the customer next changed otherwise. The owner is looked up
(addon/saleor/address_owners.py) only where an active audience maps an address or a phone;
each owner's members then get the update a customer change queues (`queue_member_updates`),
which sends only what the mapping makes of the customer now, if that changed.
"""

from __future__ import annotations

from addon.audiences.mapping import MappingRepository
from addon.audiences.repository import AudienceRepository
from addon.installations.repository import InstallationRepository
from addon.jobs.schemas import ClaimedJob, WebhookJob
from addon.saleor.address_owners import AddressEvent, address_owners, is_deletion
from addon.services import Services
from addon.subscriptions.profile_sync import queue_member_updates

WEBHOOK_SLUG = "subscriptions-addresses"


async def handle_address_changed(
    job: ClaimedJob, delivery: WebhookJob[AddressEvent], services: Services
) -> None:
    installation_id = job.installation_id
    async with services.db.session() as session:
        active = [
            a.list_id for a in await AudienceRepository(session).active_audiences(installation_id)
        ]
        if not await MappingRepository(session).maps_addresses(installation_id, active):
            return
        installation = await InstallationRepository(session).get(installation_id)
        if installation is None:
            return
        api_url, token = installation.saleor_api_url, installation.app_token
    owners = await address_owners(
        services.saleor, api_url, token, delivery.body, deleted=is_deletion(delivery.event)
    )
    if not owners:
        return
    async with services.db.transaction() as session:
        for owner in owners:
            await queue_member_updates(session, installation_id, owner.id, owner.email)
