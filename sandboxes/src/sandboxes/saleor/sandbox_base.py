"""The base of ``SaleorSandbox`` (sandbox.py), whose parts are the ``sandbox_*`` modules: the
state they share, the sandbox's identity (its domain, JWKS URL and HTTP client), its signing
keys and signatures, and the awaitable check its two executions (API requests, webhook payloads)
give graphql-core."""

from __future__ import annotations

from collections.abc import Awaitable
from types import CoroutineType
from typing import Any, TypeGuard

import httpx

from .keys import KeyRing, SigningKey
from .store import SaleorStore
from .webhooks import Delivery


class SandboxBase:
    """What every part of :class:`~sandboxes.saleor.sandbox.SaleorSandbox` shares: its state
    (declared here, set by ``SaleorSandbox.__init__``), its identity and its signing keys."""

    version: str
    api_url: str
    transport: httpx.AsyncBaseTransport | None
    timeout: float
    _key_size: int
    keys: KeyRing
    store: SaleorStore
    deliveries: list[Delivery]

    # -- identity --------------------------------------------------------------------------

    @property
    def domain(self) -> str:
        """``host[:port]`` of the API URL (the ``Saleor-Domain`` header)."""
        return httpx.URL(self.api_url).netloc.decode("ascii")

    @property
    def jwks_url(self) -> str:
        """``<origin of api_url>/.well-known/jwks.json``."""
        url = httpx.URL(self.api_url)
        return str(url.copy_with(path="/.well-known/jwks.json", query=None))

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport, timeout=self.timeout)

    # -- keys and signatures -------------------------------------------------------------------

    @property
    def kid(self) -> str:
        """The ``kid`` of the current signing key."""
        return self.keys.current.kid

    def rotate_keys(
        self, keep_previous: bool = False, new_key: SigningKey | None = None
    ) -> SigningKey:
        """Switch to a new signing key (new ``kid``); keep publishing the old one if asked."""
        key = new_key or SigningKey.generate(self._key_size)
        self.keys.rotate(key, keep_previous=keep_previous)
        return key

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The JWKS document served at ``/.well-known/jwks.json``."""
        return self.keys.jwks()

    def sign(self, body: bytes) -> str:
        """The ``Saleor-Signature`` of ``body``: detached JWS, unencoded payload (RFC 7797)."""
        return self.keys.current.sign_detached(body)


def is_coroutine(value: Any) -> TypeGuard[Awaitable[Any]]:
    """graphql-core's awaitable check for this sandbox: every resolver here is synchronous, so
    the only awaitables an execution meets are coroutines (graphql-core's own, for an
    asynchronous part). Its default also looks for `__await__` on every field's value, about a
    tenth of the time spent rendering a page of orders."""
    return type(value) is CoroutineType
