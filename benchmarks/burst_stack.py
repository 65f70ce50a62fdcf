"""The Saleor side of the burst benchmark, run in its own process (see `benchmarks.burst`).

`python -m benchmarks.burst_stack --port P --products N --latency S` serves the dev stack of
`benchmarks.stack` (the app's web side and the Saleor sandbox holding a generated catalogue of
`N` products, every request to it delayed by `S` seconds; the app talks to the Mailchimp
sandbox of `benchmarks.burst_mailchimp`, another process) plus the burst's own controls:

* `GET /_bench/prepare?count=N&tag=T`: rename `N` products in Saleor and answer the signed
  PRODUCT_UPDATED webhooks Saleor sends for them, for the benchmark to deliver;
* `GET /_bench/names`: each product's name in Saleor, by its Mailchimp product id.
"""

from __future__ import annotations

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
        elif path == "/_bench/names":
            # The app's Mailchimp product id is the Saleor product's database id.
            products = self.stack.saleor.store.products.values()
            await send_json(send, {str(product.id): product.name for product in products})
        else:
            await super().__call__(scope, receive, send)

    async def prepare(self, count: int, tag: str) -> dict[str, Any]:
        """Rename `count` products in Saleor and answer the signed PRODUCT_UPDATED webhooks
        Saleor sends for them (bodies and headers exactly as `SaleorSandbox.emit` builds them),
        for the orchestrator to deliver: another process, as Saleor is another machine."""
        saleor = self.stack.saleor
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
