"""Looking ledger records up by a list of Saleor ids: the statement's condition (`one_of`) and how
such a statement is run (`by_ids`), for the ledger's repository and the push queue."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import JSON, ColumnElement, Result, any_, bindparam, func, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable


def one_of(column: ColumnElement[Any], name: str, dialect: str) -> ColumnElement[bool]:
    """`column` (a text column) among the list of strings bound as `name`, in one statement
    text whatever the list's length: an expanding IN is rewritten for each length, and a few
    hundred records a statement vary in number every time. On PostgreSQL `= ANY(<array>)`
    (asyncpg prepares each text anew); on SQLite `IN (SELECT value FROM json_each(<JSON>))`:
    each connection's statement cache kept up to 128 compiled IN lists of hundreds of
    parameters, compiling them cost CPU, and in an initial sync the worker's memory grew with
    them. SQLite still searches the unique index by each value
    (https://www.sqlite.org/json1.html#jeach). Run such a statement with `by_ids`."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=postgresql.ARRAY(column.type)))
    values = func.json_each(bindparam(name, type_=JSON)).table_valued("value")
    return column.in_(select(values.c.value).scalar_subquery())


# Whether PostgreSQL plans each run of a prepared statement for its parameters (a custom plan)
# or reuses one plan for any (generic, chosen after five runs when it looks no dearer):
# https://www.postgresql.org/docs/current/sql-prepare.html#SQL-PREPARE-NOTES. Set for the
# transaction, then set back to what it was.
_CUSTOM_PLANS = text(
    "SELECT current_setting('plan_cache_mode'), "
    "set_config('plan_cache_mode', 'force_custom_plan', true)"
)
_RESTORE = text("SELECT set_config('plan_cache_mode', :mode, true)")


async def by_ids(
    session: AsyncSession, statement: Executable, parameters: Mapping[str, Any]
) -> Result[Any]:
    """Run a statement that uses `one_of`. On PostgreSQL it is planned for the ids at hand.

    A generic plan knows nothing of the array: while the ledger's statistics lag a growing
    table (an initial sync writes thousands of records a minute; autovacuum analyses it a
    minute or more later), it read every record of the scope through the unique index's first
    three columns and compared each with every id of the array (auto_explain: "Rows Removed by
    Filter: 12000", 0.2-0.4 s a lookup of 1,000 ids; 52 s of PostgreSQL's time in a
    48,000-entity initial sync). Planned for its array, the same lookup searches the index by
    each id, or, planned on stale statistics, filters through a hash of the array
    (PostgreSQL 14+): 4-11 ms."""
    if session.get_bind().dialect.name != "postgresql":
        return await session.execute(statement, parameters)
    mode = (await session.execute(_CUSTOM_PLANS)).scalar_one()
    result = await session.execute(statement, parameters)
    await session.execute(_RESTORE, {"mode": mode})
    return result
