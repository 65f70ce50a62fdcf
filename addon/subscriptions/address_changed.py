"""A customer's address edited or deleted in Saleor reaches the merge fields that map it.

Saleor sends ADDRESS_UPDATED or ADDRESS_DELETED alone for these, no CUSTOMER_UPDATED
(webhooks/subscriptions_addresses.graphql), so without this a member's ADDRESS or PHONE merge
field kept the old address until the customer next changed otherwise. The owner is looked up
(addon/saleor/address_owners.py) only where an active audience maps an address or a phone;
each owner's members then get the update a customer change queues (`queue_member_updates`),
which sends only what the mapping makes of the customer now, if that changed. A registered
customer's order may fill their address book with no address event at all
(`queue_after_order`).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from addon.audiences.mapping import MappingRepository
from addon.audiences.repository import AudienceRepository
from addon.installations.repository import InstallationRepository
from addon.jobs.schemas import ClaimedJob, WebhookJob
from addon.saleor.address_owners import AddressEvent, address_owners, is_deletion
from addon.services import Services
from addon.subscriptions.profile_sync import queue_member_updates

WEBHOOK_SLUG = "subscriptions-addresses"


async def _maps_addresses(session: AsyncSession, installation_id: int) -> bool:
    """Whether an active audience maps an address or a phone: else no address change matters."""
    audiences = await AudienceRepository(session).active_audiences(installation_id)
    active = [a.list_id for a in audiences]
    return await MappingRepository(session).maps_addresses(installation_id, active)


async def queue_after_order(
    services: Services, installation_id: int, user_id: str, email: str
) -> None:
    """A registered customer's order (ORDER_CREATED). Completing a checkout adds its addresses
    to the customer's address book and makes them the default ones where there were none, with
    a plain save and no event (saleor/checkout/complete_checkout.py
    `_process_user_data_for_order` → saleor/account/utils.py `store_user_address` →
    `set_user_default_billing_address`), so a first order's address and phone came only with
    the customer's next change. The update job reads the customer afresh and sends only what
    changed."""
    async with services.db.transaction() as session:
        if await _maps_addresses(session, installation_id):
            await queue_member_updates(session, installation_id, user_id, email)


async def handle_address_changed(
    job: ClaimedJob, delivery: WebhookJob[AddressEvent], services: Services
) -> None:
    installation_id = job.installation_id
    async with services.db.session() as session:
        if not await _maps_addresses(session, installation_id):
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
