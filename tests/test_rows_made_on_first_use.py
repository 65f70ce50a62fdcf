"""Rows made on first use: an installation's settings (e-commerce, newsletter, promo codes,
engagement) and a contact's state. Two transactions asking for one at once (a page's requests
made together on a fresh installation, a subscription form sent twice) both get it (PostgreSQL:
the second waits for the first's row, then reads it).

Before, the second inserted the row too and failed on its unique key once the first committed
(a 500 for one of the requests). Each test holds the first transaction open with the row
inserted, lets the second run into it (it waits on the row's key: a state the test polls in
`pg_stat_activity`, no sleep), then commits the first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from addon.audiences.models import NewsletterSettings
from addon.audiences.repository import AudienceRepository
from addon.ecommerce.models import EcommerceSettings
from addon.ecommerce.promo_models import PromoSettings
from addon.ecommerce.promo_usage import PromoRepository
from addon.ecommerce.stores_repository import SettingsRepository
from addon.engagement.models import EngagementSettings
from addon.engagement.store import settings_row
from addon.services import Services
from addon.subscriptions.models import ContactState
from addon.subscriptions.repository import ContactRepository
from tests.factories import make_installation
from tests.worker_process import until

WAITING_ON_A_LOCK = text(
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
)
Row = EcommerceSettings | NewsletterSettings | ContactState | PromoSettings | EngagementSettings
Create = Callable[[AsyncSession, int], Awaitable[Row]]


async def _ecommerce(session: AsyncSession, installation_id: int) -> Row:
    return await SettingsRepository(session).get_or_create(installation_id)


async def _newsletter(session: AsyncSession, installation_id: int) -> Row:
    return await AudienceRepository(session).settings(installation_id)


async def _contact(session: AsyncSession, installation_id: int) -> Row:
    return await ContactRepository(session).get_or_create(installation_id, "list1", "A@x.example")


async def _promo(session: AsyncSession, installation_id: int) -> Row:
    return await PromoRepository(session).save_settings(installation_id)


async def _engagement(session: AsyncSession, installation_id: int) -> Row:
    return await settings_row(session, installation_id)


@pytest.mark.parametrize(
    "create",
    [_ecommerce, _newsletter, _contact, _promo, _engagement],
    ids=["ecommerce", "newsletter", "contact", "promo", "engagement"],
)
async def test_two_transactions_making_the_row_at_once_both_get_it(
    services: Services, create: Create
) -> None:
    if services.db.is_sqlite:
        pytest.skip("concurrent transactions: PostgreSQL (SQLite's writers take turns)")
    installation = await make_installation(services)

    async with services.db.transaction() as first:
        mine = await create(first, installation)

        async def second() -> Row:
            async with services.db.transaction() as session:
                return await create(session, installation)

        other = asyncio.create_task(second())

        async def waiting() -> bool:
            async with services.db.session() as session:
                return bool(await session.scalar(WAITING_ON_A_LOCK))

        await until(waiting, "the second transaction to wait for the first's row")
    theirs = await other  # the first committed: the second reads its row

    assert type(theirs) is type(mine)
    assert theirs.installation_id == installation
    if isinstance(mine, ContactState):
        assert isinstance(theirs, ContactState) and theirs.id == mine.id
