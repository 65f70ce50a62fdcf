"""``SaleorSandbox``: an in-process Saleor instance for tests and offline demos.

It installs apps the way Saleor does (manifest, auth token handshake, webhooks), serves JWKS and
a GraphQL API over an ASGI app (:attr:`SaleorSandbox.app`), keeps a store of channels,
customers, products, checkouts and orders, and delivers webhooks signed exactly like Saleor's.
Outbound requests (to the app) go through the ``transport`` given at construction, so the whole
exchange can run in memory with :class:`~sandboxes.transport.HostRoutingTransport`.

Typical use::

    saleor = SaleorSandbox(transport=HostRoutingTransport({"app.test": app}))
    transport.add("saleor.test", saleor.app)
    installed = await saleor.install_app("http://app.test/api/manifest")
    customer = await saleor.create_customer("ann@example.com")   # emits CUSTOMER_CREATED

The class is assembled here from its parts, one module each: ``sandbox_base`` (state, identity,
keys), ``sandbox_tokens``, ``sandbox_api`` (GraphQL), ``sandbox_apps``, ``sandbox_webhooks``,
``sandbox_store`` (store operations with their events) and ``sandbox_payments``.
"""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from .asgi import build_asgi_app
from .channels import SandboxChannels
from .keys import KeyRing, SigningKey
from .promotions import SandboxPromotions
from .sandbox_api import SandboxApi
from .sandbox_apps import SandboxApps
from .sandbox_payments import SandboxPayments
from .sandbox_store import SandboxStoreEvents
from .store import SaleorStore
from .versions import CURRENT_VERSION, PLAYABLE_VERSIONS
from .vouchers import SandboxVouchers
from .webhooks import Delivery

SALEOR_VERSION = CURRENT_VERSION  # the version a sandbox plays unless told otherwise


class SaleorSandbox(SandboxApi, SandboxApps, SandboxStoreEvents, SandboxPayments):
    """An in-memory Saleor: apps, webhooks, JWKS, tokens, GraphQL API and store."""

    def __init__(
        self,
        api_url: str = "http://saleor.test/graphql/",
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        signing_key: SigningKey | None = None,
        key_size: int = 2048,
        timeout: float = 10.0,
        version: str = CURRENT_VERSION,
    ) -> None:
        if version not in PLAYABLE_VERSIONS:
            raise ValueError(f"The sandbox plays Saleor {', '.join(PLAYABLE_VERSIONS)}")
        self.version = version
        """The Saleor it plays (see :mod:`.versions`): its schema, events and version."""
        self.api_url = api_url
        self.transport = transport
        self.timeout = timeout
        self._key_size = key_size
        self.keys = KeyRing(signing_key or SigningKey.generate(key_size))
        self.store = SaleorStore()
        self.deliveries: list[Delivery] = []
        self.app: Starlette = build_asgi_app(self)
        self.vouchers = SandboxVouchers(self)
        """Vouchers and orders placed with their codes (`vouchers.py`)."""
        self.promotions = SandboxPromotions(self)
        """Catalogue promotions and the discounted prices they make (`promotions.py`)."""
        self.channels = SandboxChannels(self)
        """A channel's slug changed, a channel deleted (`channels.py`)."""


__all__ = ["SaleorSandbox"]
