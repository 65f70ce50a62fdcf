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
import gc
import json
import time
from collections.abc import Callable
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from addon.config import load_settings
from sandboxes.devstack import MAILCHIMP_PATH, SALEOR_PATH, DevStack, create_dev_app
from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount
from sandboxes.saleor.generator import generate_store


async def send_json(send: Send, body: dict[str, Any]) -> None:
    """Answers a control request (`/_bench/...`) with `body`."""
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})


class MailchimpFigures:
    """Counts and delays requests to a Mailchimp sandbox, for `/_bench/stats`: the same keys
    whether the stack process serves it (`BenchStack`) or a process of its own
    (`benchmarks.mailchimp_stack`)."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.mailchimp_requests = 0
        self.archive_downloads = 0

    async def _count_mailchimp(self, path: str) -> None:
        if path.startswith(MAILCHIMP_PATH + "/_batch-results/"):
            # Result archives come from S3 in real life: a request of their own, as slow.
            self.mailchimp_requests += 1
            self.archive_downloads += 1
            await asyncio.sleep(self.latency)
        elif path.startswith(MAILCHIMP_PATH):
            self.mailchimp_requests += 1  # the latency is a sandbox fault (inside its window)

    def _mailchimp_stats(
        self, sandbox: MailchimpSandbox, account: SandboxAccount
    ) -> dict[str, Any]:
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
            "mailchimp_requests": self.mailchimp_requests,
            "archive_downloads": self.archive_downloads,
            "peak_concurrency": sandbox.peak_concurrency(account),
            "store": contents,
        }


class BenchStack(MailchimpFigures):
    """Counts and delays requests to the sandboxes; answers `/_bench/stats`."""

    def __init__(self, app: ASGIApp, stack: DevStack, latency: float) -> None:
        super().__init__(latency)
        self.app = app
        self.stack = stack
        self.saleor_requests = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path == "/_bench/stats":
            await send_json(send, self.stats())
            return
        if path.startswith(SALEOR_PATH + "/graphql"):
            self.saleor_requests += 1
            await asyncio.sleep(self.latency)
        else:
            await self._count_mailchimp(path)
        await self.app(scope, receive, send)

    def stats(self) -> dict[str, Any]:
        apps = list(self.stack.saleor.store.apps.values())
        return {
            "app_id": apps[0].global_id if apps else None,
            "saleor_requests": self.saleor_requests,
            **self._mailchimp_stats(self.stack.mailchimp, self.stack.demo_account),
        }


def arguments(description: str | None) -> argparse.ArgumentParser:
    """The options every benchmark stack process takes: its port and the latency."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency", type=float, default=0.15)
    return parser


def run(app: ASGIApp, port: int) -> None:
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")


def serve(
    bench: Callable[[ASGIApp, DevStack], BenchStack],
    *,
    port: int,
    latency: float,
    products: int,
    customers: int,
    orders: int,
    seed: int = 7,
) -> None:
    """Serves the dev stack with a generated store behind `bench(app, stack)`, the Mailchimp
    sandbox answering `latency` seconds late."""
    app = create_dev_app(load_settings(), run_worker=False)
    stack: DevStack = app.state.devstack
    started = time.perf_counter()
    generate_store(
        stack.saleor.store, products=products, customers=customers, orders=orders, seed=seed
    )
    print(f"generated the store in {time.perf_counter() - started:.1f} s", flush=True)
    # Saleor's data lives in its database, not in a Python heap the collector walks: the
    # generated store (millions of objects at full size) is kept out of every full collection,
    # which took a tenth of this process's CPU during a sync.
    gc.collect()
    gc.freeze()
    stack.mailchimp.faults.set(latency=latency)
    run(bench(app, stack), port)


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--products", type=int, required=True)
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--orders", type=int, required=True)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    serve(
        lambda app, stack: BenchStack(app, stack, args.latency),
        port=args.port,
        latency=args.latency,
        products=args.products,
        customers=args.customers,
        orders=args.orders,
        seed=args.seed,
    )


if __name__ == "__main__":
    main()
