"""The burst benchmark's load: product updates made in the Saleor sandbox and their signed
PRODUCT_UPDATED webhooks delivered to the app, paced evenly over a given time from SENDERS
kept-alive connections, as Saleor's webhook workers deliver them, each retried as Saleor
retries it."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx

# Deliveries in flight at once from the Saleor sandbox (Saleor's webhook workers).
SENDERS = 32
DELIVERY_ATTEMPTS = 3


@dataclass
class Delivered:
    first_at: float
    last_at: float
    failed: int


async def deliver_burst(http: httpx.AsyncClient, count: int, seconds: float, tag: str) -> Delivered:
    """Update `count` products in Saleor and deliver their webhooks to the app, paced evenly
    over `seconds` from SENDERS kept-alive connections (Saleor's webhook workers). `http`: the
    burst stack's (`benchmarks.burst_stack`) origin; `tag` marks the products' new names."""
    deliveries = (await http.get(f"/_bench/prepare?count={count}&tag={tag}")).json()["deliveries"]
    failed = 0
    gate = asyncio.Semaphore(SENDERS)
    limits = httpx.Limits(max_connections=SENDERS, max_keepalive_connections=SENDERS)
    async with httpx.AsyncClient(timeout=30, limits=limits) as sender:

        async def deliver(delivery: dict[str, Any]) -> None:
            nonlocal failed
            try:
                # A failed delivery is sent again, as Saleor retries it (its first retries
                # come within seconds); counted when every attempt failed.
                for _ in range(DELIVERY_ATTEMPTS):
                    try:
                        response = await sender.post(
                            delivery["url"], content=delivery["body"], headers=delivery["headers"]
                        )
                    except httpx.HTTPError:
                        continue
                    if response.is_success:
                        return
                failed += 1
            finally:
                gate.release()

        started = time.time()
        tasks = []
        for index, delivery in enumerate(deliveries):
            delay = started + index * seconds / len(deliveries) - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            await gate.acquire()
            tasks.append(asyncio.create_task(deliver(delivery)))
        await asyncio.gather(*tasks)
    return Delivered(started, time.time(), failed)
