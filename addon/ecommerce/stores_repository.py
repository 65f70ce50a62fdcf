"""Queries on the installation's Mailchimp stores and its e-commerce settings, and the
stable id of a channel's store."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select

from addon.db.repository import Repository
from addon.ecommerce.models import EcommerceSettings, MailchimpStore


def pushing_stores(*columns: Any) -> Select[Any]:
    """A SELECT of `columns` over the stores changes are pushed to, of every installation:
    tracked ones, while their installation's e-commerce tracking is on."""
    return (
        select(*columns)
        .join(
            EcommerceSettings, EcommerceSettings.installation_id == MailchimpStore.installation_id
        )
        .where(MailchimpStore.tracked.is_(True), EcommerceSettings.tracking_enabled.is_(True))
    )


def stable_store_id(saleor_api_url: str, channel_slug: str, list_id: str | None = None) -> str:
    """The same installation and channel (and audience) always map to the same store id.

    Mailchimp cannot move a store to another audience, so a channel's store for a different
    audience is another store with its own id; reconnecting the same account finds it again.
    """
    key = f"{saleor_api_url}\n{channel_slug}" + (f"\n{list_id}" if list_id else "")
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return f"saleor-{digest}"


class StoreRepository(Repository):
    async def list(self, installation_id: int) -> list[MailchimpStore]:
        statement = MailchimpStore.of_installation(installation_id).order_by(
            MailchimpStore.channel_slug
        )
        return list(await self.session.scalars(statement))

    async def get(self, installation_id: int, channel_slug: str) -> MailchimpStore | None:
        statement = MailchimpStore.of_installation(installation_id).where(
            MailchimpStore.channel_slug == channel_slug
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def count(self, installation_id: int) -> int:
        """The channels that have had a store, tracked now or not."""
        statement = select(func.count()).where(MailchimpStore.installation_id == installation_id)
        return int(await self.session.scalar(statement) or 0)

    async def tracked(self, installation_id: int) -> Sequence[MailchimpStore]:
        return [store for store in await self.list(installation_id) if store.tracked]

    async def pushing_channels(self, installation_id: int) -> Sequence[str]:
        """The channels changes are pushed to: tracked ones, while e-commerce tracking is on
        (one query of two columns: every webhook asks). One Saleor no longer has is among them:
        its pushes record what changed and wait (`channel_presence.py`)."""
        statement = (
            pushing_stores(MailchimpStore.channel_slug)
            .where(MailchimpStore.installation_id == installation_id)
            .order_by(MailchimpStore.channel_slug)
        )
        return list(await self.session.scalars(statement))


class SettingsRepository(Repository):
    async def find(self, installation_id: int) -> EcommerceSettings | None:
        return await self.session.get(EcommerceSettings, installation_id)

    async def get_or_create(self, installation_id: int) -> EcommerceSettings:
        return await self.installation_row(
            EcommerceSettings, installation_id, tracking_enabled=False, abandoned_carts_enabled=True
        )
