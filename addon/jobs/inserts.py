"""New jobs: their rows and the INSERT statements that add them (built once per process)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Table, bindparam, case, text

from addon.db.repository import insert_for
from addon.jobs.models import Job, JobStatus


class NewJob(NamedTuple):
    """A job to add, identified by its delivery (`dedupe_key`)."""

    installation_id: int
    kind: str
    payload: dict[str, Any]
    dedupe_key: str | None
    status: JobStatus = JobStatus.PENDING


class CoalescedJob(NamedTuple):
    """A job to add or merge into the pending job of its `coalesce_key` (see `enqueue`)."""

    installation_id: int
    kind: str
    payload: dict[str, Any]
    coalesce_key: str
    lane: str | None
    run_after: datetime


def job_row(
    job: NewJob,
    now: datetime,
    *,
    coalesce_key: str | None = None,
    lane: str | None = None,
    run_after: datetime | None = None,
) -> dict[str, Any]:
    """A new job's row, by column."""
    return {
        "installation_id": job.installation_id,
        "kind": job.kind,
        "payload": job.payload,
        "status": job.status,
        "dedupe_key": job.dedupe_key,
        "coalesce_key": coalesce_key,
        "lane": lane,
        "attempts": 0,
        "run_after": run_after or now,
        "created_at": now,
        "updated_at": now,
        "finished_at": now if job.status is JobStatus.DONE else None,
    }


@lru_cache(maxsize=8)
def enqueue_statement(dialect: str, conflict: str | None) -> Any:
    """One job's INSERT (columns bound as `v_<column>`), deduplicated by its delivery or
    coalesced into the pending job of its key: newest payload, first schedule; with
    `coalesce_sooner`, the sooner of the two schedules, with `coalesce_later` the later."""
    table: Table = Job.__table__  # type: ignore[assignment]
    columns = job_row(NewJob(0, "", {}, None), datetime.min).keys()
    statement = insert_for(dialect, table).values(
        {column: bindparam(f"v_{column}") for column in columns}
    )
    if conflict == "dedupe":
        statement = statement.on_conflict_do_nothing(
            index_elements=["installation_id", "dedupe_key"]
        )
    elif conflict in ("coalesce", "coalesce_sooner", "coalesce_later"):
        merged: dict[str, Any] = {
            "payload": statement.excluded.payload,
            "updated_at": bindparam("v_updated_at"),
        }
        new_at = statement.excluded.run_after
        if conflict == "coalesce_sooner":
            merged["run_after"] = case(
                (new_at < table.c.run_after, new_at), else_=table.c.run_after
            )
        elif conflict == "coalesce_later":
            merged["run_after"] = case(
                (new_at > table.c.run_after, new_at), else_=table.c.run_after
            )
        statement = statement.on_conflict_do_update(
            index_elements=["installation_id", "coalesce_key"],
            index_where=text("status = 'pending'"),
            set_=merged,
        )
    return statement.returning(table.c.id)


@lru_cache(maxsize=4)
def coalesced_many_statement(dialect: str) -> Any:
    """Jobs' INSERT for many parameter sets (columns by name), each merged into the pending
    job of its key: the newest payload, the first schedule. It answers the ids only so that
    SQLAlchemy sends multi-row INSERTs ("insertmanyvalues", for a statement with RETURNING):
    without, asyncpg runs it once per row, and a burst's 10,000 pushes cost PostgreSQL 10,000
    executions."""
    table: Table = Job.__table__  # type: ignore[assignment]
    statement = insert_for(dialect, table)
    return statement.on_conflict_do_update(
        index_elements=["installation_id", "coalesce_key"],
        index_where=text("status = 'pending'"),
        set_={"payload": statement.excluded.payload, "updated_at": statement.excluded.updated_at},
    ).returning(table.c.id)


@lru_cache(maxsize=4)
def dedupe_many_statement(dialect: str) -> Any:
    """Jobs' INSERT for many parameter sets (columns by name), deduplicated by delivery,
    answering what was added (identified by installation and key: a duplicate adds no row)."""
    table: Table = Job.__table__  # type: ignore[assignment]  # Core: the ORM's bulk path costs more than the write
    return (
        insert_for(dialect, table)
        .on_conflict_do_nothing(index_elements=["installation_id", "dedupe_key"])
        .returning(table.c.id, table.c.installation_id, table.c.dedupe_key)
    )
