"""What e-commerce does when the app resumes after a deactivation (`installations/missed.py`),
and the customers it knows.

Saleor sent nothing while the app was inactive. Customers, orders and checkouts changed
meanwhile come back as replayed deliveries; the catalogue and the promo codes do not, since a
stock edit, a price, a promotion or a voucher changes no date the app can list by. So each
tracked channel's products are pushed again (the re-price pass reads them from Saleor, a page
at a time) with every product Mailchimp holds, so one deleted meanwhile is hidden, and every
voucher is sent again (`promo_jobs.RESYNC_JOB`). A push whose record did not change sends
nothing; many at once go out as a burst.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.types import utcnow
from addon.ecommerce.models import EntityKind, SyncRecord, SyncStatus
from addon.ecommerce.promo_jobs import queue_resync
from addon.ecommerce.push_queue import enqueue_pushes
from addon.ecommerce.reprice import REPRICE_JOB, RepriceDue
from addon.ecommerce.stores_repository import StoreRepository
from addon.installations.resume_ports import KnownCustomer
from addon.jobs.repository import JobRepository


async def queue_on_resume(session: AsyncSession, installation_id: int) -> None:
    for channel in await StoreRepository(session).pushing_channels(installation_id):
        await JobRepository(session).enqueue(
            installation_id,
            REPRICE_JOB,
            RepriceDue(channel=channel).model_dump(),
            coalesce_key=f"{REPRICE_JOB}:{channel}:first",
            run_after=utcnow(),
            sooner=True,
        )
        held = await session.scalars(
            select(SyncRecord.saleor_id).where(
                SyncRecord.installation_id == installation_id,
                SyncRecord.channel_slug == channel,
                SyncRecord.kind == EntityKind.PRODUCT,
                SyncRecord.mailchimp_id.is_not(None),
                SyncRecord.status != SyncStatus.REMOVED,
            )
        )
        await enqueue_pushes(
            session, installation_id, [(channel, EntityKind.PRODUCT, id_) for id_ in held]
        )
    await queue_resync(session, installation_id)


async def known_customers(session: AsyncSession, installation_id: int) -> list[KnownCustomer]:
    """Customers whose record Mailchimp holds, with the address last read from Saleor (the
    record's label); not those already seen gone."""
    rows = await session.execute(
        select(SyncRecord.saleor_id, SyncRecord.label).where(
            SyncRecord.installation_id == installation_id,
            SyncRecord.kind == EntityKind.CUSTOMER,
            SyncRecord.mailchimp_id.is_not(None),
            SyncRecord.status != SyncStatus.REMOVED,
            SyncRecord.label.is_not(None),
        )
    )
    return [KnownCustomer(saleor_id, label) for saleor_id, label in rows if label]
