"""Retry policies: when a failed job is tried again, and when it is given up (quarantined).

The worker applies them, for every job kind the same way; a handler only raises what failed
(see `addon.jobs.schemas` for the two explicit outcomes, `RetryLater` and `PermanentFailure`).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from addon.config import Settings

# Error texts are kept on jobs and ledger records for an admin to read; Mailchimp's answers can
# be long (every field error), so they are cut to this many characters.
ERROR_TEXT_LIMIT = 2000


def error_text(error: str | BaseException, *, limit: int = ERROR_TEXT_LIMIT) -> str:
    """What an admin reads about a failure: the message (or the error's type when it has
    none), cut to `limit` characters."""
    text = str(error) or (type(error).__name__ if isinstance(error, BaseException) else "")
    return text[:limit]


def backoff_delay(attempts: int, base: float, maximum: float) -> float:
    """Exponential backoff with jitter: ~base·2^(n-1), capped, never below half of it."""
    delay = min(maximum, base * 2 ** max(0, attempts - 1))
    return float(delay * random.uniform(0.5, 1.0))


def retry_after(error: BaseException, longest: float) -> float | None:
    """The wait a service asked for with its refusal (Mailchimp's 429 `Retry-After`), if any,
    at most `longest` (the longest backoff: a header asking for days holds nothing that long)."""
    value = getattr(error, "retry_after", None)
    if not isinstance(value, int | float) or not value > 0:  # NaN too
        return None
    return min(float(value), longest)


def throttled_wait(error: BaseException, longest: float, otherwise: float) -> float:
    """How long work a service throttled waits: the wait it asked for, else `otherwise`, at
    most `longest` (a burst's records and an initial sync's next step after a 429)."""
    return min(retry_after(error, longest) or otherwise, longest)


def in_outage(error: BaseException) -> bool:
    """The failure is a service's outage or throttling, by the error's own word (`retryable`:
    Mailchimp's 5xx, timeouts and 429s, `addon.mailchimp.errors`; Saleor unreachable or
    failing, `addon.saleor.client.SaleorUnavailable`), not a refusal of the work itself."""
    return getattr(error, "retryable", False) is True


# A limit is a number, or read from the settings when the job fails (tests change settings).
Limit = int | Callable[["Settings"], int]
Seconds = float | Callable[["Settings"], float]


@dataclass(frozen=True)
class Failure:
    """What the worker decided about one failed run of a job."""

    reason: str  # as an admin reads it (cut to ERROR_TEXT_LIMIT)
    attempts: int  # runs so far, this one included
    retry_at: datetime | None  # None: given up, the job is quarantined
    error: BaseException

    @property
    def gave_up(self) -> bool:
        return self.retry_at is None


@dataclass(frozen=True)
class RetryPolicy:
    """How the failures of one job kind are retried.

    Any exception a handler raises is a failure: retried after an exponential backoff with
    jitter from `backoff_base` to `backoff_max` seconds (or after the wait the service asked
    for, see `retry_after`), and given up after `max_attempts` runs (counted when a job is
    claimed, so a run that crashed its worker counts too). `expected` are the failures the kind
    anticipates (a service's refusal or outage): described by their own message; any other
    exception is described with its type, as the bug it probably is. None means the worker's
    settings (`WORKER_MAX_ATTEMPTS`, `WORKER_BACKOFF_*`).

    A failure that is a service's outage (`in_outage`) is retried up to
    `WORKER_OUTAGE_MAX_ATTEMPTS` runs when that is more: a limit sized for errors that repeat
    (a refused payload) would give up within minutes of an outage of hours, leaving the work
    failed or quarantined until an admin retries it.
    """

    max_attempts: Limit | None = None
    backoff_base: Seconds | None = None
    backoff_max: Seconds | None = None
    expected: tuple[type[BaseException], ...] = field(default=())

    def allowed(self, settings: Settings, error: BaseException | None = None) -> int:
        """The runs a job may have, after failing with `error`."""
        if error is not None and in_outage(error):
            return self.allowed_in_outage(settings)
        return _value(self.max_attempts, settings, settings.worker_max_attempts)

    def allowed_in_outage(self, settings: Settings) -> int:
        """The runs a job may have while it fails for a service's outage (`in_outage`; or as
        its caller tells from the answers, a batch's operations answered 5xx)."""
        limit = _value(self.max_attempts, settings, settings.worker_max_attempts)
        return max(limit, settings.worker_outage_max_attempts)

    def delay(self, attempts: int, settings: Settings) -> float:
        return backoff_delay(
            attempts,
            _value(self.backoff_base, settings, settings.worker_backoff_base_seconds),
            self.longest(settings),
        )

    def longest(self, settings: Settings) -> float:
        """The longest wait before a retry, a service's `Retry-After` included."""
        return _value(self.backoff_max, settings, settings.worker_backoff_max_seconds)

    def describe(self, error: BaseException) -> str:
        if isinstance(error, self.expected):
            return error_text(error)
        return error_text(f"{type(error).__name__}: {error}")

    def decide(
        self, attempts: int, error: BaseException, settings: Settings, now: datetime
    ) -> Failure:
        """Retry (when) or give up, after the `attempts`-th run failed with `error`."""
        reason = self.describe(error)
        if attempts >= self.allowed(settings, error):
            return Failure(reason, attempts, None, error)
        wait = retry_after(error, self.longest(settings)) or self.delay(attempts, settings)
        return Failure(reason, attempts, now + timedelta(seconds=wait), error)


DEFAULT_POLICY = RetryPolicy()


_T = TypeVar("_T", int, float)


def _value(configured: _T | Callable[[Settings], _T] | None, settings: Settings, default: _T) -> _T:
    if configured is None:
        return default
    return configured(settings) if callable(configured) else configured
