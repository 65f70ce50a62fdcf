"""A Saleor store tracked in a connected Mailchimp account, for the e-commerce tests."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from addon.db.types import utcnow
from addon.ecommerce.models import EntityKind, SyncRecord
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
