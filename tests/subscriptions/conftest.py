"""A store connected to a Mailchimp account with audiences and groups, for the newsletter tests,
with the steps of the two-way tests (a subscribed customer, their account page, a webhook fired);
and the e-commerce tests' store (tests/ecommerce/conftest.py) on such an account, with the steps
of the e-mail change tests that run on it (the audience member moves, the e-commerce customer is
created again)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

import httpx
import pytest
from sqlalchemy import select, update

from addon.db.types import utcnow
from addon.ecommerce.sync import PUSH_JOB
from addon.jobs.models import Job, JobStatus
from addon.jobs.worker import Worker
from addon.services import Services
from addon.subscriptions.email_move import EMAIL_CHANGE_JOB
from addon.subscriptions.metadata import CONSENT_SUBSCRIBE
from addon.subscriptions.models import ContactState
from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount
from sandboxes.mailchimp.state import subscriber_hash
from sandboxes.saleor import SaleorSandbox, SandboxApp
from tests.conftest import dashboard_headers
from tests.ecommerce.conftest import CHANNEL, track_channel
from tests.ecommerce.conftest import Shop as Store
from tests.sandbox_mailchimp.helpers import list_body

SEED = "seed@grocer.example"


@dataclass
class Shop:
    client: httpx.AsyncClient
    services: Services
    saleor: SaleorSandbox
    app: SandboxApp
    mailchimp: MailchimpSandbox
    account: SandboxAccount
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return dashboard_headers(self.saleor, self.app)

    async def mc(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        result = await self.mailchimp.call(self.account, method, path, body=body)
        assert result.status < 300, result.body
        return result.body or {}

    async def new_list(self, name: str, **extra: Any) -> str:
        return str((await self.mc("POST", "/lists", list_body(name, **extra)))["id"])

    async def new_category(self, list_id: str, title: str, kind: str, *names: str) -> str:
        category = await self.mc(
            "POST", f"/lists/{list_id}/interest-categories", {"title": title, "type": kind}
        )
        for name in names:
            interest = await self.mc(
                "POST",
                f"/lists/{list_id}/interest-categories/{category['id']}/interests",
                {"name": name},
            )
            self.ids[name] = str(interest["id"])
        return str(category["id"])

    async def connect(self) -> None:
        response = await self.client.post(
            "/api/connection/api-key", json={"api_key": self.account.api_key}, headers=self.headers
        )
        assert response.status_code == 200, response.text

    async def work(self) -> int:
        return await Worker(self.services).run_until_idle()

    async def configure(self, **settings: Any) -> dict[str, Any]:
        response = await self.client.put(
            "/api/audiences/settings", json=settings, headers=self.headers
        )
        assert response.status_code == 200, response.text
        await self.work()
        body: dict[str, Any] = response.json()
        return body

    def member(self, list_id: str, email: str) -> Any:
        return self.mailchimp.member(self.account, list_id, email)

    def consents(self, email: str) -> dict[str, bool]:
        """The "News" contact's GDPR permissions in Mailchimp: enabled or not, by id."""
        member = self.member(self.ids["news"], email)
        return {p.marketing_permission_id: p.enabled for p in member.marketing_permissions}

    async def offered_permission(self) -> str:
        """The id of the first GDPR permission the storefront offers (News's)."""
        offer = await self.client.get(
            "/api/storefront/newsletter", params={"saleor_api_url": self.saleor.api_url}
        )
        return str(offer.json()["audiences"][0]["marketing_permissions"][0]["id"])

    def member_permissions(self, list_id: str) -> list[Any]:
        """The audience's GDPR permissions, as its seed member carries them."""
        return list(self.member(list_id, SEED).marketing_permissions)


@pytest.fixture
async def shop(
    app_client: httpx.AsyncClient,
    services: Services,
    saleor: SaleorSandbox,
    installed_app: SandboxApp,
    mailchimp: MailchimpSandbox,
) -> Shop:
    account = mailchimp.create_account("Green Grocer", "owner@grocer.example", dc="us21")
    return Shop(app_client, services, saleor, installed_app, mailchimp, account)


@pytest.fixture
async def newsletter(shop: Shop) -> Shop:
    """Connected; audience "News" (no double opt-in, with groups and GDPR permissions) active
    and default, its "Topics" group offered; audience "Deals" (double opt-in) active too."""
    news = await shop.new_list("News", marketing_permissions=True)
    deals = await shop.new_list("Deals", double_optin=True)
    shop.ids["news"], shop.ids["deals"] = news, deals
    shop.ids["topics"] = await shop.new_category(news, "Topics", "checkboxes", "Fruit", "Veg")
    # Mailchimp shows an audience's GDPR permissions only on members: give it one.
    await shop.mc(
        "PUT",
        f"/lists/{news}/members/{SEED}",
        {"email_address": SEED, "status_if_new": "subscribed"},
    )
    await shop.connect()
    await shop.work()
    await shop.configure(
        active_list_ids=[news, deals],
        default_list_id=news,
        offered_category_ids=[shop.ids["topics"]],
        allow_multiple=True,
        tags=["saleor"],
        allowed_origins=["https://shop.example.com"],
    )
    return shop


async def _subscribed_customer(shop: Shop, email: str) -> Any:
    """A registered customer who consented to the default audience ("News")."""
    customer = await shop.saleor.create_customer(
        email, metadata={CONSENT_SUBSCRIBE: "true"}, is_confirmed=True
    )
    await shop.work()
    assert shop.member(shop.ids["news"], email).status == "subscribed"
    return customer


async def _account_page(shop: Shop, customer: Any, list_id: str, *, subscribed: bool) -> None:
    """The customer's own choice on the storefront's account page (a fresh consent, or not)."""
    token = shop.saleor.mint_customer_token(shop.saleor.store.get_customer(customer.id))
    response = await shop.client.put(
        "/api/storefront/me/subscriptions",
        params={"saleor_api_url": shop.saleor.api_url},
        headers={"Authorization": f"Bearer {token}"},
        json={"audiences": [{"list_id": list_id, "subscribed": subscribed}]},
    )
    assert response.status_code == 202


async def _unsubscribed_in_mailchimp(shop: Shop, email: str) -> Any:
    """A subscribed customer who then unsubscribed in Mailchimp (News), the app told so."""
    customer = await _subscribed_customer(shop, email)
    news = shop.ids["news"]
    await shop.mc("PATCH", f"/lists/{news}/members/{email}", {"status": "unsubscribed"})
    await _fire(shop, "unsubscribe", {"email": email})
    await shop.work()
    return customer


def _metadata(shop: Shop, customer: Any) -> dict[str, str]:
    return dict(shop.saleor.store.get_customer(customer.id).metadata)


async def _fire(shop: Shop, event: str, data: dict[str, Any], source: str = "user") -> None:
    responses = await shop.mailchimp.fire_list_webhook(
        shop.account, shop.ids["news"], event, data, source=source
    )
    assert responses and all(r.status_code == 200 for r in responses)


OLD, NEW = "ann@example.com", "ann.lee@example.com"
First = Literal["move", "customer"]


@pytest.fixture
async def store(shop: Shop) -> Store:
    """The e-commerce tests' shop (tests/ecommerce/conftest.py) on `shop`'s account: channel
    `default-channel` (USD) tracked in a new audience, the account connected."""
    await shop.saleor.add_channel(CHANNEL, "Default Channel", "USD")
    tracked = Store(shop.client, shop.services, shop.saleor, shop.app, shop.mailchimp, shop.account)
    await track_channel(tracked)
    return tracked


async def _newsletter_on(shop: Store) -> None:
    """The store's audience is also the newsletter's (active, default, no confirmation)."""
    response = await shop.api(
        "PUT",
        "/api/audiences/settings",
        {"active_list_ids": [shop.list_id], "default_list_id": shop.list_id},
    )
    assert response.status_code == 200, response.text
    await shop.drain()


async def _subscribed(shop: Store, email: str) -> Any:
    customer = await shop.saleor.create_customer(
        email, "Ann", "Lee", metadata={CONSENT_SUBSCRIBE: "true"}
    )
    await shop.drain()
    assert shop.mailchimp.member(shop.account, shop.list_id, email).status == "subscribed"
    return customer


async def _mc(shop: Store, method: str, path: str, body: Any = None) -> dict[str, Any]:
    result = await shop.mailchimp.call(shop.account, method, path, body=body)
    assert result.status < 300, result.body
    return result.body or {}


async def _tagged(shop: Store, email: str, tag: str) -> None:
    """The audience's contact at `email` is given `tag` in Mailchimp."""
    path = f"/lists/{shop.list_id}/members/{subscriber_hash(email)}/tags"
    await _mc(shop, "POST", path, {"tags": [{"name": tag, "status": "active"}]})


def _calls(shop: Store, since: int) -> list[tuple[str, str, int]]:
    return [(r.method, r.path, r.status) for r in shop.mailchimp.requests[since:]]


async def _contacts(shop: Store) -> dict[str, str]:
    async with shop.services.db.session() as session:
        rows = await session.scalars(select(ContactState))
        return {row.email: row.status for row in rows}


async def _due(shop: Store, kind: str, days: int) -> None:
    """The pending jobs of `kind` due in `days` (0: now)."""
    async with shop.services.db.transaction() as session:
        await session.execute(
            update(Job)
            .where(Job.status == JobStatus.PENDING, Job.kind == kind)
            .values(run_after=utcnow() + timedelta(days=days))
        )


async def _changed(shop: Store, first: First) -> None:
    """The jobs of an e-mail change run, the audience move or the e-commerce push first. The
    change's deliveries queue both, in two lanes: they run in either order (at once in one
    claim, or on two workers), as the machine's load has it. The push re-creates the
    customer under the new address, which adds it to the audience (transactional): a move
    that looks after that merges into it rather than moving the member by PATCH."""
    worker = Worker(shop.services)
    await worker.run_once()  # the deliveries, which queue the push and the move
    later = PUSH_JOB if first == "move" else EMAIL_CHANGE_JOB
    await _due(shop, later, days=1)
    await worker.run_until_idle()
    await _due(shop, later, days=0)
    await shop.drain()
