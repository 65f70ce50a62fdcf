"""Fault injection: latency, random 5xx errors, outages and forced failures.

Faults are configured globally (``account=None``) or per account; a per-account setting takes
precedence over the global one for that field. ``reset()`` clears them. Randomness comes from a
seeded RNG so a failing test replays identically.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel

from .models import SandboxAccount
from .state import SandboxClock

RandomStatus = Literal[500, 502, 503]
ForcedStatus = Literal[429, 403]


class FaultProfile(BaseModel):
    """Faults for one scope (global or an account); ``None`` means "not set here"."""

    latency: float | None = None
    error_rate: float | None = None
    force_status: ForcedStatus | None = None


@dataclass
class FailNext:
    remaining: int
    status: int


@dataclass
class Outage:
    start: float
    end: float | None


@dataclass
class FaultDecision:
    """What the HTTP layer should do with one request."""

    latency: float = 0.0
    status: int | None = None  # 500/502/503 problem or HTML; 429/403 bodiless when forced
    bodiless: bool = False


@dataclass
class _Scope:
    profile: FaultProfile = field(default_factory=FaultProfile)
    fail_next: list[FailNext] = field(default_factory=list)
    outages: list[Outage] = field(default_factory=list)
    # operation id -> how many more times that batch operation fails, and with which status
    batch_failures: dict[str, FailNext] = field(default_factory=dict)


def _key(account: SandboxAccount | str | None) -> str | None:
    return account.id if isinstance(account, SandboxAccount) else account


class Faults:
    """Fault configuration of a sandbox (``sandbox.faults``)."""

    def __init__(self, seed: int, clock: SandboxClock) -> None:
        self._seed = seed
        self._rng = random.Random(seed)
        self._clock = clock
        self._scopes: dict[str | None, _Scope] = {}

    def _scope(self, account: SandboxAccount | str | None) -> _Scope:
        return self._scopes.setdefault(_key(account), _Scope())

    def set(
        self,
        account: SandboxAccount | str | None = None,
        *,
        latency: float | None = None,
        error_rate: float | None = None,
        force_status: ForcedStatus | None = None,
    ) -> None:
        """Set latency (seconds), random error rate (0..1) and/or a forced bodiless status."""
        profile = self._scope(account).profile
        if latency is not None:
            profile.latency = latency
        if error_rate is not None:
            if not 0.0 <= error_rate <= 1.0:
                raise ValueError("error_rate must be between 0 and 1")
            profile.error_rate = error_rate
        if force_status is not None:
            profile.force_status = force_status

    def fail_next(
        self, n: int, status: int = 500, account: SandboxAccount | str | None = None
    ) -> None:
        """Make the next ``n`` requests (of the account, or any) fail with ``status``."""
        self._scope(account).fail_next.append(FailNext(remaining=n, status=status))

    def fail_batch_operations(
        self,
        operation_ids: list[str],
        times: int = 1,
        status: int = 500,
        account: SandboxAccount | str | None = None,
    ) -> None:
        """Make the batch operations with these ids fail ``times`` times each with ``status``
        in their results (the batch itself succeeds, as when Mailchimp hiccups inside one)."""
        failures = self._scope(account).batch_failures
        for operation_id in operation_ids:
            failures[operation_id] = FailNext(remaining=times, status=status)

    def batch_operation_status(self, account_id: str, operation_id: str | None) -> int | None:
        """The status a batch operation is forced to fail with this time, if any."""
        if operation_id is None:
            return None
        for key in (account_id, None):
            scope = self._scopes.get(key)
            failure = scope.batch_failures.get(operation_id) if scope else None
            if failure is not None and failure.remaining > 0:
                failure.remaining -= 1
                return failure.status
        return None

    def outage(
        self,
        duration: float | None = None,
        *,
        start: float | None = None,
        account: SandboxAccount | str | None = None,
    ) -> None:
        """Answer 503 to everything from ``start`` (default now) for ``duration`` seconds
        (``None``: until reset). Times are on the sandbox clock."""
        begin = self._clock.now() if start is None else start
        end = None if duration is None else begin + duration
        self._scope(account).outages.append(Outage(start=begin, end=end))

    def reset(
        self, account: SandboxAccount | str | None = None, *, everything: bool = True
    ) -> None:
        """Clear the faults of one account, or (``account=None``) of every scope."""
        if account is None and everything:
            self._scopes.clear()
            self._rng = random.Random(self._seed)
        else:
            self._scopes.pop(_key(account), None)

    def in_outage(self, account_id: str | None) -> bool:
        now = self._clock.now()
        keys: list[str | None] = [None] if account_id is None else [None, account_id]
        for key in keys:
            scope = self._scopes.get(key)
            if scope is None:
                continue
            for outage in scope.outages:
                if outage.start <= now and (outage.end is None or now < outage.end):
                    return True
        return False

    def decide(self, account_id: str) -> FaultDecision:
        """Roll the dice for one authenticated request of ``account_id``."""
        own = self._scopes.get(account_id)
        glob = self._scopes.get(None)
        decision = FaultDecision()

        def pick(name: str) -> object:
            for scope in (own, glob):
                if scope is not None and getattr(scope.profile, name) is not None:
                    return getattr(scope.profile, name)
            return None

        latency = pick("latency")
        decision.latency = float(latency) if isinstance(latency, int | float) else 0.0
        for scope in (own, glob):
            if scope is None:
                continue
            while scope.fail_next and scope.fail_next[0].remaining <= 0:
                scope.fail_next.pop(0)
            if scope.fail_next:
                scope.fail_next[0].remaining -= 1
                decision.status = scope.fail_next[0].status
                decision.bodiless = decision.status in (429, 403)
                return decision
        forced = pick("force_status")
        if isinstance(forced, int):
            decision.status = forced
            decision.bodiless = True
            return decision
        rate = pick("error_rate")
        if isinstance(rate, int | float) and rate > 0 and self._rng.random() < rate:
            decision.status = self._rng.choice((500, 502, 503))
        return decision
