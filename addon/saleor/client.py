"""The one HTTP client for Saleor: GraphQL through gql, and JWKS."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
from gql import Client, GraphQLRequest
from gql.transport.exceptions import (
    TransportConnectionFailed,
    TransportError,
    TransportQueryError,
    TransportServerError,
)
from gql.transport.httpx import HTTPXAsyncTransport
from pydantic import SecretStr

from addon.saleor.documents import load_document, printed_document
from addon.saleor.schemas import Jwks

logger = logging.getLogger(__name__)


class SaleorError(Exception):
    """Base for failures talking to Saleor."""


class SaleorUnavailable(SaleorError):
    """Saleor could not be reached or answered with a server error."""

    def __init__(self, message: str, *, outage: bool = True) -> None:
        super().__init__(message)
        # An outage (no answer, a 5xx, 408 or 429) the worker retries longer
        # (`jobs.retry.in_outage`); not an HTTP refusal that repeats (a proxy's 403, a 404).
        self.retryable = outage


def _outage_status(code: int | None) -> bool:
    """An HTTP status of a service down or throttling (retried for as long as an outage)."""
    return code is None or code >= 500 or code in (408, 429)


class SaleorQueryError(SaleorError):
    """Saleor answered the GraphQL document with errors (e.g. a token without permission)."""

    def __init__(self, message: str, errors: list[dict[str, Any]], data: dict[str, Any] | None):
        super().__init__(message)
        self.errors = errors
        self.data = data

    def errors_at(self, field: str) -> list[dict[str, Any]]:
        """The errors of one top-level field, by its response key (alias): a field whose
        resolver raised is null in `data`, and its error's `path` starts with that key."""
        return [
            e
            for e in self.errors
            if isinstance(e, dict) and isinstance(e.get("path"), list) and e["path"][:1] == [field]
        ]

    def denied_at(self, field: str) -> bool:
        """Whether that field failed only for lack of a permission (PermissionDenied)."""
        errors = self.errors_at(field)
        return bool(errors) and all(_error_code(e) == PERMISSION_DENIED for e in errors)


class SaleorPermissionDenied(SaleorQueryError):
    """Saleor refused for lack of a permission (``extensions.exception.code`` is
    ``PermissionDenied``, as saleor/graphql/views.py formats ``core.exceptions.PermissionDenied``).
    The app's permissions are fixed at installation: asking again cannot help."""


class SaleorTokenRefused(SaleorPermissionDenied):
    """Saleor answered 401: it does not accept the token at all."""


PERMISSION_DENIED = "PermissionDenied"

# Called with the Saleor API URL and the token when Saleor refuses a call for lack of
# permission. Saleor authenticates only the token of an installed, active app and answers any
# other token as an anonymous caller (saleor/graphql/app/dataloaders/app.py, `AppByTokenLoader`:
# `is_active=True, removed_at__isnull=True`), so a refusal is how a deactivated or deleted app
# first shows.
RefusalListener = Callable[[str, SecretStr], Awaitable[None]]


def _error_code(error: dict[str, Any]) -> str | None:
    extensions = error.get("extensions")
    exception = extensions.get("exception") if isinstance(extensions, dict) else None
    code = exception.get("code") if isinstance(exception, dict) else None
    return code if isinstance(code, str) else None


def jwks_url(saleor_api_url: str) -> str:
    parts = urlsplit(saleor_api_url)
    return f"{parts.scheme}://{parts.netloc}/.well-known/jwks.json"


def saleor_domain(saleor_api_url: str) -> str:
    return urlsplit(saleor_api_url).netloc


class _SharedClientTransport(HTTPXAsyncTransport):
    """gql transport that borrows the process's httpx client instead of opening its own."""

    def __init__(self, url: str, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        # orjson reads a page of 100 orders in 2 ms, against 3.4 ms with the standard library.
        super().__init__(url=url, json_deserialize=orjson.loads)
        self._shared = client
        self._headers = headers

    async def connect(self) -> None:
        self.client = self._shared

    async def close(self) -> None:
        self.client = None

    def _prepare_request(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        # gql hands headers to the client it would create; ours is shared, so add them here.
        post_args: dict[str, Any] = super()._prepare_request(*args, **kwargs)
        post_args["headers"] = {**post_args.get("headers", {}), **self._headers}
        return post_args


class _PrintedRequest(GraphQLRequest):
    """A request whose query text was printed once per document, not once per request."""

    def __init__(self, name: str, variables: dict[str, Any] | None) -> None:
        super().__init__(load_document(name), variable_values=variables)
        self._query = printed_document(name)

    @property
    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"query": self._query}
        if self.variable_values:
            payload["variables"] = self.variable_values
        return payload


# How long a request to Saleor may wait for its answer (a page of 100 orders from a busy Saleor
# can take seconds); a timeout is `SaleorUnavailable`, which is retried.
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# Connections kept open between requests: more than the app sends Saleor at once (the worker's
# jobs, an engagement collection's 25 writes). httpx keeps 20 by default, so each round of
# writes closed some and opened them again.
LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=64)


class SaleorClient:
    def __init__(self, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=TIMEOUT,
            limits=LIMITS,
            headers={"User-Agent": "saleor-mailchimp-addon"},
        )
        self._refusal_listeners: list[RefusalListener] = []
        self._notifications: set[asyncio.Task[None]] = set()

    def on_refused(self, listener: RefusalListener) -> None:
        """Call `listener` (in the background: the caller may hold a transaction) whenever
        Saleor refuses a call for lack of permission."""
        self._refusal_listeners.append(listener)

    def _refused(self, saleor_api_url: str, token: SecretStr) -> None:
        for listener in self._refusal_listeners:
            task = asyncio.ensure_future(self._notify(listener, saleor_api_url, token))
            self._notifications.add(task)
            task.add_done_callback(self._notifications.discard)

    @staticmethod
    async def _notify(listener: RefusalListener, saleor_api_url: str, token: SecretStr) -> None:
        try:
            await listener(saleor_api_url, token)
        except Exception:
            logger.exception("Handling a refused Saleor call of %s failed", saleor_api_url)

    async def settle(self) -> None:
        """Wait for the refusal notifications under way (shutdown, tests)."""
        while self._notifications:
            await asyncio.gather(*list(self._notifications), return_exceptions=True)

    async def aclose(self) -> None:
        await self.settle()
        await self._http.aclose()

    async def fetch_jwks(self, saleor_api_url: str) -> Jwks:
        url = jwks_url(saleor_api_url)
        try:
            response = await self._http.get(url)
            response.raise_for_status()
            return Jwks.model_validate_json(response.content)
        except (httpx.HTTPError, ValueError) as exc:
            raise SaleorUnavailable(
                f"Could not fetch Saleor's signing keys from {url}: {exc}"
            ) from exc

    async def execute(
        self,
        saleor_api_url: str,
        token: SecretStr,
        document: str,
        variables: dict[str, Any] | None = None,
        *,
        notify_refusal: bool = True,
    ) -> dict[str, Any]:
        """Run the named document from `queries/` as the app; return `data`.

        A refusal (PermissionDenied, HTTP 401) is reported to the `on_refused` listeners unless
        `notify_refusal` is off (the lifecycle check itself, a token being proven)."""
        transport = _SharedClientTransport(
            saleor_api_url,
            self._http,
            headers={"Authorization": f"Bearer {token.get_secret_value()}"},
        )
        request = _PrintedRequest(document, variables)
        try:
            # No deadline of gql's own: its default (10 s) cut every request short of the
            # client's read timeout (`TIMEOUT`) and raised a bare TimeoutError, not an answer
            # that says Saleor did not answer.
            async with Client(transport=transport, execute_timeout=None) as session:
                result: dict[str, Any] = await session.execute(request)
                return result
        except TransportQueryError as exc:
            errors = list(exc.errors or [])
            message = "; ".join(str(e.get("message", e)) for e in errors) or str(exc)
            if any(_error_code(e) == PERMISSION_DENIED for e in errors if isinstance(e, dict)):
                if notify_refusal:
                    self._refused(saleor_api_url, token)
                raise SaleorPermissionDenied(message, errors, exc.data) from exc
            raise SaleorQueryError(message, errors, exc.data) from exc
        except TransportServerError as exc:
            if exc.code == 401:
                if notify_refusal:
                    self._refused(saleor_api_url, token)
                raise SaleorTokenRefused(
                    f"Saleor at {saleor_api_url} refused the token (HTTP 401)", [], None
                ) from exc
            raise SaleorUnavailable(
                f"Saleor at {saleor_api_url} is unavailable: {exc}",
                outage=_outage_status(exc.code),
            ) from exc
        except (TransportConnectionFailed, httpx.HTTPError) as exc:
            raise SaleorUnavailable(f"Saleor at {saleor_api_url} is unavailable: {exc}") from exc
        except TransportError as exc:
            raise SaleorUnavailable(
                f"Saleor at {saleor_api_url} gave an invalid answer: {exc}"
            ) from exc
