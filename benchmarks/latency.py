"""Live-sync latency: from a Saleor event to the request Mailchimp sees, one event at a time.

Run: `.venv/bin/python -m benchmarks.latency [--events 50] [--database-url URL]`. Everything
runs in-process, with no added latency, against the Saleor and Mailchimp sandboxes (a temporary
SQLite database unless `--database-url` names an empty one): the app runs as in production,
`create_app(services, run_worker=True)` with default settings and the real clock, so its
in-process worker takes the jobs. Each event (a customer update, an order creation, in turns)
is timed from the Saleor change (which sends the signed webhook to the app) to the first
request about that entity that reaches the Mailchimp sandbox; the next event starts once the
app is quiet again. Targets: p50 <= 100 ms, p95 <= 250 ms, per kind and overall.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from addon.app import create_app
from addon.capabilities import create_services
from addon.db.engine import Database
from addon.db.migrations import upgrade
from addon.db.types import utcnow
from addon.ecommerce.stores_repository import stable_store_id
from addon.jobs.models import Job, JobStatus
from addon.services import Services
from benchmarks.live_sync import bench_settings, track_a_channel
from sandboxes.mailchimp import MailchimpSandbox
from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.store_catalog import VariantSpec
from sandboxes.transport import HostRoutingTransport

APP = "http://app.test"
TARGET_P50_MS = 100.0
TARGET_P95_MS = 250.0
GIVE_UP_SECONDS = 10.0  # an event not seen by then counts as this long (a miss)

Scope = dict[str, Any]
Asgi = Callable[[Scope, Any, Any], Awaitable[None]]


class Seen:
    """Wraps the Mailchimp sandbox's ASGI app: when each request reached it, and its path."""

    def __init__(self, app: Asgi) -> None:
        self.app = app
        self.log: list[tuple[float, str]] = []
        self._arrived = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.log.append((time.perf_counter(), str(scope["path"])))
            self._arrived.set()
        await self.app(scope, receive, send)

    async def first(self, start: int, marker: str) -> float | None:
        """When the first request from `log[start:]` whose path contains `marker` arrived."""
        deadline = time.perf_counter() + GIVE_UP_SECONDS
        while True:
            for at, path in self.log[start:]:
                if marker in path:
                    return at
            self._arrived.clear()
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return None
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                return None


async def _quiet(services: Services) -> None:
    """Until no job is due or running (the app has done all it was asked so far)."""
    deadline = time.perf_counter() + 120
    while time.perf_counter() < deadline:
        async with services.db.session() as session:
            busy = await session.scalar(
                select(func.count())
                .select_from(Job)
                .where(
                    (Job.status == JobStatus.RUNNING)
                    | ((Job.status == JobStatus.PENDING) & (Job.run_after <= utcnow()))
                )
            )
        if not busy:
            return
        await asyncio.sleep(0.02)
    raise SystemExit("the app never became quiet")


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def run(events: int, database_url: str | None) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        settings = bench_settings(url, Path(tmp))
        database = Database(url)
        await upgrade(database.engine)
        await database.dispose()
        network = HostRoutingTransport()
        services = create_services(settings, transport=network)
        app = create_app(services, run_worker=True)  # the worker as in production
        network.add("app.test", app)
        saleor = SaleorSandbox("http://saleor.test/graphql/", transport=network)
        network.add("saleor.test", saleor.app)
        mailchimp = MailchimpSandbox(public_base_url="http://mailchimp.test", transport=network)
        seen = Seen(mailchimp.app)
        network.add("mailchimp.test", seen)
        try:
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(transport=network, base_url=APP) as client,
            ):
                return await _scenario(services, saleor, mailchimp, seen, client, events)
        finally:
            await mailchimp.aclose()
            await services.aclose()


async def _scenario(
    services: Services,
    saleor: SaleorSandbox,
    mailchimp: MailchimpSandbox,
    seen: Seen,
    client: httpx.AsyncClient,
    events: int,
) -> dict[str, list[float]]:
    channel, list_id = await track_a_channel(saleor, mailchimp, client)
    product = await saleor.create_product("Product", [VariantSpec(sku="SKU-1", price=Decimal(5))])
    customer = await saleor.create_customer("c@bench.example", "First", "Last")
    await _quiet(services)
    store = f"/ecommerce/stores/{stable_store_id(saleor.api_url, channel.slug, list_id)}"

    async def customer_update(n: int) -> str:
        await saleor.update_customer(customer, last_name=f"Changed{n}")
        return f"{store}/customers/"

    async def order_creation(n: int) -> str:
        line = saleor.order_line(product.variants[0], 1 + n % 3)
        await saleor.create_order(lines=[line], user=customer)
        return f"{store}/orders"

    kinds: dict[str, Callable[[int], Awaitable[str]]] = {
        "customer update": customer_update,
        "order creation": order_creation,
    }
    figures: dict[str, list[float]] = {kind: [] for kind in kinds}
    for n in range(events):
        for kind, event in kinds.items():
            start = len(seen.log)
            began = time.perf_counter()
            marker = await event(n)
            arrived = await seen.first(start, marker)
            elapsed = GIVE_UP_SECONDS if arrived is None else arrived - began
            figures[kind].append(elapsed * 1000)
            await _quiet(services)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=50, help="events of each kind")
    parser.add_argument("--database-url", help="an empty database (default: temporary SQLite)")
    options = parser.parse_args()
    figures = asyncio.run(run(options.events, options.database_url))
    figures["overall"] = [value for values in list(figures.values()) for value in values]
    print("event -> request seen by Mailchimp, one event at a time (ms)")
    print(f"{'':>16} {'events':>7} {'p50':>8} {'p95':>8} {'max':>8}")
    ok = True
    for kind, values in figures.items():
        p50, p95 = statistics.median(values), _percentile(values, 0.95)
        print(f"{kind:>16} {len(values):>7} {p50:>8.1f} {p95:>8.1f} {max(values):>8.1f}")
        ok = ok and p50 <= TARGET_P50_MS and p95 <= TARGET_P95_MS
    print(f"targets: p50 <= {TARGET_P50_MS:.0f} ms, p95 <= {TARGET_P95_MS:.0f} ms")
    print("targets met" if ok else "TARGETS MISSED")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
