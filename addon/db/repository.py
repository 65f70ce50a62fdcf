"""What every repository shares: it works in the caller's session (the caller's transaction)."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

RowT = TypeVar("RowT")


class Repository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: RowT) -> RowT:
        """Insert `row` now (flushed: its key and defaults are set, constraints checked)."""
        self.session.add(row)
        await self.session.flush()
        return row
