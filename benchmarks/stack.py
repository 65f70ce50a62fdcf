"""The sandbox side of the initial-sync benchmark, run in its own process.

`python -m benchmarks.stack --port P --products N --customers N --orders N --latency S` serves
the dev stack (the app's web side, the Saleor sandbox and the Mailchimp sandbox on one origin,
see `sandboxes.devstack`) with a generated store. The app's worker runs in another process,
so its memory is measured alone. Every request to either sandbox waits `--latency` seconds (the
Mailchimp API inside its per-account connection window, so the concurrency cap sees it), and
`GET /_bench/stats` reports what the sandboxes saw.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from addon.config import load_settings
from sandboxes.devstack import MAILCHIMP_PATH, SALEOR_PATH, DevStack, create_dev_app
from sandboxes.saleor.generator import generate_store


class BenchStack:
    """Counts and delays requests to the sandboxes; answers `/_bench/stats`."""

    def __init__(self, app: ASGIApp, stack: DevStack, latency: float) -> None:
        self.app = app
        self.stack = stack
        self.latency = latency
        self.saleor_requests = 0
        self.mailchimp_requests = 0
        self.archive_downloads = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path == "/_bench/stats":
            await self._stats(send)
            return
        if path.startswith(SALEOR_PATH + "/graphql"):
            self.saleor_requests += 1
            await asyncio.sleep(self.latency)
        elif path.startswith(MAILCHIMP_PATH + "/_batch-results/"):
            # Result archives come from S3 in real life: a request of their own, as slow.
            self.mailchimp_requests += 1
            self.archive_downloads += 1
            await asyncio.sleep(self.latency)
        elif path.startswith(MAILCHIMP_PATH):
            self.mailchimp_requests += 1  # the latency is a sandbox fault (inside its window)
        await self.app(scope, receive, send)

    def stats(self) -> dict[str, Any]:
        mailchimp, account = self.stack.mailchimp, self.stack.demo_account
        apps = list(self.stack.saleor.store.apps.values())
        stores = mailchimp.stores(account)
        contents = {}
        if stores:
            data = mailchimp.state.accounts[account.id].stores[stores[0].id]
            contents = {
                "products": len(data.products),
                "customers": len(data.customers),
                "orders": len(data.orders),
            }
        return {
            "app_id": apps[0].global_id if apps else None,
            "api_key": account.api_key,
            "saleor_requests": self.saleor_requests,
            "mailchimp_requests": self.mailchimp_requests,
            "archive_downloads": self.archive_downloads,
            "peak_concurrency": mailchimp.peak_concurrency(account),
            "store": contents,
        }

    async def _stats(self, send: Send) -> None:
        body = json.dumps(self.stats()).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--products", type=int, required=True)
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--orders", type=int, required=True)
    parser.add_argument("--latency", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    settings = load_settings()
    app = create_dev_app(settings, run_worker=False)
    stack: DevStack = app.state.devstack
    started = time.perf_counter()
    generate_store(
        stack.saleor.store,
        products=args.products,
        customers=args.customers,
        orders=args.orders,
        seed=args.seed,
    )
    print(f"generated the store in {time.perf_counter() - started:.1f} s", flush=True)
    stack.mailchimp.faults.set(latency=args.latency)
    uvicorn.run(
        BenchStack(app, stack, args.latency),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        lifespan="on",
    )


if __name__ == "__main__":
    main()
