"""Live e-commerce sync economy: Mailchimp requests per changed entity, and cart calls for a burst.

Run: `.venv/bin/python -m benchmarks.live_sync`. Everything runs in-process against the Saleor
and Mailchimp sandboxes with a temporary SQLite database; requests are counted from the Mailchimp
sandbox's request log. Targets: ≤ 1.05 requests per changed entity; ≤ 2 cart calls for 50
updates of one checkout within a minute. The traffic includes vouchers (every voucher offered
to Mailchimp): created with their codes, renamed, codes added and deleted, orders placed with a
code (the order and the code's usage count change).
"""

from __future__ import annotations

import asyncio
import random
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import update

from addon.app import create_app
from addon.capabilities import create_services
from addon.config import Settings
from addon.db.engine import Database
from addon.db.migrations import upgrade
from addon.db.types import utcnow
from addon.ecommerce.stores_repository import stable_store_id
from addon.ecommerce.sync import PUSH_JOB
from addon.jobs.models import Job, JobStatus
from addon.jobs.worker import Worker
from addon.services import Services
from sandboxes.mailchimp import MailchimpSandbox
from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.models import Channel
from sandboxes.saleor.order_models import OrderStatus
from sandboxes.saleor.store_catalog import VariantSpec
from sandboxes.saleor.store_checkouts import LineSpec
from sandboxes.saleor.voucher_models import Voucher
from sandboxes.transport import HostRoutingTransport

APP = "http://app.test"
TARGET_PER_ENTITY = 1.05
TARGET_CART_CALLS = 2
STEPS = 300
LIST = {
    "name": "Bench news",
    "contact": {
        "company": "Bench",
        "address1": "1 Main St",
        "city": "Springfield",
        "state": "IL",
        "zip": "62701",
        "country": "US",
    },
    "permission_reminder": "You signed up at our shop.",
    "campaign_defaults": {
        "from_name": "Bench",
        "from_email": "news@bench.example",
        "subject": "News",
        "language": "en",
    },
    "email_type_option": False,
}


async def _drain(services: Services, *, skip_waits: bool = True) -> None:
    worker = Worker(services)
    for _ in range(20):
        await worker.run_until_idle()
        if not skip_waits:
            return
        async with services.db.transaction() as session:
            moved = await session.execute(
                update(Job)
                # Debounced cart pushes only: other capabilities keep their own schedules.
                .where(Job.status == JobStatus.PENDING, Job.kind == PUSH_JOB)
                .values(run_after=utcnow())
            )
        if not moved.rowcount:  # type: ignore[attr-defined]
            return


def bench_settings(database_url: str, tmp: Path) -> Settings:
    """The app's default settings, with the in-process sandboxes' addresses."""
    return Settings(
        app_url=APP,
        database_url=database_url,
        secret_key="benchmark-secret-key-benchmark-secret-key",  # type: ignore[arg-type]
        secret_key_file=tmp / ".key",
        mailchimp_api_url_template="http://mailchimp.test/{dc}/3.0",
        _env_file=None,  # type: ignore[call-arg]
    )


async def run() -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        settings = bench_settings(url, Path(tmp))
        database = Database(url)
        await upgrade(database.engine)
        network = HostRoutingTransport()
        services = create_services(settings, transport=network)
        app = create_app(services, run_worker=False)
        network.add("app.test", app)
        saleor = SaleorSandbox("http://saleor.test/graphql/", transport=network)
        network.add("saleor.test", saleor.app)
        mailchimp = MailchimpSandbox(public_base_url="http://mailchimp.test", transport=network)
        network.add("mailchimp.test", mailchimp.app)
        try:
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(transport=network, base_url=APP) as client,
            ):
                return await _scenario(services, saleor, mailchimp, client)
        finally:
            await mailchimp.aclose()
            await services.aclose()
            await database.dispose()


async def track_a_channel(
    saleor: SaleorSandbox, mailchimp: MailchimpSandbox, client: httpx.AsyncClient
) -> tuple[Channel, str]:
    """Install the app, connect a Mailchimp account with one audience, turn tracking on and
    track the default channel: the (channel, audience id) every benchmark starts from."""
    channel = await saleor.add_channel("default-channel", "Default Channel", "USD")
    app = await saleor.install_app(f"{APP}/api/manifest")
    headers = {
        "authorization-bearer": saleor.mint_dashboard_token(app),
        "saleor-api-url": saleor.api_url,
    }
    account = mailchimp.create_account("Bench Shop", "owner@bench.example")
    list_id = str((await mailchimp.call(account, "POST", "/lists", body=LIST)).body["id"])
    await client.post("/api/connection/api-key", json={"api_key": account.api_key}, headers=headers)
    await client.patch(
        "/api/ecommerce/settings",
        json={
            "tracking_enabled": True,
            "product_url_template": "https://bench.example/p/{slug}",
            "checkout_url_template": "https://bench.example/c/{token}",
        },
        headers=headers,
    )
    await client.put(
        f"/api/ecommerce/channels/{channel.slug}",
        json={"tracked": True, "list_id": list_id},
        headers=headers,
    )
    return channel, list_id


async def offer_all_vouchers(saleor: SaleorSandbox, client: httpx.AsyncClient) -> None:
    """Every voucher becomes a Mailchimp promo rule (the E-commerce page's choice)."""
    app = next(iter(saleor.store.apps.values()))
    headers = {
        "authorization-bearer": saleor.mint_dashboard_token(app),
        "saleor-api-url": saleor.api_url,
    }
    body = {"offer": "all", "redemption_url_template": "https://bench.example/cart?promo={code}"}
    response = await client.put("/api/ecommerce/promos", json=body, headers=headers)
    response.raise_for_status()


def _stock(saleor: SaleorSandbox, variant_id: int) -> int | None:
    """What the variant can still sell, as the app sends it (`marketing.inventory`: stock less
    allocations; None: not tracked)."""
    variant = saleor.store.get_variant(variant_id)
    assert variant is not None
    return variant.quantity_available if variant.track_inventory else None


async def _voucher_change(
    saleor: SaleorSandbox, rng: random.Random, step: int, vouchers: list[Voucher], customer: Any
) -> int:
    """One change of the vouchers' traffic; returns the entities it changed (an order placed
    with a code changes the order and the code's usage count, and its product's stock)."""
    voucher = rng.choice(vouchers)
    roll = rng.random()
    if roll < 0.3:
        await saleor.vouchers.update(voucher, name=f"{voucher.name} v{step}")
        return 1
    if roll < 0.5:
        await saleor.vouchers.add_codes(voucher, [f"V{step}"])
        return 1
    if roll < 0.6 and len(voucher.codes) > 1:
        await saleor.vouchers.delete_codes([voucher.codes[-1]])
        return 1
    product = rng.choice(list(saleor.store.products.values()))
    shown = _stock(saleor, product.variants[0].id)
    await saleor.vouchers.create_order(
        rng.choice(voucher.codes).code,
        lines=[saleor.order_line(product.variants[0], 1)],
        user=customer,
    )
    return 2 + (_stock(saleor, product.variants[0].id) != shown)


async def _scenario(
    services: Services,
    saleor: SaleorSandbox,
    mailchimp: MailchimpSandbox,
    client: httpx.AsyncClient,
) -> tuple[float, int]:
    rng = random.Random(6)
    channel, list_id = await track_a_channel(saleor, mailchimp, client)
    await _drain(services)
    store_id = stable_store_id(saleor.api_url, channel.slug, list_id)

    # Live traffic: a catalogue, customers, then a day of changes, the worker polling along.
    start = len(mailchimp.requests)
    # One change = one entity changed by one operation (however many webhooks it emits).
    changes = 0
    products = []
    for i in range(40):
        specs = [VariantSpec(sku=f"SKU-{i}-{v}", price=Decimal(5 + v)) for v in range(3)]
        product = await saleor.create_product(f"Product {i}", specs)
        products.append(product)
        changes += 1
    customers = []
    for i in range(40):
        customer = await saleor.create_customer(f"c{i}@bench.example", f"First{i}", f"Last{i}")
        customers.append(customer)
        changes += 1
    # Vouchers: a few, each with two codes (the voucher and each code are entities).
    await offer_all_vouchers(saleor, client)
    vouchers = []
    for i in range(5):
        vouchers.append(
            await saleor.vouchers.create(
                f"Voucher {i}", [f"CODE{i}A", f"CODE{i}B"], channels={channel.slug: 5 + i}
            )
        )
        changes += 3
    await _drain(services)
    voucher_rng = random.Random(7)  # its own: the rest of the traffic stays what it was
    for step in range(STEPS):
        if step % 10 == 5:
            customer = voucher_rng.choice(customers)
            changes += await _voucher_change(saleor, voucher_rng, step, vouchers, customer)
            await _drain(services)
        roll = rng.random()
        if roll < 0.25:
            product = rng.choice(products)
            variant = rng.choice(product.variants)
            await saleor.update_variant(variant, quantity=rng.randint(0, 50))
            changes += 1
        elif roll < 0.35:
            product = rng.choice(products)
            await saleor.update_product(product, name=f"{product.name} v{step}")
            changes += 1
        elif roll < 0.45:
            customer = rng.choice(customers)
            await saleor.update_customer(customer, last_name=f"Changed{step}")
            changes += 1
        elif roll < 0.75:
            product = rng.choice(products)
            variant = rng.choice(product.variants)
            shown = _stock(saleor, variant.id)
            order = await saleor.create_order(
                lines=[saleor.order_line(variant, rng.randint(1, 3))],
                user=rng.choice(customers),
                paid=False,
            )
            changes += 1
            # Saleor allocates the stock it sells (saleor/warehouse/management.py
            # `allocate_stocks`), with no product webhook: the order changed the product's
            # stock too, a change of its own (as a code's usage count is).
            if _stock(saleor, variant.id) != shown:
                changes += 1
            await _drain(services)
            await saleor.mark_order_paid(order)
            changes += 1
        elif unfulfilled := [
            o for o in saleor.store.orders.values() if o.status is OrderStatus.UNFULFILLED
        ]:
            # Saleor fulfils only what is left (orderFulfill refuses a fulfilled order).
            await saleor.fulfill_order(rng.choice(unfulfilled))
            changes += 1
        await _drain(services)
    # Only e-commerce traffic: other capabilities (audience imports) have their own schedule.
    per_entity_requests = sum(1 for r in mailchimp.requests[start:] if "/ecommerce/" in r.path)
    per_entity = per_entity_requests / changes

    # 50 updates of one checkout within a minute, of a product in stock for all 50 (Saleor
    # refuses a quantity beyond the stock: the traffic above moved the others' stock at random).
    product = await saleor.create_product(
        "Cart product", [VariantSpec(sku="CART", price=Decimal(7))]
    )
    await _drain(services)
    checkout = await saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)], email="cart@bench.example"
    )
    for quantity in range(2, 51):
        await saleor.update_checkout(checkout, set_quantities={product.variants[0].id: quantity})
        await _drain(services, skip_waits=False)  # the worker polls; the debounce holds
    before = len(mailchimp.requests)
    await _drain(services)  # the debounce window ends
    cart_calls = sum(
        1 for r in mailchimp.requests[before:] if f"/ecommerce/stores/{store_id}/carts" in r.path
    )
    print(f"changed entities (live sync): {changes}")
    print(f"Mailchimp requests for them: {per_entity_requests}")
    promo_requests = sum(1 for r in mailchimp.requests[start:] if "/promo-rules" in r.path)
    print(f"of which promo rules and codes: {promo_requests}")
    print(f"requests per changed entity: {per_entity:.3f} (target <= {TARGET_PER_ENTITY})")
    print(
        f"cart calls for 50 checkout updates within a minute: {cart_calls} "
        f"(target <= {TARGET_CART_CALLS})"
    )
    return per_entity, cart_calls


def main() -> None:
    per_entity, cart_calls = asyncio.run(run())
    ok = per_entity <= TARGET_PER_ENTITY and cart_calls <= TARGET_CART_CALLS
    print("targets met" if ok else "TARGETS MISSED")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
