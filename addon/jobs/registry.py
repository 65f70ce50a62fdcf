"""Job kind → handler, with the kind's payload model and retry policy.

Each capability registers the kinds it processes::

    registry.register(PUSH_JOB, push_job, payload=PushRequest, retry=RetryPolicy(...),
                      on_failure=record_failure)

The worker validates the payload (a payload that does not fit is quarantined at once: running
it again cannot help), calls `handler(job, payload, services)`, and owns what happens when the
handler raises: retry with backoff or give up (see `addon.jobs.retry`). `on_failure` lets the
kind record the decision in its own tables, in the transaction that writes the job's outcome.
With `batch`, due jobs of the kind and of one installation that one claim brought are handed
to `batch(jobs, services)` together (a list of (job, payload)), which does their work in one
transaction with set-based statements and completes them all there (`complete_in`): many small
jobs cost about what one does. If it fails, each job runs on its own with `handler`, so one
bad job neither fails the others nor escapes its retries. The older form
`register(kind, handler)` (handler(job, services), payload as a dict, the
worker's default policy) stays for handlers not migrated yet.

`services` is whatever the worker was given: the registry is generic in its type (the
composition root's `HandlerRegistry[Services]`), as jobs knows no capability, nor so the
services they share. The registry also holds which jobs may be claimed at all (`claim_only`),
given by the composition root too, and those of kinds it has no handler for are not: a worker
leaves them to one that has (`claimable`). And a failure a handler raises may be looked at first
by the composition root's `defer_failures` (a refusal that another part of the app may yet
explain), before the kind's retry policy counts it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, overload

from pydantic import BaseModel, ValidationError
from sqlalchemy import ColumnElement, true
from sqlalchemy.ext.asyncio import AsyncSession
from typing_extensions import TypeVar

from addon.jobs.conditions import claimable_condition
from addon.jobs.retry import DEFAULT_POLICY, Failure, RetryPolicy
from addon.jobs.schemas import ClaimedJob, PermanentFailure, RetryLater

P = TypeVar("P", bound=BaseModel)
# The services handlers receive. The default lets a capability's `register(registry:
# HandlerRegistry)` leave it unsaid; the composition root says `HandlerRegistry[Services]`.
S = TypeVar("S", default=Any)

JobHandler = Callable[[ClaimedJob, S], Awaitable[None]]
TypedHandler = Callable[[ClaimedJob, P, S], Awaitable[None]]
FailureHook = Callable[[AsyncSession, ClaimedJob, P, Failure], Awaitable[None]]
BatchHandler = Callable[[list[tuple[ClaimedJob, P]], S], Awaitable[None]]
# A failure looked at before the kind's retry policy (`HandlerRegistry.defer_failures`): a
# `RetryLater` answered is the job's outcome instead (uncounted unless it says so), None leaves
# the failure to the policy.
FailureDeferral = Callable[[ClaimedJob, BaseException, S], Awaitable[RetryLater | None]]


@dataclass(frozen=True)
class Registration(Generic[S]):
    """What the worker needs to run one kind of job."""

    kind: str
    run: JobHandler[S]  # validates the payload, then calls the handler
    retry: RetryPolicy
    payload: type[BaseModel] | None = None  # None: a handler not migrated yet (a dict)
    failed: Callable[[AsyncSession, ClaimedJob, Failure], Awaitable[None]] | None = None
    # Several jobs of the kind and of one installation at once (see the module's docstring).
    run_many: Callable[[list[ClaimedJob], S], Awaitable[None]] | None = None


class HandlerRegistry(Generic[S]):
    """Job kind → registration. Each capability registers the kinds it processes."""

    def __init__(self) -> None:
        self._kinds: dict[str, Registration[S]] = {}
        self._condition: ColumnElement[bool] = true()
        self._claimable: ColumnElement[bool] | None = None
        self.deferral: FailureDeferral[S] | None = None

    def claim_only(self, condition: ColumnElement[bool]) -> None:
        """Claim a job (housekeeping kinds aside) only where `condition`, a condition on `Job`,
        holds. The composition root pauses the jobs of inactive installations with it: jobs
        knows no installation."""
        self._condition = condition
        self._claimable = None

    @property
    def claimable(self) -> ColumnElement[bool]:
        """The jobs a worker with this registry claims: of the kinds registered here, as
        `claim_only` says (`conditions.claimable_condition`). Built at the first claim after
        the last registration (once, as the composition root registers all at start)."""
        if self._claimable is None:
            self._claimable = claimable_condition(self._condition, frozenset(self._kinds))
        return self._claimable

    def defer_failures(self, deferral: FailureDeferral[S]) -> None:
        """Have `deferral` look at each failure a handler raises (but `RetryLater` and
        `PermanentFailure`) before the kind's retry policy: the composition root's, for what
        another capability may yet explain (a Saleor refusal while the app's token is in
        doubt), as jobs knows none."""
        self.deferral = deferral

    @overload
    def register(
        self, kind: str, handler: JobHandler[S], *, retry: RetryPolicy = DEFAULT_POLICY
    ) -> None: ...

    @overload
    def register(
        self,
        kind: str,
        handler: TypedHandler[P, S],
        *,
        payload: type[P],
        retry: RetryPolicy = DEFAULT_POLICY,
        on_failure: FailureHook[P] | None = None,
        batch: BatchHandler[P, S] | None = None,
    ) -> None: ...

    def register(
        self,
        kind: str,
        handler: Any,
        *,
        payload: type[BaseModel] | None = None,
        retry: RetryPolicy = DEFAULT_POLICY,
        on_failure: Any = None,
        batch: Any = None,
    ) -> None:
        if kind in self._kinds:
            raise ValueError(f"a handler for job kind {kind!r} is registered already")
        self._claimable = None  # the kinds changed
        if payload is None:
            self._kinds[kind] = Registration(kind, handler, retry)
            return
        model = payload

        def parse(job: ClaimedJob) -> BaseModel:
            try:
                return model.model_validate(job.payload)
            except ValidationError as exc:
                # The same payload fails the same way every time: quarantine it at once.
                raise PermanentFailure(f"Invalid {kind} payload: {exc}") from exc

        async def run(job: ClaimedJob, services: S) -> None:
            await handler(job, parse(job), services)

        failed = None
        if on_failure is not None:

            async def failed(session: AsyncSession, job: ClaimedJob, failure: Failure) -> None:
                try:
                    parsed = parse(job)
                except PermanentFailure:
                    return  # nothing the kind could record it against
                await on_failure(session, job, parsed, failure)

        run_many = None
        if batch is not None:

            async def run_many(jobs: list[ClaimedJob], services: S) -> None:
                # One payload that does not fit fails the batch: each job then runs alone.
                await batch([(job, parse(job)) for job in jobs], services)

        self._kinds[kind] = Registration(kind, run, retry, model, failed, run_many)

    def registration(self, kind: str) -> Registration[S] | None:
        return self._kinds.get(kind)

    def kinds(self) -> list[str]:
        return sorted(self._kinds)

    def get(self, kind: str) -> JobHandler[S] | None:
        """The handler of `kind` (None: no capability processes it)."""
        found = self._kinds.get(kind)
        return found.run if found else None
