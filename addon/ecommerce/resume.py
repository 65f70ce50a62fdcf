"""What e-commerce does when the app resumes after a deactivation or an outage
(`installations/missed.py`).

Saleor sent nothing meanwhile. Customers, orders and checkouts changed meanwhile come back as
replayed deliveries; the catalogue and the promo codes do not, since a stock edit, a price, a
publication, a promotion or a voucher changes no date the app can list by. So each tracked
channel is re-priced now (`reprice.py`: every product Saleor lists, a page at a time, and every
product Mailchimp holds that it no longer lists, which is hidden) and every voucher is sent
again (`promo_jobs.RESYNC_JOB`). A push whose record did not change sends nothing; many at
once go out as a burst.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from addon.ecommerce.promo_jobs import queue_resync
from addon.ecommerce.reprice import queue_reprice_now
from addon.ecommerce.stores_repository import StoreRepository


async def queue_on_resume(session: AsyncSession, installation_id: int) -> None:
    for channel in await StoreRepository(session).pushing_channels(installation_id):
        await queue_reprice_now(session, installation_id, channel)
    await queue_resync(session, installation_id)
