"""The calls every part of :class:`~addon.mailchimp.client.MailchimpClient` is built on: one
account's credentials on the process's :class:`MailchimpHttp`, the escape hatch
(``request``), and typed reads, writes and pagination."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from .credentials import MailchimpCredentials
from .errors import TransientError
from .http import MailchimpHttp, QueryParams
from .models import MailchimpInput

__all__ = ["PAGE_SIZE", "ClientBase"]

M = TypeVar("M", bound=BaseModel)
PAGE_SIZE = 100


class ClientBase:
    """One account's credentials and the typed calls the client's parts share.

    Every method raises a :class:`~addon.mailchimp.errors.MailchimpError` subclass on failure.
    """

    def __init__(self, http: MailchimpHttp, credentials: MailchimpCredentials) -> None:
        self.http = http
        self.credentials = credentials
        self.base_url = http.api_url(credentials.dc)

    def __repr__(self) -> str:
        return f"MailchimpClient(dc={self.credentials.dc!r}, kind={self.credentials.kind!r})"

    # --- escape hatch ---------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: QueryParams | None = None,
        json: Any = None,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        """Call any Marketing API path (``/lists/...``); returns the JSON object (``{}`` for
        204 No Content). ``idempotent=False``: never resent once it may have reached
        Mailchimp (see :meth:`MailchimpHttp.request`)."""
        if not path.startswith("/"):
            path = "/" + path
        response = await self.http.request(
            method,
            self.base_url + path,
            account_key=self.credentials.account_key,
            headers={"Authorization": self.credentials.authorization},
            params=params,
            json=json,
            idempotent=idempotent,
        )
        if response.status_code == 204 or not response.content:
            return {}
        try:
            data = orjson.loads(response.content)
        except ValueError as exc:
            raise TransientError(
                "Mailchimp answered with a body that is not JSON.",
                status=response.status_code,
                method=method,
                path=response.request.url.path,
            ) from exc
        return data if isinstance(data, dict) else {"items": data}

    async def _get(self, model: type[M], path: str, params: QueryParams | None = None) -> M:
        return self._parse(model, await self.request("GET", path, params=params), path)

    async def _send(
        self,
        model: type[M],
        method: str,
        path: str,
        body: MailchimpInput | dict[str, Any],
        *,
        idempotent: bool = True,
    ) -> M:
        payload = body.body() if isinstance(body, MailchimpInput) else body
        data = await self.request(method, path, json=payload, idempotent=idempotent)
        return self._parse(model, data, path)

    @staticmethod
    def _parse(model: type[M], data: Mapping[str, Any], path: str) -> M:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise TransientError(
                f"Mailchimp's response did not have the expected shape for {model.__name__} "
                f"({exc.error_count()} problems).",
                path=path,
            ) from exc

    async def _paginate(
        self,
        model: type[M],
        path: str,
        key: str,
        *,
        count: int = PAGE_SIZE,
        offset: int = 0,
        params: QueryParams | None = None,
    ) -> AsyncIterator[M]:
        while True:
            page = await self.request(
                "GET", path, params={**(params or {}), "count": count, "offset": offset}
            )
            items = page.get(key) or []
            for item in items:
                yield self._parse(model, item, path)
            offset += len(items)
            total = page.get("total_items")
            if not items or len(items) < count or (isinstance(total, int) and offset >= total):
                return
