"""Queries on the installation's Mailchimp stores."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.ecommerce.models import MailchimpStore


def stable_store_id(saleor_api_url: str, channel_slug: str) -> str:
    """The same installation and channel always map to the same Mailchimp store id."""
    digest = hashlib.sha256(f"{saleor_api_url}\n{channel_slug}".encode()).hexdigest()[:16]
    return f"saleor-{digest}"


class StoreRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def list(self, installation_id: int) -> list[MailchimpStore]:
        result = await self.session.execute(
            select(MailchimpStore)
            .where(MailchimpStore.installation_id == installation_id)
            .order_by(MailchimpStore.channel_slug)
        )
        return list(result.scalars())

    async def get(self, installation_id: int, channel_slug: str) -> MailchimpStore | None:
        result = await self.session.execute(
            select(MailchimpStore).where(
                MailchimpStore.installation_id == installation_id,
                MailchimpStore.channel_slug == channel_slug,
            )
        )
        return result.scalar_one_or_none()

    async def add(self, store: MailchimpStore) -> MailchimpStore:
        self.session.add(store)
        await self.session.flush()
        return store
