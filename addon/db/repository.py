"""What every repository shares: it works in the caller's session (the caller's transaction)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

RowT = TypeVar("RowT")


def insert_for(dialect: str, model: type[Any] | Table) -> Any:
    """An INSERT for `model` in `dialect` (for ON CONFLICT clauses)."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


class Repository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def insert(self, model: type[Any] | Table) -> Any:
        """An INSERT for `model` (or a table: a Core INSERT) in this session's dialect (for
        ON CONFLICT clauses)."""
        return insert_for(self.dialect, model)

    @property
    def dialect(self) -> str:
        """The name of this session's database dialect ("postgresql", "sqlite")."""
        return self.session.get_bind().dialect.name

    async def add(self, row: RowT) -> RowT:
        """Insert `row` now (flushed: its key and defaults are set, constraints checked)."""
        self.session.add(row)
        await self.session.flush()
        return row

    async def get_or_insert(
        self,
        model: type[RowT],
        find: Callable[[], Awaitable[RowT | None]],
        values: Mapping[str, Any],
    ) -> RowT:
        """The row `find` answers, inserted with `values` when there is none. Safe when two
        transactions ask at once (a page's requests made together, a form sent twice, on
        PostgreSQL): the INSERT skips a row another one committed meanwhile (any unique key),
        where `add` failed on the key."""
        found = await find()
        if found is None:
            await self.session.execute(self.insert(model).values(**values).on_conflict_do_nothing())
            found = await find()  # ours, or the other transaction's
        assert found is not None  # inserted, or there already
        return found
