"""The async engine and session factory for SQLite (default) or PostgreSQL, and after-commit
hooks: `after_commit(session, key, hook)` runs `hook` once the session's transaction has
committed (never when it rolls back), e.g. to wake the worker for a job just enqueued.

On SQLite, one transaction of a process writes at a time: a write transaction waits its turn
inside the process before it begins (`addon.db.write_turn`), instead of in SQLite's busy
handler.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any, Literal

import orjson
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

from addon.db.sqlite_driver import OneTripDBAPI
from addon.db.write_turn import WriteTurn

logger = logging.getLogger(__name__)

_HOOKS = "addon.after_commit"  # session.info key: {key: hook} for the open transaction
_DATABASE = "addon.database"  # session.info key: the Database the session belongs to


def _json_text(value: Any) -> str:
    # Integer keys become strings, as the standard library's encoder makes them.
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


class _Session(Session):
    """The sessions of a `Database`: they run their after-commit hooks (see `after_commit`)."""


@event.listens_for(_Session, "after_commit")
def _run_hooks(session: Session) -> None:
    for hook in session.info.pop(_HOOKS, {}).values():
        try:
            hook()
        except Exception:  # the transaction is committed: a hook must not undo the caller
            logger.exception("After-commit hook %r failed", hook)


@event.listens_for(_Session, "after_rollback")
def _drop_hooks(session: Session) -> None:
    session.info.pop(_HOOKS, None)


def after_commit(session: AsyncSession, key: str, hook: Callable[[], None]) -> bool:
    """Run `hook` when the session's current transaction commits (once per `key` per
    transaction); answer whether this key is new in the transaction."""
    hooks: dict[str, Callable[[], None]] = session.info.setdefault(_HOOKS, {})
    new = key not in hooks
    hooks[key] = hook
    return new


# The pool: one connection per job the worker runs at once, plus these for web requests
# and the worker's own claims and lease renewals; overflow only for peaks.
OTHER_CONNECTIONS = 10
MAX_OVERFLOW = 10
# Connections are replaced after this long instead of pinged at every checkout (a round trip
# each time): a connection the server dropped fails once, and SQLAlchemy then renews the pool.
RECYCLE_SECONDS = 1800
# `Database.analyze_if_grown`: a table's pages now and when PostgreSQL last took its statistics
# (`relpages`, 0 before the first ANALYZE or VACUUM), and the size it must reach first (about
# 1,000 ledger records: its pages are half filled on PostgreSQL, `LEDGER_FILLFACTOR`).
_PAGES = text(
    "SELECT relpages AS analysed,"
    " pg_relation_size(oid) / current_setting('block_size')::int AS now"
    " FROM pg_class WHERE oid = to_regclass(:table)"
)
GROWN_FROM = 64
# SQLite's own memory, per connection (a worker holds a dozen): its page cache (2 MiB by
# default) and the driver's prepared statements (the last 128 kept). A multi-row INSERT
# (SQLAlchemy's "insertmanyvalues", 1,000 rows by default) is another statement for each row
# count, 1.4 MB prepared at 1,000 rows of 10 columns. Kept, they made a worker's SQLite memory
# grow with the store in the initial-sync benchmark (`sqlite3_memory_used`): 24 MB at a tenth
# of its size, 51 MB at full size; with these, 16 and 22 MB.
SQLITE_CACHE_KIB = 1024
SQLITE_INSERT_ROWS = 100


class Database:
    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        jobs_at_once: int = 20,
        sqlite_synchronous: Literal["FULL", "OFF"] = "FULL",
    ) -> None:
        """`jobs_at_once`: how many jobs a worker of this process runs at once
        (`worker_batch_size`), to size the PostgreSQL pool so they never wait for a connection
        nor open and close overflow connections over and over; `sqlite_synchronous`: the
        setting's (`Settings.sqlite_synchronous`)."""
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        # What this process remembers of the database's contents (caches, by owner), forgotten
        # when the engine is disposed (and so between tests, which recreate the schema).
        self.memo: dict[str, Any] = {}
        options: dict[str, Any] = {
            "echo": echo,
            "pool_size": jobs_at_once + OTHER_CONNECTIONS,
            "max_overflow": MAX_OVERFLOW,
            # JSON columns (a batch's planned operations, ledger children) through orjson:
            # the standard library's encoder was 1.2 % of an initial sync's worker CPU.
            "json_serializer": _json_text,
            "json_deserializer": orjson.loads,
        }
        if self.is_sqlite:
            # The web app and the in-process worker write concurrently: wait for locks (other
            # processes'; this one's writers wait their turn, see addon.db.write_turn). A file
            # database's pool is sized as PostgreSQL's: an overflow connection costs a thread,
            # a connect and its PRAGMAs each time it is opened.
            options["connect_args"] = {"timeout": 30}
            options["insertmanyvalues_page_size"] = SQLITE_INSERT_ROWS
            options["module"] = OneTripDBAPI()  # a statement is one trip to aiosqlite's thread
        else:
            options["pool_recycle"] = RECYCLE_SECONDS
        self.engine: AsyncEngine = create_async_engine(url, **options)
        self.write_turn: WriteTurn | None = None  # SQLite's (see addon.db.write_turn)
        if self.is_sqlite:
            self.write_turn = turn = WriteTurn()
            sync_engine = self.engine.sync_engine
            event.listen(sync_engine, "connect", partial(_sqlite_connect, sqlite_synchronous))
            event.listen(sync_engine, "begin", lambda connection: _sqlite_begin(turn, connection))
            # Given back when the connection returns to the pool: after its COMMIT or ROLLBACK
            # has run (the "commit" event comes before it, and the next writer's BEGIN would
            # race it).
            event.listen(
                sync_engine.pool, "checkin", lambda _dbapi, record: turn.give_back(record.info)
            )
        common: dict[str, Any] = {
            "expire_on_commit": False,
            "sync_session_class": _Session,
            "info": {_DATABASE: self},
        }
        self.sessionmaker = async_sessionmaker(self.engine, **common)
        # Reads need no write lock on SQLite (see _sqlite_begin).
        self._read_sessionmaker = async_sessionmaker(
            self.engine.execution_options(sqlite_begin="DEFERRED"), **common
        )

    @staticmethod
    def of(session: AsyncSession) -> Database | None:
        """The Database whose sessionmaker made `session` (None for another session)."""
        database = session.info.get(_DATABASE)
        return database if isinstance(database, Database) else None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session for reading (it may write, but on SQLite a write can then conflict)."""
        async with self._read_sessionmaker() as session:
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits on success; keep it short (never across a
        remote call), since on SQLite it holds the database's write lock (and this process's
        write turn) from its first statement."""
        async with self.sessionmaker() as session, session.begin():
            yield session

    async def analyze(self, table: str, *, unless_busy: bool = False) -> None:
        """Refresh PostgreSQL's planner statistics of `table` after a bulk load (an initial
        sync writes a ledger record per entity), as PostgreSQL advises
        (https://www.postgresql.org/docs/current/populate.html#POPULATE-ANALYZE): until
        autovacuum's next visit, a minute or more later, the planner sees the table as it was,
        and planned a burst's lookup of 500 records by id as a scan of every record of the
        channel (60 ms a lookup at 10,000 records, 4 ms once analysed). SQLite keeps no
        statistics unless asked (the app never asks): nothing to do. A failure is logged, not
        raised: the load itself is done. `unless_busy`: not when another ANALYZE (another sync's,
        autovacuum's) is at it (`SKIP_LOCKED`), rather than wait to do it again."""
        if self.is_sqlite:
            return
        name = self.engine.dialect.identifier_preparer.quote(table)
        options = "(SKIP_LOCKED) " if unless_busy else ""
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text(f"ANALYZE {options}{name}"))
                await connection.commit()
        except Exception as exc:  # asyncpg's connection errors are not all SQLAlchemy's
            logger.warning("Could not refresh the statistics of %s: %s", table, exc)

    async def analyze_if_grown(self, table: str) -> None:
        """`analyze` `table` once it has grown by a quarter since its statistics were taken
        (its pages on disk against those PostgreSQL recorded then, exact at once; at least
        GROWN_FROM pages), for a table a bulk load is filling. An initial sync writes thousands
        of ledger records a minute; planned from statistics that have not seen them (a kind
        absent from them, or a table never analysed), a lookup by id reads every record of the
        kind: in a 160,000-entity sync the lookups took 33 s of PostgreSQL's time, 3 s with
        this. Like `analyze`, a failure is logged, not raised (it only helps the planner)."""
        if self.is_sqlite:
            return
        try:
            async with self.engine.connect() as connection:
                found = (await connection.execute(_PAGES, {"table": table})).first()
        except Exception as exc:  # asyncpg's connection errors are not all SQLAlchemy's
            logger.warning("Could not read the size of %s: %s", table, exc)
            return
        if found is not None and found.now >= max(GROWN_FROM, 1.25 * found.analysed):
            await self.analyze(table, unless_busy=True)

    async def dispose(self) -> None:
        self.memo.clear()
        await self.engine.dispose()


def _sqlite_connect(synchronous: str, dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, emit BEGIN (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")  # ON DELETE CASCADE erases a tenant's rows
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    # FULL: a commit is on disk before it returns. A webhook is answered once its job is
    # committed and Saleor never sends a delivery it got a 2xx for again; with NORMAL, WAL
    # commits since the last checkpoint "might roll back following a power loss or system
    # crash" (sqlite.org/pragma.html#pragma_synchronous). About 0.1 ms more per commit, on a
    # good day: a disk's flush is what a commit waits for. OFF only for throwaway databases.
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()


def _sqlite_begin(turn: WriteTurn, connection: Any) -> None:
    # Take the write lock up front: a read-then-write (such as claiming jobs) is then atomic,
    # and concurrent writers wait their turn instead of failing on a stale snapshot.
    mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
    if mode == "IMMEDIATE":
        turn.take(connection.info)
    try:
        connection.exec_driver_sql(f"BEGIN {mode}")
    except BaseException:
        turn.give_back(connection.info)
        raise
