"""A store connected to a Mailchimp account with audiences and groups, for the newsletter tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from addon.jobs.worker import Worker
from addon.services import Services
from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount
from sandboxes.saleor import SaleorSandbox, SandboxApp
from tests.conftest import dashboard_headers
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
