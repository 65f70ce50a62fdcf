"""A channel given another audience forgets its ledger (`LedgerRepository.forget_channel`)
while a burst of it is being recorded (PostgreSQL).

A burst's recording and its results' apply lock their batch's row, then its records in id
order. Before, forgetting the channel deleted its records first (taking their locks in the
table's order) and its batches after: meeting a recording between the two, each held what the
other waited for, and PostgreSQL failed one of them (a deadlock: the admin's save answered 500,
or the burst's step was retried). It now takes the batches' locks first, as a burst does.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.ecommerce.ledger_statements import locking
from addon.ecommerce.models import BurstBatch, BurstStatus, EntityKind, SyncRecord, SyncStatus
from addon.ecommerce.repository import LedgerRepository
from addon.services import Services
from tests.factories import make_installation
from tests.transactions_at_once import second_runs_into_first

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
CHANNEL = "default-channel"
PRODUCTS = ["UHJvZHVjdDox", "UHJvZHVjdDoy"]


async def test_forgetting_a_channel_waits_for_a_burst_being_recorded(services: Services) -> None:
    if services.db.is_sqlite:
        pytest.skip("concurrent transactions: PostgreSQL (SQLite's writers take turns)")
    installation = await make_installation(services)
    async with services.db.transaction() as session:
        batch = BurstBatch(
            installation_id=installation,
            channel_slug=CHANNEL,
            kind=EntityKind.PRODUCT,
            status=BurstStatus.SUBMITTED,
            leader_job_id=1,
            records={saleor_id: {} for saleor_id in PRODUCTS},
            read_at=NOW,
            submitted_at=NOW,
            polls=0,
        )
        session.add(batch)
        session.add_all(
            SyncRecord(
                installation_id=installation,
                channel_slug=CHANNEL,
                kind=EntityKind.PRODUCT,
                saleor_id=saleor_id,
                status=SyncStatus.PENDING,
                children={},
                updated_at=NOW,
            )
            for saleor_id in PRODUCTS
        )
        await session.flush()
        batch_id = batch.id

    async def recording(session: AsyncSession) -> None:
        """A burst's recording (`burst._record_submitted`, `burst_poll.apply`): its batch."""
        assert await session.get(BurstBatch, batch_id, with_for_update=True) is not None

    async def its_records(session: AsyncSession) -> None:
        """... then its records, in id order, once the channel's forgetting has begun."""
        of_channel = select(SyncRecord.id).where(SyncRecord.installation_id == installation)
        assert len((await session.execute(locking(of_channel, True))).all()) == len(PRODUCTS)

    async def forgetting(session: AsyncSession) -> None:
        await LedgerRepository(session).forget_channel(installation, CHANNEL)

    await second_runs_into_first(services, recording, forgetting, then=its_records)

    async with services.db.session() as session:
        for model in (SyncRecord, BurstBatch):
            rows = select(func.count()).select_from(model)
            assert await session.scalar(rows.where(model.installation_id == installation)) == 0


async def test_forgetting_a_channel_waits_for_an_order_push_locking_its_products(
    services: Services,
) -> None:
    """An order push settles its order's record, then locks its products' (`locking`'s order
    across kinds). Forgetting the channel locked every record in id order: a product older
    than the order was taken first, and each transaction held what the other waited for."""
    if services.db.is_sqlite:
        pytest.skip("concurrent transactions: PostgreSQL (SQLite's writers take turns)")
    installation = await make_installation(services)
    async with services.db.transaction() as session:
        for kind, saleor_id in (
            (EntityKind.PRODUCT, PRODUCTS[0]),
            (EntityKind.ORDER, "T3JkZXI6MQ=="),
        ):
            session.add(
                SyncRecord(
                    installation_id=installation,
                    channel_slug=CHANNEL,
                    kind=kind,
                    saleor_id=saleor_id,
                    status=SyncStatus.PENDING,
                    children={},
                    updated_at=NOW,
                )
            )
            await session.flush()  # the product's id is the lower

    def of_kind(kind: EntityKind) -> Select[tuple[int]]:
        return select(SyncRecord.id).where(
            SyncRecord.installation_id == installation, SyncRecord.kind == kind
        )

    async def its_order(session: AsyncSession) -> None:
        assert len((await session.execute(locking(of_kind(EntityKind.ORDER), True))).all()) == 1

    async def its_products(session: AsyncSession) -> None:
        assert len((await session.execute(locking(of_kind(EntityKind.PRODUCT), True))).all()) == 1

    async def forgetting(session: AsyncSession) -> None:
        await LedgerRepository(session).forget_channel(installation, CHANNEL)

    await second_runs_into_first(services, its_order, forgetting, then=its_products)

    async with services.db.session() as session:
        rows = select(func.count()).select_from(SyncRecord)
        assert await session.scalar(rows.where(SyncRecord.installation_id == installation)) == 0
