"""Which jobs a claim may take, beside their state (`statements.claim_statement`): the kinds a
worker can run (`claimable_condition`) and, on PostgreSQL, the lanes no other claim in flight
holds (`lane_claimed`)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Boolean, ColumnElement, and_, false, literal_column, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from addon.jobs.models import HOUSEKEEPING_KINDS, Job


def _literal(value: str) -> ColumnElement[Any]:
    """A string written into the statement, quoted (as `statements.in_state` writes a state:
    the same text for every execution)."""
    return literal_column("'" + value.replace("'", "''") + "'")


@lru_cache(maxsize=16)
def claimable_condition(
    condition: ColumnElement[bool], kinds: frozenset[str]
) -> ColumnElement[bool]:
    """Which jobs a worker whose registry runs `kinds` may claim: those of its kinds where
    `condition` holds (`HandlerRegistry.claim_only`), and of its housekeeping kinds whatever
    it says. A job of a kind it cannot run (one a newer version added, beside it in a rolling
    deploy) is left to a worker that can. Built once per registry (`HandlerRegistry.claimable`),
    and registries of the same kinds and condition share one, so the claim statements built on
    it (`claim_statement`, cached by its identity) are too. The kinds are written into the
    statement: its text is the same at every claim (nothing expanded per execution)."""

    def of(chosen: frozenset[str]) -> ColumnElement[bool]:
        # No kind: false (an empty IN would be expanded at each execution).
        return Job.kind.in_([_literal(k) for k in sorted(chosen)]) if chosen else false()

    return or_(and_(condition, of(kinds - HOUSEKEEPING_KINDS)), of(kinds & HOUSEKEEPING_KINDS))


class lane_claimed(FunctionElement[bool]):
    """`lane_claimed(installation_id, lane)`: on PostgreSQL, whether this transaction holds the
    lane's claim, a transaction-level advisory lock on (installation, lane) taken if free
    (`pg_try_advisory_xact_lock`, never waiting; re-entrant, so a claim's second statement
    passes). `lane_busy` sees only what is committed: a claim in flight of one job of a lane
    is invisible to another worker's claim, which would take an earlier job of the lane
    committed meanwhile beside it (the later job took its id first, then committed after the
    in-flight claim's snapshot). Holding the lane's lock until it commits, a claim keeps the
    others off the lane; they skip its jobs, as `SKIP LOCKED` does its rows. The key is one
    bigint (`hashtextextended` of the lane, seeded with the installation): a key space apart
    from the (account, slot) pairs of `addon.db.shared_slots`. SQLite has one writer: true."""

    type = Boolean()
    name = "lane_claimed"
    inherit_cache = True


@compiles(lane_claimed)
def _lane_claimed(element: lane_claimed, compiler: SQLCompiler, **kw: Any) -> str:
    return "1"


@compiles(lane_claimed, "postgresql")
def _lane_claimed_postgresql(element: lane_claimed, compiler: SQLCompiler, **kw: Any) -> str:
    installation, lane = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"pg_try_advisory_xact_lock(hashtextextended({lane}, {installation}))"
