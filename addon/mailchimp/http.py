"""The process-wide HTTP layer for Mailchimp: one ``httpx.AsyncClient``, per-account
concurrency caps, retries with backoff, and error mapping.

Mailchimp allows 10 simultaneous connections per user; every request of an account takes a
slot of one budget (default 5; `limits.py`: per process, or across processes on PostgreSQL).
Rate-limited and transient failures are retried with
exponential backoff and full jitter (honouring ``Retry-After``, capped at ``backoff_max``);
the semaphore is released while sleeping. Other errors are raised at once. A request that is
not idempotent (``POST /batches``) is resent only after a definite refusal (429, a connection
never made); any other failure may have reached Mailchimp and raises ``OutcomeUnknown``.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Self

import httpx
import orjson

from addon.clock import current_clock
from addon.metrics import send_observed

from .credentials import validate_dc
from .error_responses import error_from_response
from .errors import (
    MailchimpError,
    OutcomeUnknown,
    TransientError,
    Unreachable,
)
from .limits import AccountSlots, LocalSlots

__all__ = ["DEFAULT_API_URL_TEMPLATE", "DEFAULT_LOGIN_URL", "MailchimpHttp"]

logger = logging.getLogger("addon.mailchimp")

DEFAULT_API_URL_TEMPLATE = "https://{dc}.api.mailchimp.com/3.0"
DEFAULT_LOGIN_URL = "https://login.mailchimp.com"
DEFAULT_TIMEOUT = httpx.Timeout(120.0, connect=10.0)

ErrorMapper = Callable[[httpx.Response], MailchimpError]
QueryParams = Mapping[str, str | int | float | bool | None]


# Transport failures before a connection carried the request: it was never sent.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def _maybe_acted(error: MailchimpError) -> bool:
    """Whether Mailchimp may have acted on a request that failed so: a 5xx, an HTML error page,
    a timeout or dropped connection once sent. A 4xx or a 429 is a refusal; a connection
    never made sent nothing."""
    return isinstance(error, TransientError) and not isinstance(error, Unreachable)


class MailchimpHttp:
    """Owns the one Mailchimp ``httpx.AsyncClient`` of the process.

    Use as ``async with MailchimpHttp(...) as http:`` or call :meth:`aclose` on shutdown.
    """

    def __init__(
        self,
        *,
        api_url_template: str = DEFAULT_API_URL_TEMPLATE,
        login_url: str = DEFAULT_LOGIN_URL,
        max_concurrency_per_account: int = 5,
        slots: AccountSlots | None = None,
        max_attempts: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if "{dc}" not in api_url_template:
            raise ValueError("api_url_template must contain '{dc}'")
        if max_concurrency_per_account < 1:
            raise ValueError("max_concurrency_per_account must be at least 1")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.api_url_template = api_url_template.rstrip("/")
        self.login_url = login_url.rstrip("/")
        self.max_concurrency_per_account = max_concurrency_per_account
        self.slots: AccountSlots = slots or LocalSlots(max_concurrency_per_account)
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._rng = rng or random.Random()
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=timeout,
            follow_redirects=False,
            headers={"Accept": "application/json"},
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()
        await self.slots.aclose()

    @property
    def is_closed(self) -> bool:
        return self._client.is_closed

    def api_url(self, dc: str) -> str:
        """The Marketing API root for a data centre, e.g. ``https://us21.api.mailchimp.com/3.0``."""
        return self.api_url_template.replace("{dc}", validate_dc(dc))

    def backoff_delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1``: ``Retry-After`` if given, else full
        jitter over ``backoff_base * 2**(attempt-1)``; both capped at ``backoff_max``."""
        if retry_after is not None:
            return min(retry_after, self.backoff_max)
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))
        return self._rng.uniform(0.0, ceiling)

    async def request(
        self,
        method: str,
        url: str,
        *,
        account_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        params: QueryParams | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        error_mapper: ErrorMapper = error_from_response,
        idempotent: bool = True,
    ) -> httpx.Response:
        """Send a request with the account's concurrency cap and retries.

        Returns the successful (2xx) response; raises a :class:`MailchimpError` otherwise.
        ``account_key=None`` sends without a concurrency cap (e.g. downloads from storage).
        ``idempotent=False``: sending it twice would do it twice (``POST /batches`` creates a
        batch each time), so it is retried only after a definite refusal (429, a connection
        never made); a failure once it may have reached Mailchimp (a timeout or a dropped
        connection after sending, a 5xx) raises :class:`OutcomeUnknown` at once.
        """
        clean_params = {k: v for k, v in (params or {}).items() if v is not None}
        # Built once: a retry sends the same request again (its body is already encoded).
        # Bodies are encoded with orjson (a batch of 1,000 orders: the standard library took
        # a tenth of the worker's CPU in an initial sync); same JSON, compact, UTF-8.
        content = None if json is None else orjson.dumps(json)
        if content is not None:
            headers = {**(headers or {}), "Content-Type": "application/json"}
        request = self._client.build_request(
            method, url, headers=headers, params=clean_params or None, content=content, data=data
        )
        for attempt in range(1, self.max_attempts + 1):
            outcome = await self._attempt(request, account_key, error_mapper)
            if isinstance(outcome, httpx.Response):
                return outcome
            if not idempotent and _maybe_acted(outcome):
                unknown = OutcomeUnknown.after(outcome)
                self._log_failure(unknown, attempt)
                raise unknown from outcome
            self._log_failure(outcome, attempt)
            if not outcome.retryable or attempt >= self.max_attempts:
                raise outcome
            # The process's clock: tests move it instead of waiting out the backoff.
            await current_clock().sleep(self.backoff_delay(attempt, outcome.retry_after))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attempt(
        self, request: httpx.Request, account_key: str | None, error_mapper: ErrorMapper
    ) -> httpx.Response | MailchimpError:
        try:
            if account_key is None:
                response = await send_observed(self._client, request)
            else:
                async with self.slots.slot(account_key):
                    response = await send_observed(self._client, request, account_key)
        except _NOT_SENT as exc:
            # No connection was made: nothing reached Mailchimp.
            said = "The request timed out" if isinstance(exc, httpx.TimeoutException) else None
            return Unreachable(
                f"{said or 'Could not reach Mailchimp'} ({type(exc).__name__}).",
                method=request.method,
                path=request.url.path,
            )
        except httpx.TimeoutException as exc:
            return TransientError(
                f"The request timed out ({type(exc).__name__}).",
                method=request.method,
                path=request.url.path,
            )
        except httpx.TransportError as exc:
            return TransientError(
                f"Could not reach Mailchimp ({type(exc).__name__}).",
                method=request.method,
                path=request.url.path,
            )
        if response.is_success:
            return response
        return error_mapper(response)

    def _log_failure(self, error: MailchimpError, attempt: int) -> None:
        will_retry = error.retryable and attempt < self.max_attempts
        logger.warning(
            "Mailchimp %s %s failed: status=%s title=%r instance=%s (attempt %d/%d%s)",
            error.method,
            error.path,
            error.status if error.status is not None else "-",
            error.title or error.detail,
            error.instance or "-",
            attempt,
            self.max_attempts,
            ", will retry" if will_retry else "",
        )
