"""Job kind → handler, with the kind's payload model and retry policy.

Each capability registers the kinds it processes::

    registry.register(PUSH_JOB, push_job, payload=PushRequest, retry=RetryPolicy(...),
                      on_failure=record_failure)

The worker validates the payload (a payload that does not fit is quarantined at once: running
it again cannot help), calls `handler(job, payload, services)`, and owns what happens when the
handler raises: retry with backoff or give up (see `addon.jobs.retry`). `on_failure` lets the
kind record the decision in its own tables, in the transaction that writes the job's outcome.
The older form `register(kind, handler)` (handler(job, services), payload as a dict, the
worker's default policy) stays for handlers not migrated yet.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, overload

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from addon.jobs.retry import DEFAULT_POLICY, Failure, RetryPolicy
from addon.jobs.schemas import ClaimedJob, PermanentFailure

if TYPE_CHECKING:
    from addon.services import Services

P = TypeVar("P", bound=BaseModel)

JobHandler = Callable[[ClaimedJob, "Services"], Awaitable[None]]
TypedHandler = Callable[[ClaimedJob, P, "Services"], Awaitable[None]]
FailureHook = Callable[[AsyncSession, ClaimedJob, P, Failure], Awaitable[None]]


@dataclass(frozen=True)
class Registration:
    """What the worker needs to run one kind of job."""

    kind: str
    run: JobHandler  # validates the payload, then calls the handler
    retry: RetryPolicy
    payload: type[BaseModel] | None = None  # None: a handler not migrated yet (a dict)
    failed: Callable[[AsyncSession, ClaimedJob, Failure], Awaitable[None]] | None = None


class HandlerRegistry:
    """Job kind → registration. Each capability registers the kinds it processes."""

    def __init__(self) -> None:
        self._kinds: dict[str, Registration] = {}

    @overload
    def register(
        self, kind: str, handler: JobHandler, *, retry: RetryPolicy = DEFAULT_POLICY
    ) -> None: ...

    @overload
    def register(
        self,
        kind: str,
        handler: TypedHandler[P],
        *,
        payload: type[P],
        retry: RetryPolicy = DEFAULT_POLICY,
        on_failure: FailureHook[P] | None = None,
    ) -> None: ...

    def register(
        self,
        kind: str,
        handler: Any,
        *,
        payload: type[BaseModel] | None = None,
        retry: RetryPolicy = DEFAULT_POLICY,
        on_failure: Any = None,
    ) -> None:
        if kind in self._kinds:
            raise ValueError(f"a handler for job kind {kind!r} is registered already")
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

        async def run(job: ClaimedJob, services: Services) -> None:
            await handler(job, parse(job), services)

        failed = None
        if on_failure is not None:

            async def failed(session: AsyncSession, job: ClaimedJob, failure: Failure) -> None:
                try:
                    parsed = parse(job)
                except PermanentFailure:
                    return  # nothing the kind could record it against
                await on_failure(session, job, parsed, failure)

        self._kinds[kind] = Registration(kind, run, retry, model, failed)

    def registration(self, kind: str) -> Registration | None:
        return self._kinds.get(kind)

    def kinds(self) -> list[str]:
        return sorted(self._kinds)

    def get(self, kind: str) -> JobHandler | None:
        """The handler of `kind` (None: no capability processes it)."""
        found = self._kinds.get(kind)
        return found.run if found else None
