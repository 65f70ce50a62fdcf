"""The jobs table's statements built once per process (building one costs more than running
it): parameters by name. `JobRepository` runs them."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    Update,
    and_,
    bindparam,
    exists,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import aliased

from addon.jobs.models import HOUSEKEEPING_KINDS, Job, JobStatus
from addon.jobs.schemas import ClaimedJob

UNFINISHED = (JobStatus.PENDING, JobStatus.RUNNING)
# The worker's updates are Core statements on the table: through the ORM (`update(Job)`) each
# run also paid for the ORM's session synchronisation, about twice the statement's own cost.
# No `Job` object is loaded in the sessions that run them.
JOBS: Table = Job.__table__  # type: ignore[assignment]
J = JOBS.c


def held_by_claim() -> ColumnElement[bool]:
    """The job is still this claim's: same worker, same attempt, still running. A worker
    whose lease lapsed must not write over the outcome of the worker that took over."""
    return and_(
        J.id == bindparam("held_id"),
        J.locked_by == bindparam("held_by"),
        J.attempts == bindparam("held_attempt"),
        J.status == JobStatus.RUNNING,
    )


@lru_cache(maxsize=8)
def finish_statement(columns: frozenset[str]) -> Update:
    """An outcome (`columns` of `Job`, bound as `set_<column>`) written if still held."""
    return (
        update(JOBS)
        .where(held_by_claim())
        .values(
            locked_by=None,
            locked_until=None,
            updated_at=bindparam("now"),
            **{column: bindparam(f"set_{column}") for column in sorted(columns)},
        )
    )


@lru_cache(maxsize=8)
def claim_statement(limit: int, claimable: ColumnElement[bool], only: bool) -> Select[Any]:
    """Due jobs in order, locked (see `JobRepository.claim`); `claimable` is the registry's
    condition, one object for the process's life (cached by identity). `only`: of the kinds
    and installations bound as `only_kinds` and `only_installations`."""
    now = bindparam("now", type_=Job.run_after.type)
    earlier = aliased(Job)
    lane_busy = exists().where(
        earlier.installation_id == Job.installation_id,
        earlier.lane == Job.lane,
        earlier.id < Job.id,
        earlier.status.in_(UNFINISHED),
    )
    due = or_(
        and_(Job.status == JobStatus.PENDING, Job.run_after <= now),
        and_(Job.status == JobStatus.RUNNING, Job.locked_until < now),
    )
    statement = select(Job.id, Job.installation_id, Job.kind, Job.payload, Job.attempts).where(
        due,
        or_(claimable, Job.kind.in_(HOUSEKEEPING_KINDS)),
        or_(Job.lane.is_(None), ~lane_busy),
    )
    if only:
        statement = statement.where(
            Job.kind.in_(bindparam("only_kinds", expanding=True)),
            Job.installation_id.in_(bindparam("only_installations", expanding=True)),
        )
    return (
        statement.order_by(Job.run_after, Job.id)
        .limit(limit)
        .with_for_update(of=Job, skip_locked=True)
    )


def claim_of(job: ClaimedJob, worker_id: str) -> dict[str, Any]:
    """The parameters of `held_by_claim`."""
    return {"held_id": job.id, "held_by": worker_id, "held_attempt": job.attempts}


COMPLETE_MANY = (
    update(JOBS)
    .where(
        tuple_(J.id, J.attempts).in_(bindparam("claims", expanding=True)),
        J.locked_by == bindparam("held_by"),
        J.status == JobStatus.RUNNING,
    )
    .values(
        status=JobStatus.DONE,
        last_error=None,
        finished_at=bindparam("now"),
        locked_by=None,
        locked_until=None,
        updated_at=bindparam("now"),
    )
    .returning(J.id)
)

RENEW = update(JOBS).where(held_by_claim()).values(locked_until=bindparam("until"))

CLAIMED = (
    update(JOBS)
    .where(J.id.in_(bindparam("ids", expanding=True)))
    .values(
        status=JobStatus.RUNNING,
        attempts=J.attempts + 1,
        locked_by=bindparam("worker"),
        locked_until=bindparam("until"),
        updated_at=bindparam("now"),
    )
)
