"""The sandbox side of the burst benchmark, run in its own process (see `benchmarks.burst`).

`python -m benchmarks.burst_stack --port P --products N --latency S` serves the dev stack of
`benchmarks.stack` (the app's web side, the Saleor sandbox holding a generated catalogue of `N`
products and the Mailchimp sandbox, every request to either delayed by `S` seconds) plus the
burst's own controls:

* `GET /_bench/prepare?count=N&tag=T`: rename `N` products in Saleor and answer the signed
  PRODUCT_UPDATED webhooks Saleor sends for them, for the benchmark to deliver;
* `GET /_bench/compare[?full=1]`: how many products' Mailchimp title is not Saleor's name;
* `POST /_bench/reset-peak`: forget the peak of concurrent Mailchimp connections so far.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs

from starlette.types import Receive, Scope, Send

from benchmarks.stack import BenchStack, arguments, send_json, serve


class BurstStack(BenchStack):
    """`BenchStack` and the burst's own controls."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        query = {k: v[0] for k, v in parse_qs(scope.get("query_string", b"").decode()).items()}
        if path == "/_bench/prepare":
            await send_json(send, await self.prepare(int(query["count"]), query["tag"]))
        elif path == "/_bench/compare":
            await send_json(send, self.compare(full=query.get("full") == "1"))
        elif path == "/_bench/reset-peak":
            self.stack.mailchimp.reset_peak_concurrency(self.stack.demo_account)
            await send_json(send, {})
        else:
            await super().__call__(scope, receive, send)

    _differing: set[int] | None = None  # what the last compare found (None: look at all)

    async def prepare(self, count: int, tag: str) -> dict[str, Any]:
        """Rename `count` products in Saleor and answer the signed PRODUCT_UPDATED webhooks
        Saleor sends for them (bodies and headers exactly as `SaleorSandbox.emit` builds them),
        for the orchestrator to deliver: another process, as Saleor is another machine."""
        saleor = self.stack.saleor
        self._differing = None  # products are renamed: the next compare looks at all
        deliveries = []
        for product in list(saleor.store.products.values())[:count]:
            base = product.name.split(" @", 1)[0]
            updated = saleor.store.update_product(product, name=f"{base} @{tag}")
            for app, hook in saleor._recipients("PRODUCT_UPDATED", None, None):
                body, errors = await saleor.render_payload(hook, app, "PRODUCT_UPDATED", updated)
                if errors:
                    raise RuntimeError(f"the PRODUCT_UPDATED payload failed: {errors}")
                headers = {
                    "Content-Type": "application/json",
                    "Saleor-Event": "product_updated",
                    "Saleor-Domain": saleor.domain,
                    "Saleor-Api-Url": saleor.api_url,
                    "Saleor-Signature": saleor.sign(body),
                    **hook.custom_headers,
                }
                deliveries.append(
                    {"url": hook.target_url, "headers": headers, "body": body.decode()}
                )
        return {"deliveries": deliveries}

    def compare(self, *, full: bool) -> dict[str, Any]:
        """Products whose Mailchimp title is not Saleor's name. Polled twice a second while a
        backlog drains, in the process that serves both sandboxes: a poll looks again only at
        the products that differed at the last one (a scan of all 10,000 each time was a
        seventh of this process's CPU), and a whole scan confirms any "none differ"."""
        mailchimp, account = self.stack.mailchimp, self.stack.demo_account
        stores = mailchimp.stores(account)
        held = mailchimp.state.accounts[account.id].stores[stores[0].id].products if stores else {}
        products = self.stack.saleor.store.products

        def differ(pks: Iterable[int]) -> set[int]:
            out = set()
            for pk in pks:
                found = held.get(str(products[pk].id))
                if found is None or found.title != products[pk].name:
                    out.add(pk)
            return out

        left = None if full or self._differing is None else differ(self._differing)
        if not left:
            left = differ(products)
        self._differing = left
        return {"differ": len(left), "products": len(products)}


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--products", type=int, required=True)
    args = parser.parse_args()
    serve(
        lambda app, stack: BurstStack(app, stack, args.latency),
        port=args.port,
        latency=args.latency,
        products=args.products,
        customers=0,
        orders=0,
    )


if __name__ == "__main__":
    main()
