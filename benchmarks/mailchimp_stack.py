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

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import Receive, Scope, Send

from benchmarks.stack import MailchimpFigures, arguments, run, send_json
from sandboxes.devstack import MAILCHIMP_PATH
from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount


class MailchimpBench(MailchimpFigures):
    """Counts and delays requests to the Mailchimp sandbox; answers `/_bench/stats`."""

    def __init__(self, origin: str, latency: float) -> None:
        super().__init__(latency)
        self.sandbox = MailchimpSandbox(public_base_url=origin + MAILCHIMP_PATH)
        self.account: SandboxAccount = self.sandbox.create_account(
            "Demo Store", "owner@demo-store.example", role="owner"
        )
        self.sandbox.faults.set(latency=latency)

        @asynccontextmanager
        async def lifespan(_: Starlette) -> AsyncIterator[None]:
            yield
            await self.sandbox.aclose()

        self.app = Starlette(routes=[Mount(MAILCHIMP_PATH, self.sandbox.app)], lifespan=lifespan)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if path == "/_bench/stats":
                await send_json(send, self.stats())
                return
            await self._count_mailchimp(path)
        await self.app(scope, receive, send)

    def stats(self) -> dict[str, Any]:
        return self._mailchimp_stats(self.sandbox, self.account)


def main() -> None:
    args = arguments(__doc__).parse_args()
    # The sandbox keeps everything the sync sends in its Python heap (Mailchimp keeps it in
    # its databases): every 25 % of growth, CPython 3.11 walks the whole heap in a full
    # collection, a fifth of this process's CPU during a sync. Young objects are still
    # collected as usual; full collections come a hundred times less often.
    gc.freeze()
    gc.set_threshold(700, 10, 1000)
    run(MailchimpBench(f"http://127.0.0.1:{args.port}", args.latency), args.port)


if __name__ == "__main__":
    main()
