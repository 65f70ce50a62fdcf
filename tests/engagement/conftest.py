"""A connected account with an active audience of three people, two of them Saleor customers,
and helpers to send campaigns, record activity and run a collection through the worker."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import update

from addon.audiences.models import Audience
from addon.clock import ManualClock
from addon.engagement import service
from addon.engagement.views import EngagementRun
from addon.jobs.worker import Worker
from addon.services import Services
from sandboxes.mailchimp.campaigns import record_activity, send_campaign
from sandboxes.saleor.models import Customer
from tests.conftest import RecordingTransport
from tests.ecommerce.conftest import Shop
from tests.ecommerce.conftest import shop as shop  # the fixture, re-exported
from tests.sandbox_mailchimp.helpers import order_body, product_body

ALICE, BOB, GUEST = "alice@grocer.example", "bob@grocer.example", "guest@elsewhere.example"


@dataclass
class Engagement:
    shop: Shop
    clock: ManualClock
    outbound: RecordingTransport
    installation_id: int
    customers: dict[str, Customer] = field(default_factory=dict)

    @property
    def services(self) -> Services:
        return self.shop.services

    def at(self, **delta: float) -> datetime:
        return self.clock.now() + timedelta(**delta)

    def send(self, title: str, sent_at: datetime) -> str:
        return send_campaign(
            self.shop.mailchimp, self.shop.account, self.shop.list_id, title=title,
            sent_at=sent_at.timestamp(),
        )  # fmt: skip

    def activity(self, campaign_id: str, *events: tuple[str, str, datetime]) -> None:
        record_activity(
            self.shop.mailchimp,
            self.shop.account,
            campaign_id,
            [(who, action, at.timestamp()) for who, action, at in events],  # type: ignore[misc]
        )

    async def order(
        self, order_id: str, email: str, campaign_id: str, total: float, customer: str = ""
    ) -> None:
        """An order in Mailchimp attributed to `campaign_id`, bought by `email` (as Mailchimp
        customer `customer`, by default one of its own)."""
        mailchimp, account, store = self.shop.mailchimp, self.shop.account, self.shop.store_id
        if not mailchimp.products(account, store):
            created = await mailchimp.call(
                account, "POST", f"/ecommerce/stores/{store}/products", body=product_body()
            )
            assert created.status == 200, created.body
        body = order_body(order_id, campaign_id=campaign_id, order_total=total)
        customer = customer or f"c-{order_id}"
        body["customer"] = {**body["customer"], "id": customer, "email_address": email}
        created = await mailchimp.call(
            account, "POST", f"/ecommerce/stores/{store}/orders", body=body
        )
        assert created.status == 200, created.body

    async def request_sync(self) -> EngagementRun:
        """ "Sync engagement now", as the Reports page asks (in a request's transaction)."""
        async with self.services.db.transaction() as session:
            return await service.request_sync(session, self.installation_id)

    async def update_settings(
        self, *, activity_interval_days: int, schedule_minutes: int
    ) -> EngagementRun:
        async with self.services.db.transaction() as session:
            return await service.update_settings(
                session,
                self.installation_id,
                activity_interval_days=activity_interval_days,
                schedule_minutes=schedule_minutes,
            )

    async def collect(self) -> None:
        """A collection asked for now, run by the worker."""
        await self.request_sync()
        await Worker(self.services).run_until_idle()

    async def readers(self, count: int) -> None:
        """`count` more subscribed members, each a Saleor customer."""
        for i in range(count):
            email = f"reader{i:02}@example.com"
            await self.subscribe(email)
            self.customers[email] = self.shop.saleor.store.create_customer(email, "R", "Reader")

    async def subscribe(self, email: str) -> None:
        """`email` a subscribed member of the audience."""
        added = await self.shop.mailchimp.call(
            self.shop.account,
            "POST",
            f"/lists/{self.shop.list_id}/members",
            body={"email_address": email, "status": "subscribed"},
        )
        assert added.status == 200, added.body

    def metadata_writes(self) -> list[str]:
        """The customers written so far (one per updatePrivateMetadata)."""
        written = []
        for request in self.outbound.requests:
            if request.url.host != "saleor.test" or b"updatePrivateMetadata" not in request.content:
                continue
            variables = json.loads(request.content)["variables"]
            written += [v for k, v in sorted(variables.items()) if k.startswith("id")]
        return written

    def activity_reads(self) -> list[str]:
        return [
            str(r.url) for r in self.outbound.requests if r.url.path.endswith("/email-activity")
        ]

    def private(self, email: str) -> dict[str, str]:
        customer = self.shop.saleor.store.find_customer_by_email(email)
        assert customer is not None
        return dict(customer.private_metadata)


@pytest.fixture
async def e(shop: Shop, clock: ManualClock, outbound: RecordingTransport) -> Engagement:
    installation_id = 1
    async with shop.services.db.transaction() as session:
        result = await session.execute(
            update(Audience).where(Audience.list_id == shop.list_id).values(active=True)
            .returning(Audience.installation_id)
        )  # fmt: skip
        installation_id = result.scalar_one()
    found = Engagement(shop, clock, outbound, installation_id)
    for email in (ALICE, BOB, GUEST):
        await found.subscribe(email)
    for email in (ALICE, BOB):
        found.customers[email] = shop.saleor.store.create_customer(email, "A", "Customer")
    return found


class FailingNth(httpx.AsyncBaseTransport):
    """Answers the `nth` request (from 1) whose URL and body contain `marker` with `status`,
    once; passes everything else on."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport, marker: bytes, nth: int, status: int = 502
    ) -> None:
        self.inner, self.marker, self.left, self.status = inner, marker, nth, status

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.marker in str(request.url).encode() + request.content:
            self.left -= 1
            if self.left == 0:
                body = {"title": "Refused", "status": self.status, "detail": "Refused."}
                return httpx.Response(self.status, json=body, request=request)
        return await self.inner.handle_async_request(request)
