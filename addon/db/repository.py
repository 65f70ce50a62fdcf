"""What every repository shares: it works in the caller's session (the caller's transaction)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

RowT = TypeVar("RowT")


def insert_for(dialect: str, model: type[Any] | Table) -> Any:
    """An INSERT for `model` in `dialect` (for ON CONFLICT clauses)."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


# How often `get_or_insert` inserts again when the row another transaction made is deleted
# before it can be read (each time another transaction would have to make and delete it).
_INSERT_ATTEMPTS = 3


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
        key: Sequence[str] = ("installation_id",),
    ) -> RowT:
        """The row `find` answers, inserted with `values` when there is none. Safe when two
        transactions ask at once (a page's requests made together, a form sent twice, on
        PostgreSQL): the INSERT skips the row another one committed meanwhile under the unique
        `key` (its columns), where `add` failed on it; a clash on any other key still fails."""
        insert = self.insert(model).values(**values)
        for _ in range(_INSERT_ATTEMPTS):
            found = await find()
            if found is not None:
                return found
            await self.session.execute(insert.on_conflict_do_nothing(index_elements=list(key)))
            found = await find()  # ours, or the other transaction's
            if found is not None:
                return found
            # The other transaction's row, deleted since it committed (an uninstall): the key
            # is free again, so insert once more.
        raise LookupError(f"The {model.__name__} row made was deleted {_INSERT_ATTEMPTS} times.")

    async def installation_row(
        self, model: type[RowT], installation_id: int, **defaults: Any
    ) -> RowT:
        """The installation's row of a table of one row per installation (`InstallationKeyed`),
        made with `defaults` on first use (`get_or_insert`)."""
        return await self.get_or_insert(
            model,
            lambda: self.session.get(model, installation_id),
            {"installation_id": installation_id, **defaults},
        )
