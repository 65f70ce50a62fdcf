"""Rows made on first use: an installation's settings (e-commerce, newsletter, promo codes,
erasure, engagement), a contact's state and a tracked channel's store. Two transactions asking
for one at once (a page's requests made together on a fresh installation, a subscription form
sent twice, a channel tracked from two tabs) both get it (PostgreSQL: the second waits for the
first's row, then reads it).

Before, the second inserted the row too and failed on its unique key once the first committed
(a 500 for one of the requests; promo and erasure settings: at the flush of the admin's save).
Each test holds the first transaction open with the row inserted, lets the second run into it
(`tests.transactions_at_once`: no sleep), commits the first, and finds one row.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from addon.audiences.models import NewsletterSettings
from addon.audiences.repository import AudienceRepository
from addon.ecommerce.models import EcommerceSettings, MailchimpStore
from addon.ecommerce.page_schemas import ChannelTracking
from addon.ecommerce.promo_models import PromoSettings
from addon.ecommerce.promo_usage import PromoRepository
from addon.ecommerce.saleor_schemas import SaleorChannel
from addon.ecommerce.service import EcommerceService
from addon.ecommerce.stores_repository import SettingsRepository
from addon.engagement.models import EngagementSettings
from addon.engagement.store import settings_row
from addon.erasure.models import ErasureSettings
from addon.erasure.schemas import ErasureSettingsUpdate
from addon.erasure.service import ErasureService
from addon.installations.models import Installation
from addon.services import Services
from addon.subscriptions.models import ContactState
from addon.subscriptions.repository import ContactRepository
from tests.factories import make_installation
from tests.transactions_at_once import second_runs_into_first

BLOCKED_BY = text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))")
Make = Callable[[AsyncSession, Services, int], Awaitable[object]]


async def _ecommerce(session: AsyncSession, _: Services, installation_id: int) -> object:
    return await SettingsRepository(session).get_or_create(installation_id)


async def _newsletter(session: AsyncSession, _: Services, installation_id: int) -> object:
    return await AudienceRepository(session).settings(installation_id)


async def _contact(session: AsyncSession, _: Services, installation_id: int) -> object:
    return await ContactRepository(session).get_or_create(installation_id, "list1", "A@x.example")


async def _promo(session: AsyncSession, _: Services, installation_id: int) -> object:
    return await PromoRepository(session).save_settings(installation_id)


async def _erasure(session: AsyncSession, services: Services, installation_id: int) -> object:
    update = ErasureSettingsUpdate(delete_orders=True)
    return await ErasureService(session, services).update_settings(installation_id, update)


async def _store(session: AsyncSession, services: Services, installation_id: int) -> object:
    """A channel tracked for the first time (its Mailchimp store's row)."""
    installation = await session.get(Installation, installation_id)
    assert installation is not None
    channel = SaleorChannel.model_validate({"slug": "c", "name": "C", "currencyCode": "USD"})
    tracking = ChannelTracking(tracked=True, list_id="list1")
    service = EcommerceService(session, services)
    return await service.track_channel(installation, "c", tracking, [channel])


async def _engagement(session: AsyncSession, _: Services, installation_id: int) -> object:
    return await settings_row(session, installation_id)


CASES: dict[str, tuple[Make, Any]] = {  # the maker, and its table (the row's model)
    "ecommerce": (_ecommerce, EcommerceSettings),
    "newsletter": (_newsletter, NewsletterSettings),
    "contact": (_contact, ContactState),
    "promo": (_promo, PromoSettings),
    "erasure": (_erasure, ErasureSettings),
    "engagement": (_engagement, EngagementSettings),
    "store": (_store, MailchimpStore),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_two_transactions_making_the_row_at_once_both_get_it(
    services: Services, case: str
) -> None:
    if services.db.is_sqlite:
        pytest.skip("concurrent transactions: PostgreSQL (SQLite's writers take turns)")
    make, model = CASES[case]
    installation = await make_installation(services)

    async def making(session: AsyncSession) -> object:
        return await make(session, services, installation)

    await second_runs_into_first(services, making, making)

    async with services.db.session() as session:
        rows = select(func.count()).select_from(model).where(model.installation_id == installation)
        assert await session.scalar(rows) == 1
