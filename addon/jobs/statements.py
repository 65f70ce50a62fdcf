"""The jobs table's statements built once per process (building one costs more than running
it): parameters by name. `JobRepository` runs them."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    Table,
    Update,
    and_,
    bindparam,
    case,
    exists,
    false,
    func,
    literal_column,
    or_,
    select,
    text,
    true,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import aliased

from addon.jobs.conditions import lane_claimed
from addon.jobs.models import Job, JobStatus
from addon.jobs.schemas import ClaimedJob

UNFINISHED = (JobStatus.PENDING, JobStatus.RUNNING)
# The worker's updates are Core statements on the table: through the ORM (`update(Job)`) each
# run also paid for the ORM's session synchronisation, about twice the statement's own cost.
# No `Job` object is loaded in the sessions that run them.
JOBS: Table = Job.__table__  # type: ignore[assignment]
J = JOBS.c


def lane_busy() -> ColumnElement[bool]:
    """Another job of the candidate's lane (`Job`) goes first or is under way: an earlier one
    not finished, or any running one. Ids are taken before commits, so on PostgreSQL a job
    may commit after a later one of its lane was claimed: by id alone, it would then run
    beside it."""
    other = aliased(Job)
    return exists().where(
        other.installation_id == Job.installation_id,
        other.lane == Job.lane,
        other.id != Job.id,
        or_(
            other.status == JobStatus.RUNNING,
            and_(other.id < Job.id, other.status.in_(UNFINISHED)),
        ),
    )


def lane_held(now: ColumnElement[Any]) -> ColumnElement[bool]:
    """For a job whose lease lapsed, taken again: another job of its lane is under way (its
    lease alive), or an earlier lapsed one goes first. An earlier pending job does not hold
    the lane: this one owned it when it was claimed, and one made pending again since (an
    Activity retry of a quarantined job) waits for it. Checked as `lane_busy`, the two waited
    on each other for good."""
    other = aliased(Job)
    return exists().where(
        other.installation_id == Job.installation_id,
        other.lane == Job.lane,
        other.id != Job.id,
        other.status == JobStatus.RUNNING,
        or_(other.locked_until >= now, other.id < Job.id),
    )


def in_state(status: JobStatus) -> ColumnElement[bool]:
    """`jobs.status = '<status>'` written into the statement, not bound: PostgreSQL then uses
    the state's partial index (`Job.__table_args__`) also in a plan made for any parameters
    (asyncpg's prepared statements), and SQLite at all."""
    return J.status == literal_column(f"'{status.value}'")


def locked_once(locked: Select[Any]) -> Select[Any]:
    """The ids `locked` selects (`FOR UPDATE SKIP LOCKED`, a limit), for an UPDATE's
    `id IN (...)`: through a materialized CTE, so that the rows are chosen and locked once.
    PostgreSQL may run a plain subquery of a semi-join more than once, and with SKIP LOCKED
    (or no order) each run may choose other rows (a known planner behaviour:
    https://www.shayon.dev/post/2025/124/another-look-into-postgresql-cte-materialization-and-non-idempotent-subqueries/).
    In a two-worker live burst, with the take-over unordered, two workers' take-overs each ran
    for minutes, every job finishing meanwhile waiting on their locks."""
    chosen = locked.cte("chosen").prefix_with("MATERIALIZED", dialect="postgresql")
    return select(chosen.c.id)


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


class Lapsed(StrEnum):
    """Which running jobs whose lease expired a claim takes (`claim_statement`)."""

    FIRST = "first"  # their first lapse in a row: as many as the claim's limit
    AGAIN = "again"  # lapsed before: one, the fewest lapses first (`addon.jobs.leases`)


@lru_cache(maxsize=8)
def claim_statement(
    claimable: ColumnElement[bool], only: bool, expired: Lapsed | None = None
) -> Update:
    """Claim due jobs in order (see `JobRepository.claim`): one UPDATE of the rows its
    subquery locks (`FOR UPDATE SKIP LOCKED`, at most `limit`, a parameter), answering them
    with the attempt just counted.
    `claimable` is the registry's condition (`conditions.claimable_condition`: its kinds,
    housekeeping included), one object for the process's life (cached by identity). `only`:
    of the kinds and installations bound as `only_kinds` and `only_installations`.

    Pending jobs and running jobs whose lease expired (`expired`, see `Lapsed`) are claimed by
    separate statements: either one alone is an ordered scan of its state's partial index
    that stops at `limit`, where their union had PostgreSQL read, filter and sort every due
    row for each claim (15 ms with 10,000 webhooks waiting, a claim per 250 of them)."""
    now = bindparam("now", type_=Job.run_after.type)
    order: tuple[Any, ...] = (Job.run_after, Job.id)
    if expired is not None:
        due = and_(in_state(JobStatus.RUNNING), Job.locked_until < now)
        if expired is Lapsed.FIRST:
            due = and_(due, Job.lapses == 0)
        else:
            due = and_(due, Job.lapses > 0)
            order = (Job.lapses, *order)
    else:
        due = and_(in_state(JobStatus.PENDING), Job.run_after <= now)
    held = lane_held(now) if expired is not None else lane_busy()
    # In this order (PostgreSQL may reorder an AND, not a CASE): the lane's lock is taken only
    # for a job otherwise claimable, never for one of a paused store's backlog or of a lane
    # busy anyway (each lock held to the claim's commit takes a slot of the shared lock table).
    free = case(
        (Job.lane.is_(None), true()),
        (held, false()),
        else_=lane_claimed(Job.installation_id, Job.lane),
    )
    locked = select(Job.id).where(due, case((claimable, free), else_=false()))
    if only:
        # More of what the claim before it brought, to run with it: in no order (the oldest
        # due job is the next claim's anyway), so any plan stops at the limit. Ordered, it
        # read and sorted every due job of those installations (SQLite, through the
        # coalescing key's index), or walked the due index past other installations' backlog.
        locked = locked.where(
            Job.kind.in_(bindparam("only_kinds", expanding=True)),
            Job.installation_id.in_(bindparam("only_installations", expanding=True)),
        )
    else:
        locked = locked.order_by(*order)
    locked = locked.limit(bindparam("limit", type_=Integer)).with_for_update(
        of=Job, skip_locked=True
    )
    # A lapsed lease: the run before this one ended without an outcome (counted, see
    # `Worker._lapsed_too_often`).
    lapsed = {"lapses": J.lapses + 1} if expired is not None else {}
    return (
        update(JOBS)
        .where(J.id.in_(locked_once(locked)))
        .values(
            status=JobStatus.RUNNING,
            attempts=J.attempts + 1,
            locked_by=bindparam("worker"),
            locked_until=bindparam("until"),
            updated_at=bindparam("now"),
            **lapsed,
        )
        .returning(J.id, J.installation_id, J.kind, J.payload, J.attempts, J.lapses, J.run_after)
    )


# For the rest of a claim's transaction on PostgreSQL: no sort, so pending jobs are read in
# their index's order (`ix_jobs_due`), up to the limit. A burst fills the table long before
# autovacuum's next statistics (a minute or more); planning from the old ones, PostgreSQL read
# and sorted every due job to claim 18 (25 to 46 ms with 10,000 waiting, 0.3 ms in order;
# `tests/test_claim_plan.py`). And no JIT, as a precaution: a claim is too short to gain from
# it, and a sort left in a plan with sorting off costs enough on paper to be compiled (200 ms
# a claim, seen when this came before the lapsed leases' claim, whose order no index gives).
# One statement, one round trip.
NO_SORT = text("SELECT set_config('enable_sort', 'off', true), set_config('jit', 'off', true)")


def claim_of(job: ClaimedJob, worker_id: str) -> dict[str, Any]:
    """The parameters of `held_by_claim`."""
    return {"held_id": job.id, "held_by": worker_id, "held_attempt": job.attempts}


def _held(dialect: str) -> ColumnElement[bool]:
    """The jobs of the claims bound (`held_claims`) still held by `held_by`. A worker's
    heartbeat renews its jobs while their handlers complete them (`many_statement`, also in a
    handler's last transaction): on PostgreSQL both lock the rows in id order, else each could
    hold a row the other waits for, and PostgreSQL would break the deadlock by failing one,
    perhaps a batch handler's whole transaction. SQLite locks no rows: one statement."""
    held = and_(J.locked_by == bindparam("held_by"), J.status == JobStatus.RUNNING)
    if dialect != "postgresql":
        return and_(tuple_(J.id, J.attempts).in_(bindparam("claims", expanding=True)), held)
    # The claims as two arrays joined by id: each job found through the primary key, and the
    # statement's text the same whatever their number. (A list of 250 pairs was planned anew
    # for each batch, 11 ms of PostgreSQL's time inside the ordered lock.)
    claims = (
        func.unnest(
            bindparam("claim_ids", type_=postgresql.ARRAY(BigInteger)),
            bindparam("claim_attempts", type_=postgresql.ARRAY(Integer)),
        )
        .table_valued("id", "attempts")
        .render_derived(name="claims")
    )
    locked = (
        select(J.id)
        .join(claims, and_(J.id == claims.c.id, J.attempts == claims.c.attempts))
        .where(held)
        .order_by(J.id)
        .with_for_update(of=JOBS)
    )
    return J.id.in_(locked_once(locked))


def held_claims(dialect: str, jobs: Sequence[ClaimedJob], worker_id: str) -> dict[str, Any]:
    """The parameters of `_held` for these jobs of this worker."""
    if dialect != "postgresql":
        return {"claims": [(job.id, job.attempts) for job in jobs], "held_by": worker_id}
    return {
        "claim_ids": [job.id for job in jobs],
        "claim_attempts": [job.attempts for job in jobs],
        "held_by": worker_id,
    }


@lru_cache(maxsize=4)
def complete_many_statement(dialect: str) -> Update:
    """Jobs of one worker done (`JobRepository.complete_many`)."""
    return (
        update(JOBS)
        .where(_held(dialect))
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


@lru_cache(maxsize=4)
def renew_many_statement(dialect: str) -> Update:
    """A worker's leases renewed (`JobRepository.renew`)."""
    return (
        update(JOBS).where(_held(dialect)).values(locked_until=bindparam("until")).returning(J.id)
    )


def _later(column: Any, parameter: str) -> Any:
    """The greater (the later) of a column and a bound value, on SQLite as on PostgreSQL."""
    value = bindparam(parameter, type_=column.type)
    return case((column < value, value), else_=column)


def _earlier(column: Any, parameter: str) -> Any:
    """The lesser (the earlier) of a column and a bound value."""
    value = bindparam(parameter, type_=column.type)
    return case((column > value, value), else_=column)


def _of_key(status: JobStatus) -> ColumnElement[bool]:
    """A job in `status` of the coalescing key bound as `of_key` in `of_installation`."""
    return and_(
        in_state(status),
        J.installation_id == bindparam("of_installation"),
        J.coalesce_key == bindparam("of_key"),
    )


# The coalescing key of a job still this claim's, its row locked: a retry or a release is then
# written whole or not at all (`JobRepository._wait_again`).
HELD_KEY = select(J.coalesce_key).where(held_by_claim()).with_for_update()

# A failed job's retry merged into the pending job of its coalescing key: work for the key
# arrived while it ran, and at most one job of a key may wait (`uq_jobs_pending_coalesce_key`),
# so it cannot wait again beside that one. The pending job carries the retry: not due before
# it, the attempts counted so far (the kind still gives up in time), the error shown.
MERGE_RETRY = (
    update(JOBS)
    .where(_of_key(JobStatus.PENDING))
    .values(
        run_after=_later(J.run_after, "retry_at"),
        attempts=_later(J.attempts, "held_attempts"),
        last_error=func.coalesce(bindparam("error", type_=J.last_error.type), J.last_error),
        updated_at=bindparam("now"),
    )
)

# The Activity page's Retry of a quarantined job (`JobRepository.retry`): its key read and its
# row locked first; then either the job itself waits again with fresh attempts, or the pending
# job of its key (newer work for the same record) is due now with fresh attempts and the
# quarantined one is done, superseded, as it is by a running job of its key (`KEY_RUNNING`).
QUARANTINED_KEY = (
    select(J.coalesce_key)
    .where(
        J.id == bindparam("job_id"),
        J.installation_id == bindparam("installation_id"),
        in_state(JobStatus.QUARANTINED),
    )
    .with_for_update()
)
RETRY_QUARANTINED = (
    update(JOBS)
    .where(J.id == bindparam("job_id"))
    .values(
        status=JobStatus.PENDING,
        attempts=0,
        lapses=0,
        run_after=bindparam("now"),
        finished_at=None,
        updated_at=bindparam("now"),
    )
)
SUPERSEDE_QUARANTINED = (
    update(JOBS)
    .where(J.id == bindparam("job_id"))
    .values(status=JobStatus.DONE, finished_at=bindparam("now"), updated_at=bindparam("now"))
)
KEY_RUNNING = select(J.id).where(_of_key(JobStatus.RUNNING)).limit(1)
MERGE_FRESH = (
    update(JOBS)
    .where(_of_key(JobStatus.PENDING))
    .values(
        run_after=_earlier(J.run_after, "now"), attempts=0, lapses=0, updated_at=bindparam("now")
    )
)
