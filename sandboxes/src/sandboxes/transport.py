"""An httpx transport that routes requests by host to in-process ASGI apps.

Tests wire the app, the Saleor sandbox and the Mailchimp sandbox together with it, so every
request crosses a real HTTP layer (headers, bodies, status codes) without opening a socket.
"""

from __future__ import annotations

import httpx
from starlette.types import ASGIApp


class HostRoutingTransport(httpx.AsyncBaseTransport):
    """Send each request to the ASGI app registered for its host (``host`` or ``host:port``)."""

    def __init__(self, routes: dict[str, ASGIApp] | None = None) -> None:
        self._routes: dict[str, httpx.ASGITransport] = {}
        for host, app in (routes or {}).items():
            self.add(host, app)

    def add(self, host: str, app: ASGIApp) -> None:
        self._routes[host.lower()] = httpx.ASGITransport(app=app)

    def remove(self, host: str) -> ASGIApp:
        """Take a host off the network (its requests fail to connect); answers its app."""
        return self._routes.pop(host.lower()).app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host.lower()
        netloc = request.url.netloc.decode("ascii").lower()
        transport = self._routes.get(netloc) or self._routes.get(host)
        if transport is None:
            raise httpx.ConnectError(
                f"No route to host {netloc!r} in the sandbox network", request=request
            )
        return await transport.handle_async_request(request)
