"""Queries on initial syncs and their batches."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.initial_sync.models import BatchStatus, InitialSync, InitialSyncBatch, RunStatus


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

    async def running(self, installation_id: int, channel: str) -> InitialSync | None:
        result = await self.session.execute(
            select(InitialSync).where(
                InitialSync.installation_id == installation_id,
                InitialSync.active_channel == channel,
                InitialSync.status == RunStatus.RUNNING,
            )
        )
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
