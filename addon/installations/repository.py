"""Queries on installations."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from addon.installations.models import Installation


class InstallationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, installation_id: int) -> Installation | None:
        return await self.session.get(Installation, installation_id)

    async def get_by_api_url(self, saleor_api_url: str) -> Installation | None:
        result = await self.session.execute(
            select(Installation).where(Installation.saleor_api_url == saleor_api_url)
        )
        return result.scalar_one_or_none()

    async def list_all(self) -> list[Installation]:
        result = await self.session.execute(select(Installation).order_by(Installation.id))
        return list(result.scalars())

    async def claim_dashboard_check(
        self, installation_id: int, now: datetime, every: timedelta
    ) -> bool:
        """Record a dashboard check at `now` unless one was recorded within `every`; True when
        recorded. One conditional UPDATE: atomic on PostgreSQL (row lock, re-checked condition)
        and on SQLite (the write lock), so concurrent dashboard loads ask Saleor once."""
        result = await self.session.execute(
            update(Installation)
            .where(
                Installation.id == installation_id,
                or_(
                    Installation.dashboard_checked_at.is_(None),
                    Installation.dashboard_checked_at <= now - every,
                ),
            )
            .values(dashboard_checked_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def delete(self, installation: Installation) -> None:
        # Dependent rows go by ON DELETE CASCADE (enabled on SQLite by a PRAGMA).
        await self.session.execute(delete(Installation).where(Installation.id == installation.id))
