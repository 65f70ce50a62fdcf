"""The customer panel's erasure: what it would erase (for the confirmation), and queueing it;
and the admin's choice about orders."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.audiences.repository import AudienceRepository
from addon.connection.models import ConnectionStatus
from addon.connection.repository import ConnectionRepository
from addon.db.repository import Repository
from addon.ecommerce.models import EntityKind, MailchimpStore
from addon.erasure.forget import ledger_records
from addon.erasure.jobs import enqueue_erasure
from addon.erasure.known import addresses_of
from addon.erasure.models import ErasureSettings
from addon.erasure.schemas import (
    ErasedAudience,
    ErasedStore,
    EraseRequest,
    ErasureAccepted,
    ErasurePreview,
    ErasureSettingsRead,
    ErasureSettingsUpdate,
    ErasureSource,
)
from addon.installations.models import Installation
from addon.saleor.customers import customer_email
from addon.services import Services
from addon.subscriptions.models import ContactState


class ErasureService:
    def __init__(self, session: AsyncSession, services: Services) -> None:
        self.session = session
        self.services = services

    async def _customer_email(self, installation: Installation, customer_id: str) -> str:
        address = await customer_email(
            self.services.saleor, installation.saleor_api_url, installation.app_token, customer_id
        )
        return address.lower()

    async def settings(self, installation_id: int) -> ErasureSettingsRead:
        found = await self.session.get(ErasureSettings, installation_id)
        return ErasureSettingsRead(delete_orders=bool(found and found.delete_orders))

    async def update_settings(
        self, installation_id: int, body: ErasureSettingsUpdate
    ) -> ErasureSettingsRead:
        found = await Repository(self.session).installation_row(ErasureSettings, installation_id)
        found.delete_orders = body.delete_orders
        await self.session.flush()
        return ErasureSettingsRead(delete_orders=found.delete_orders)

    async def preview(self, installation: Installation, customer_id: str) -> ErasurePreview:
        email = await self._customer_email(installation, customer_id)
        addresses = await addresses_of(self.session, installation.id, email, customer_id)
        contact_lists = set(
            await self.session.scalars(
                select(ContactState.list_id).where(
                    ContactState.installation_id == installation.id,
                    ContactState.email.in_(addresses),
                    ContactState.status != "none",
                )
            )
        )
        audiences = [
            ErasedAudience(list_id=a.list_id, name=a.name, member=a.list_id in contact_lists)
            for a in await AudienceRepository(self.session).audiences(installation.id)
            if a.removed_at is None
        ]
        records = await ledger_records(self.session, installation.id, addresses, customer_id)
        stores = []
        for store in await self.session.scalars(
            select(MailchimpStore)
            .where(MailchimpStore.installation_id == installation.id)
            .order_by(MailchimpStore.channel_slug)
        ):
            held = [r for r in records if r.channel_slug == store.channel_slug and r.mailchimp_id]
            stores.append(
                ErasedStore(
                    channel=store.channel_slug,
                    name=store.name or store.channel_slug,
                    customer=any(r.kind is EntityKind.CUSTOMER for r in held),
                    carts=sum(r.kind is EntityKind.CART for r in held),
                    orders=sum(r.kind is EntityKind.ORDER for r in held),
                )
            )
        connection = await ConnectionRepository(self.session).get(installation.id)
        return ErasurePreview(
            customer_id=customer_id,
            email=email,
            audiences=audiences,
            stores=stores,
            delete_orders=(await self.settings(installation.id)).delete_orders,
            connected=bool(connection and connection.status is ConnectionStatus.CONNECTED),
        )

    async def erase(self, installation: Installation, customer_id: str) -> ErasureAccepted:
        email = await self._customer_email(installation, customer_id)
        request = EraseRequest(email=email, saleor_user_id=customer_id, source=ErasureSource.PANEL)
        await enqueue_erasure(self.session, installation.id, request)
        return ErasureAccepted(
            message="The customer will be erased from Mailchimp in a moment; Activity will "
            "show what was erased."
        )

    async def erase_address(self, installation: Installation, email: str) -> ErasureAccepted:
        """Erase an address whoever it belongs to: a guest shopper (their e-commerce customer,
        orders and carts), a customer already deleted in Saleor, a request Mailchimp forwards."""
        request = EraseRequest(email=email.lower(), source=ErasureSource.ADDRESS)
        await enqueue_erasure(self.session, installation.id, request)
        return ErasureAccepted(
            message="The address will be erased from Mailchimp in a moment; Activity will "
            "show what was erased."
        )
