"""A Saleor store tracked in a connected Mailchimp account, for the e-commerce tests; and the
steps several of their modules share: promo codes offered and read back, the restore links of
carts, the channel's store row."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select, update

from addon.clock import ManualClock
from addon.db.types import utcnow
from addon.ecommerce.models import EntityKind, MailchimpStore, SyncRecord
from addon.ecommerce.promo_sync import CODES_JOB
from addon.ecommerce.stores_repository import stable_store_id
from addon.ecommerce.sync import PUSH_JOB
from addon.jobs.models import Job, JobStatus
from addon.jobs.worker import Worker
from addon.services import Services
from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount
from sandboxes.mailchimp.models import Cart, Order, Product
from sandboxes.saleor import SaleorSandbox, SandboxApp
from sandboxes.saleor.models import Product as SaleorProduct
from sandboxes.saleor.store_catalog import VariantSpec
from sandboxes.saleor.voucher_models import Voucher
from tests.conftest import dashboard_headers
from tests.sandbox_mailchimp.helpers import list_body

CHANNEL = "default-channel"


@dataclass
class Shop:
    client: httpx.AsyncClient
    services: Services
    saleor: SaleorSandbox
    app: SandboxApp
    mailchimp: MailchimpSandbox
    account: SandboxAccount
    list_id: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return dashboard_headers(self.saleor, self.app)

    @property
    def store_id(self) -> str:
        return stable_store_id(self.saleor.api_url, CHANNEL, self.list_id)

    async def api(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return await self.client.request(method, path, json=body, headers=self.headers)

    async def drain(self) -> None:
        """Run every job that is due, then every job that waits (debounce, backoff)."""
        worker = Worker(self.services)
        for _ in range(20):
            await worker.run_until_idle()
            if not await self.make_due():
                break

    async def make_due(self) -> int:
        async with self.services.db.transaction() as session:
            result = await session.execute(
                update(Job)
                .where(Job.status == JobStatus.PENDING, Job.kind == PUSH_JOB)
                .values(run_after=utcnow())
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    def products(self) -> dict[str, Product]:
        return {p.id: p for p in self.mailchimp.products(self.account, self.store_id)}

    def orders(self) -> dict[str, Order]:
        return {o.id: o for o in self.mailchimp.orders(self.account, self.store_id)}

    def carts(self) -> dict[str, Cart]:
        return {c.id: c for c in self.mailchimp.carts(self.account, self.store_id)}

    def writes(self) -> list[str]:
        """Mailchimp e-commerce writes so far, as "METHOD path-after-store"."""
        prefix = f"/ecommerce/stores/{self.store_id}"
        return [
            f"{r.method} {r.path.split(prefix, 1)[1] or '/'}"
            for r in self.mailchimp.requests
            if prefix in r.path and r.method != "GET"
        ]

    async def record(self, kind: EntityKind, saleor_id: str) -> SyncRecord | None:
        async with self.services.db.session() as session:
            result = await session.execute(
                select(SyncRecord).where(SyncRecord.kind == kind, SyncRecord.saleor_id == saleor_id)
            )
            return result.scalar_one_or_none()

    async def product(self, name: str, *prices: str, **fields: Any) -> SaleorProduct:
        specs = [
            VariantSpec(sku=f"{name[:3].upper()}-{i}", name=f"{name} {i}", price=Decimal(p))
            for i, p in enumerate(prices or ("10.00",))
        ]
        return await self.saleor.create_product(name, specs, **fields)


@pytest.fixture
async def shop(
    app_client: httpx.AsyncClient,
    services: Services,
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    mailchimp: MailchimpSandbox,
) -> Shop:
    """Channel `default-channel` (USD) tracked in a connected account; carts debounced."""
    await saleor.add_channel(CHANNEL, "Default Channel", "USD")
    account = mailchimp.create_account("Green Grocer", "owner@grocer.example", dc="us21")
    shop = Shop(app_client, services, saleor, installed_app, mailchimp, account)
    await track_channel(shop)
    return shop


async def track_channel(shop: Shop) -> None:
    """Connect the account by API key and track `default-channel` in a new audience."""
    created = await shop.mailchimp.call(
        shop.account, "POST", "/lists", body=list_body("Grocer news")
    )
    shop.list_id = str(created.body["id"])
    for method, path, body in (
        ("POST", "/api/connection/api-key", {"api_key": shop.account.api_key}),
        (
            "PATCH",
            "/api/ecommerce/settings",
            {
                "tracking_enabled": True,
                "product_url_template": "https://shop.grocer.example/products/{slug}",
                "checkout_url_template": "https://shop.grocer.example/checkout?token={token}",
                "store_email": "shop@grocer.example",
            },
        ),
        ("PUT", f"/api/ecommerce/channels/{CHANNEL}", {"tracked": True, "list_id": shop.list_id}),
    ):
        response = await shop.api(method, path, body)
        assert response.status_code == 200, response.text
    await shop.drain()


# Promo codes offered and read back (tests/ecommerce/test_promos.py and the modules beside it).

TEMPLATE = "https://shop.grocer.example/cart?promo={code}"
# What waits here: debounced or retried pushes and the poll of a code batch.
WAITING = (PUSH_JOB, CODES_JOB)


async def run_all(shop: Shop) -> None:
    """Run every job, waiting ones too (Mailchimp's batches finished in between)."""
    worker = Worker(shop.services)
    for _ in range(30):
        await shop.mailchimp.drain_batches()
        await worker.run_until_idle()
        async with shop.services.db.transaction() as session:
            result = await session.execute(
                update(Job)
                .where(Job.status == JobStatus.PENDING, Job.kind.in_(WAITING))
                .values(run_after=utcnow())
            )
        if not result.rowcount:  # type: ignore[attr-defined]
            break


async def choose(shop: Shop, offer: str, **extra: Any) -> dict[str, Any]:
    body = {"offer": offer, "redemption_url_template": TEMPLATE, **extra}
    response = await shop.api("PUT", "/api/ecommerce/promos", body)
    assert response.status_code == 200, response.text
    await run_all(shop)
    return dict(response.json())


async def rules(shop: Shop) -> dict[str, dict[str, Any]]:
    path = f"/ecommerce/stores/{shop.store_id}/promo-rules"
    found = await shop.mailchimp.call(shop.account, "GET", path, {"count": "100"})
    assert found.body is not None
    return {r["id"]: r for r in found.body["promo_rules"]}


async def codes(shop: Shop, voucher: Voucher) -> dict[str, dict[str, Any]]:
    path = f"/ecommerce/stores/{shop.store_id}/promo-rules/{voucher.id}/promo-codes"
    found = await shop.mailchimp.call(shop.account, "GET", path, {"count": "1000"})
    if found.status == 404:
        return {}
    assert found.body is not None
    return {c["code"]: c for c in found.body["promo_codes"]}


# Carts' restore links (tests/ecommerce/test_cart_restore.py, test_cart_restore_links.py).

RESTORE_URL = "https://shop.grocer.example/cart/restore?link={restore}"
ORIGIN = "https://shop.grocer.example"


@pytest.fixture
async def restore_links(shop: Shop, clock: ManualClock) -> None:
    """Carts' `checkout_url` is a restore link, which the storefront at `ORIGIN` exchanges (the
    modules that use it name it in `pytestmark`)."""
    del clock  # links are made and read on the test's clock
    for method, path, body in (
        ("PATCH", "/api/ecommerce/settings", {"checkout_url_template": RESTORE_URL}),
        (
            "PUT",
            "/api/audiences/settings",
            {"active_list_ids": [shop.list_id], "allowed_origins": [ORIGIN]},
        ),
    ):
        response = await shop.api(method, path, body)
        assert response.status_code == 200, response.text


def _link(shop: Shop, token: str) -> str:
    cart = shop.carts()[token]
    assert cart.checkout_url.startswith("https://shop.grocer.example/cart/restore?link=")
    assert token not in cart.checkout_url  # the e-mail never shows the checkout token
    [link] = parse_qs(urlsplit(cart.checkout_url).query)["link"]
    return link


async def _restore(shop: Shop, link: str, origin: str = ORIGIN) -> httpx.Response:
    return await shop.client.post(
        "/api/storefront/cart/restore",
        params={"saleor_api_url": shop.saleor.api_url},
        json={"link": link},
        headers={"Origin": origin},
    )


# The channel's store (tests/ecommerce/test_channel_gone.py, test_channel_identity.py).


async def store_row(shop: Shop) -> MailchimpStore:
    async with shop.services.db.session() as session:
        result = await session.execute(
            select(MailchimpStore).where(MailchimpStore.channel_slug == CHANNEL)
        )
        return result.scalar_one()


def visibility(shop: Shop, product_id: int) -> list[str]:
    return [v.visibility for v in shop.products()[str(product_id)].variants]
