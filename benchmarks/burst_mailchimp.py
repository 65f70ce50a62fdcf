"""The Mailchimp sandbox of the burst benchmark, in a process of its own (see `benchmarks.burst`).

`python -m benchmarks.burst_mailchimp --port P --latency S` serves the Mailchimp sandbox of
`benchmarks.mailchimp_stack` (its demo account, every request `S` seconds late, `/_bench/stats`)
plus the burst's own controls:

* `POST /_bench/expect` (JSON: Mailchimp product id -> title): the titles Mailchimp should hold,
  as Saleor names the products now (`benchmarks.burst_stack`'s `/_bench/names`);
* `GET /_bench/compare[?full=1]`: how many expected products Mailchimp does not hold under the
  expected title;
* `POST /_bench/reset-peak`: forget the peak of concurrent connections so far.

Real Saleor and real Mailchimp are separate services: served from one Python process, the two
sandboxes took turns on one core, and a second worker's bursts waited for that core rather
than for the 150 ms the benchmark models.
"""

from __future__ import annotations

import gc
from typing import Any

import orjson
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from benchmarks.mailchimp_stack import MailchimpBench
from benchmarks.stack import arguments, run, send_json


class BurstMailchimp(MailchimpBench):
    """`MailchimpBench` and the burst's controls."""

    def __init__(self, origin: str, latency: float) -> None:
        super().__init__(origin, latency)
        self.expected: dict[str, str] = {}
        self._differing: set[str] | None = None  # what the last compare found (None: all)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path == "/_bench/expect":
            self.expected = orjson.loads(await Request(scope, receive).body())
            self._differing = None
            await send_json(send, {"products": len(self.expected)})
        elif path == "/_bench/compare":
            full = b"full=1" in scope.get("query_string", b"")
            await send_json(send, {"differ": self.compare(full=full)})
        elif path == "/_bench/reset-peak":
            self.sandbox.reset_peak_concurrency(self.account)
            await send_json(send, {})
        else:
            await super().__call__(scope, receive, send)

    def compare(self, *, full: bool) -> int:
        """Expected products Mailchimp does not hold under their title. Polled twice a second
        while a backlog drains: a poll looks again only at those that differed at the last
        one, and a whole scan confirms any "none differ"."""
        stores = self.sandbox.stores(self.account)
        state = self.sandbox.state.accounts[self.account.id]
        held: dict[str, Any] = state.stores[stores[0].id].products if stores else {}
        expected = self.expected

        def differ(ids: Any) -> set[str]:
            out = set()
            for product_id in ids:
                found = held.get(product_id)
                if found is None or found.title != expected[product_id]:
                    out.add(product_id)
            return out

        left = None if full or self._differing is None else differ(self._differing)
        if not left:
            left = differ(expected)
        self._differing = left
        return len(left)


def main() -> None:
    args = arguments(__doc__).parse_args()
    gc.freeze()  # as `benchmarks.mailchimp_stack`: the heap is the sandbox's data
    gc.set_threshold(700, 10, 1000)
    run(BurstMailchimp(f"http://127.0.0.1:{args.port}", args.latency), args.port)


if __name__ == "__main__":
    main()
