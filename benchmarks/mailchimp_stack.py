"""The Mailchimp sandbox of the initial-sync benchmark, in a process of its own.

`python -m benchmarks.mailchimp_stack --port P --latency S` serves the Mailchimp sandbox at
`http://127.0.0.1:P/sandbox/mailchimp/` (the dev stack's path) with one demo account, as the dev
stack makes it. Real Mailchimp and real Saleor are separate services: with this process, the
benchmark's stack process (`benchmarks.stack`) answers Saleor and the app's web side only, and
the two sandboxes do not share one Python process's CPU. Every API request waits `--latency`
seconds inside the account's connection window (so the concurrency cap sees it), as do result
downloads (S3 in real life); `GET /_bench/stats` reports what the sandbox saw, with the same
Mailchimp keys as `benchmarks.stack`'s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import Receive, Scope, Send

from sandboxes.devstack import MAILCHIMP_PATH
from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount


class MailchimpBench:
    """Counts and delays requests to the Mailchimp sandbox; answers `/_bench/stats`."""

    def __init__(self, origin: str, latency: float) -> None:
        self.sandbox = MailchimpSandbox(public_base_url=origin + MAILCHIMP_PATH)
        self.account: SandboxAccount = self.sandbox.create_account(
            "Demo Store", "owner@demo-store.example", role="owner"
        )
        self.sandbox.faults.set(latency=latency)
        self.latency = latency
        self.requests = 0
        self.archive_downloads = 0

        @asynccontextmanager
        async def lifespan(_: Starlette) -> AsyncIterator[None]:
            yield
            await self.sandbox.aclose()

        self.app = Starlette(routes=[Mount(MAILCHIMP_PATH, self.sandbox.app)], lifespan=lifespan)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path == "/_bench/stats":
                body = json.dumps(self.stats()).encode()
                headers = [(b"content-type", b"application/json")]
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            if path.startswith(MAILCHIMP_PATH + "/_batch-results/"):
                # Result archives come from S3 in real life: a request of their own, as slow.
                self.requests += 1
                self.archive_downloads += 1
                await asyncio.sleep(self.latency)
            elif path.startswith(MAILCHIMP_PATH):
                self.requests += 1  # the latency is a sandbox fault (inside its window)
        await self.app(scope, receive, send)

    def stats(self) -> dict[str, Any]:
        sandbox, account = self.sandbox, self.account
        stores = sandbox.stores(account)
        contents = {}
        if stores:
            data = sandbox.state.accounts[account.id].stores[stores[0].id]
            contents = {
                "products": len(data.products),
                "customers": len(data.customers),
                "orders": len(data.orders),
            }
        return {
            "api_key": account.api_key,
            "mailchimp_requests": self.requests,
            "archive_downloads": self.archive_downloads,
            "peak_concurrency": sandbox.peak_concurrency(account),
            "store": contents,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency", type=float, default=0.15)
    args = parser.parse_args()
    bench = MailchimpBench(f"http://127.0.0.1:{args.port}", args.latency)
    uvicorn.run(bench, host="127.0.0.1", port=args.port, log_level="warning", lifespan="on")


if __name__ == "__main__":
    main()
