"""Queries on initial syncs and their batches."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from addon.ecommerce.channel_state import RunStatus
from addon.initial_sync.models import BatchStatus, InitialSync, InitialSyncBatch


async def latest_status(
    session: AsyncSession, installation_id: int, channel: str
) -> RunStatus | None:
    """The status of the channel's latest initial sync: the answer to the E-commerce page's
    `LATEST_INITIAL_SYNC` (plugged in by `addon.capabilities`)."""
    latest = await InitialSyncRepository(session).latest(installation_id, channel)
    return latest.status if latest else None


async def holds_store(session: AsyncSession, installation_id: int, channel: str) -> bool:
    """Whether an initial sync of the channel holds its store's `is_syncing` (set, not yet
    cleared: running, or ended still settling its batches): the answer to `SYNC_HOLDS_STORE`."""
    found = await session.scalar(
        select(InitialSync.id)
        .where(
            InitialSync.installation_id == installation_id,
            InitialSync.channel_slug == channel,
            InitialSync.store_flagged.is_(True),
        )
        .limit(1)
    )
    return found is not None


async def move_channel(session: AsyncSession, installation_id: int, old: str, new: str) -> None:
    """The channel's runs under its new slug: the answer to `MOVE_INITIAL_SYNCS` (none runs:
    the follow refuses while one does)."""
    await session.execute(
        update(InitialSync)
        .where(InitialSync.installation_id == installation_id, InitialSync.channel_slug == old)
        .values(channel_slug=new)
    )


class InitialSyncRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def latest(self, installation_id: int, channel: str) -> InitialSync | None:
        result = await self.session.execute(
            select(InitialSync)
            .where(
                InitialSync.installation_id == installation_id,
                InitialSync.channel_slug == channel,
            )
            .order_by(InitialSync.id.desc())
            .limit(1)
        )
        return result.scalar_one_or_none()

    async def running(
        self, installation_id: int, channel: str, *, for_update: bool = False
    ) -> InitialSync | None:
        """The channel's running sync; `for_update`: its row locked, as a step and the
        watchdog lock it before they queue the next step (one order: no deadlock)."""
        statement = select(InitialSync).where(
            InitialSync.installation_id == installation_id,
            InitialSync.active_channel == channel,
            InitialSync.status == RunStatus.RUNNING,
        )
        if for_update:
            statement = statement.with_for_update()
        result = await self.session.execute(statement)
        return result.scalar_one_or_none()

    async def in_flight(self, sync_id: int) -> int:
        result = await self.session.execute(
            select(func.count()).where(
                InitialSyncBatch.sync_id == sync_id,
                InitialSyncBatch.status == BatchStatus.SUBMITTED,
            )
        )
        return int(result.scalar_one())

    async def unapplied(self, sync_id: int) -> dict[str, int]:
        """Per kind, the sync's batches whose outcome is not in the ledger yet."""
        result = await self.session.execute(
            select(InitialSyncBatch.kind, func.count())
            .where(
                InitialSyncBatch.sync_id == sync_id,
                InitialSyncBatch.status != BatchStatus.APPLIED,
            )
            .group_by(InitialSyncBatch.kind)
        )
        return {kind: int(count) for kind, count in result.all()}
