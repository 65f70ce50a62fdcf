"""Queries on installations."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update

from addon.db.repository import Repository
from addon.installations.models import Installation

# `FOR NO KEY UPDATE`: writers of the row (checks, lifecycle webhooks, registrations) take
# turns and an erasure's DELETE waits, but a job inserted for the installation meanwhile (its
# foreign key's `KEY SHARE`) does not; with `FOR UPDATE` it waited, and a registration holding
# the row while queueing its check could deadlock with a refused call queueing the same check.
_ROW_LOCK: dict[str, bool] = {"key_share": True}


class InstallationRepository(Repository):
    async def get(self, installation_id: int, *, for_update: bool = False) -> Installation | None:
        """The installation; `for_update` locks its row (PostgreSQL) until the transaction ends
        and reads it afresh, for a write decided on what was read (`_ROW_LOCK`)."""
        return await self.session.get(
            Installation,
            installation_id,
            with_for_update=_ROW_LOCK if for_update else None,
            populate_existing=for_update,
        )

    async def get_by_api_url(
        self, saleor_api_url: str, *, for_update: bool = False
    ) -> Installation | None:
        """The installation of a Saleor; `for_update` locks its row (PostgreSQL) until the
        transaction ends and reads it afresh (what another transaction committed while this
        one waited for the lock)."""
        statement = select(Installation).where(Installation.saleor_api_url == saleor_api_url)
        if for_update:
            statement = statement.with_for_update(key_share=True).execution_options(  # _ROW_LOCK
                populate_existing=True
            )
        result = await self.session.execute(statement)
        return result.scalar_one_or_none()

    async def get_locked_or_insert(self, values: Mapping[str, Any]) -> Installation:
        """The installation of the Saleor `values["saleor_api_url"]`, inserted with `values`
        when there is none, locked until the transaction ends. Two registrations of one Saleor
        at once take turns: the second waits for the first's row, then reads it committed
        (its INSERT skips the URL the first committed, where it failed on the unique key)."""
        url = values["saleor_api_url"]
        return await self.get_or_insert(
            Installation,
            lambda: self.get_by_api_url(url, for_update=True),
            values,
            key=("saleor_api_url",),
        )

    async def webhook_digests(self) -> list[tuple[int, str | None, str | None]]:
        """Each active installation's id, Saleor version and `webhooks_digest`."""
        result = await self.session.execute(
            select(Installation.id, Installation.saleor_version, Installation.webhooks_digest)
            .where(Installation.is_active)
            .order_by(Installation.id)
        )
        return [(row.id, row.saleor_version, row.webhooks_digest) for row in result]

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
