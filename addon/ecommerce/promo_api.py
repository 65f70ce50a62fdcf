"""The E-commerce page's promo-code section: which Saleor vouchers become Mailchimp promo codes
(none, all, or those flagged in their metadata) and where a code is redeemed. A change re-sends
every voucher (`promo_jobs.RESYNC_JOB`): newly offered ones are created, ones no longer offered
are deleted from Mailchimp."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.dependencies import service_dependency
from addon.ecommerce.models import EntityKind, SyncRecord, SyncStatus
from addon.ecommerce.promo_jobs import queue_resync
from addon.ecommerce.promo_schemas import PromoSettingsRead, PromoSettingsUpdate
from addon.ecommerce.promo_usage import PromoRepository
from addon.ecommerce.repository import LedgerRepository
from addon.installations.dashboard_auth import DashboardAuth
from addon.installations.models import Installation
from addon.services import Services

router = APIRouter(prefix="/api/ecommerce/promos")


class PromoNotice(BaseModel):
    """A voucher whose push left something for the admin to read: codes left out, codes
    Mailchimp refused, the permission Saleor wants."""

    voucher: str  # its name (or first code), else its Saleor id
    channel: str
    status: SyncStatus
    message: str


class PromosRead(BaseModel):
    settings: PromoSettingsRead
    # Vouchers Mailchimp holds as promo rules, over all tracked channels.
    rules_sent: int
    rules_pending: int
    notices: list[PromoNotice] = []  # the latest `NOTICES` vouchers with a message


NOTICES = 10


class PromoService:
    def __init__(self, session: AsyncSession, services: Services) -> None:
        self.session = session
        self.services = services
        self.promos = PromoRepository(session)

    async def read(self, installation: Installation) -> PromosRead:
        found = await self.promos.settings(installation.id)
        counts = await LedgerRepository(self.session).counts(installation.id)
        sent = pending = 0
        for (_, kind, status), n in counts.items():
            if kind is EntityKind.PROMO_RULE and status is SyncStatus.SYNCED:
                sent += n
            elif kind is EntityKind.PROMO_RULE and status is SyncStatus.PENDING:
                pending += n
        return PromosRead(
            settings=PromoSettingsRead(
                offer=found.offer,
                flag_key=found.flag_key,
                redemption_url_template=found.redemption_url_template,
            ),
            rules_sent=sent,
            rules_pending=pending,
            notices=await self._notices(installation.id),
        )

    async def _notices(self, installation_id: int) -> list[PromoNotice]:
        rows = await self.session.scalars(
            select(SyncRecord)
            .where(
                SyncRecord.installation_id == installation_id,
                SyncRecord.kind == EntityKind.PROMO_RULE,
                SyncRecord.last_error.is_not(None),
            )
            .order_by(SyncRecord.updated_at.desc())
            .limit(NOTICES)
        )
        return [
            PromoNotice(
                voucher=r.label or r.saleor_id,
                channel=r.channel_slug,
                status=r.status,
                message=r.last_error or "",
            )
            for r in rows
        ]

    async def update(self, installation: Installation, body: PromoSettingsUpdate) -> None:
        saved = await self.promos.save_settings(installation.id)
        before = (saved.offer, saved.flag_key, saved.redemption_url_template)
        saved.offer = body.offer
        saved.flag_key = body.flag_key
        saved.redemption_url_template = body.redemption_url_template
        if before != (saved.offer, saved.flag_key, saved.redemption_url_template):
            await queue_resync(self.session, installation.id)
        await self.session.flush()


Service = Annotated[PromoService, service_dependency(PromoService)]


@router.get("")
async def read_promos(auth: DashboardAuth, service: Service) -> PromosRead:
    """The admin's choice of vouchers for Mailchimp, and how many are there."""
    return await service.read(auth.installation)


@router.put("")
async def update_promos(
    body: PromoSettingsUpdate, auth: DashboardAuth, service: Service
) -> PromosRead:
    """Save the choice; a change re-sends every voucher to match it."""
    await service.update(auth.installation, body)
    return await service.read(auth.installation)
