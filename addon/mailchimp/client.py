"""``MailchimpClient``: typed Marketing API calls for one account.

One client type for callers, written in parts by concept: the shared calls (`client_base.py`),
e-commerce (`client_ecommerce.py`) and batches (`client_batches.py`); the account, audiences,
members and webhooks here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

from . import paths
from .client_base import PAGE_SIZE
from .client_batches import BatchCalls
from .client_ecommerce import EcommerceCalls
from .models import (
    Account,
    AudienceList,
    Interest,
    InterestCategory,
    MarketingPermission,
    Member,
    MemberPatch,
    MemberUpsert,
    MergeField,
    Ping,
    TagUpdate,
    Webhook,
    WebhookInput,
)

__all__ = ["MailchimpClient", "subscriber_hash"]


subscriber_hash = paths.subscriber_hash
_seg = paths.segment


class MailchimpClient(EcommerceCalls, BatchCalls):
    """Marketing API calls for one account, sharing the process's :class:`MailchimpHttp`.

    Every method raises a :class:`~addon.mailchimp.errors.MailchimpError` subclass on failure.
    """

    # --- account --------------------------------------------------------------------------

    async def ping(self) -> Ping:
        """``GET /ping``: checks the credentials (``InvalidCredentials`` if wrong)."""
        return await self._get(Ping, "/ping")

    async def account(self) -> Account:
        """``GET /``: the account and the user the credentials belong to."""
        return await self._get(Account, "/")

    # --- audiences ------------------------------------------------------------------------

    def lists(self, count: int = PAGE_SIZE, offset: int = 0) -> AsyncIterator[AudienceList]:
        """All audiences, fetched ``count`` at a time starting at ``offset``."""
        return self._paginate(AudienceList, "/lists", "lists", count=count, offset=offset)

    async def get_list(self, list_id: str) -> AudienceList:
        return await self._get(AudienceList, f"{paths.audience(list_id)}")

    def interest_categories(
        self, list_id: str, count: int = PAGE_SIZE
    ) -> AsyncIterator[InterestCategory]:
        path = f"{paths.audience(list_id)}/interest-categories"
        return self._paginate(InterestCategory, path, "categories", count=count)

    async def create_interest_category(
        self, list_id: str, title: str, type: str = "checkboxes", display_order: int | None = None
    ) -> InterestCategory:
        body: dict[str, Any] = {"title": title, "type": type}
        if display_order is not None:
            body["display_order"] = display_order
        path = f"{paths.audience(list_id)}/interest-categories"
        return await self._send(InterestCategory, "POST", path, body)

    def interests(
        self, list_id: str, category_id: str, count: int = PAGE_SIZE
    ) -> AsyncIterator[Interest]:
        path = f"{paths.audience(list_id)}/interest-categories/{_seg(category_id)}/interests"
        return self._paginate(Interest, path, "interests", count=count)

    async def create_interest(
        self, list_id: str, category_id: str, name: str, display_order: int | None = None
    ) -> Interest:
        body: dict[str, Any] = {"name": name}
        if display_order is not None:
            body["display_order"] = display_order
        path = f"{paths.audience(list_id)}/interest-categories/{_seg(category_id)}/interests"
        return await self._send(Interest, "POST", path, body)

    def merge_fields(self, list_id: str, count: int = PAGE_SIZE) -> AsyncIterator[MergeField]:
        path = f"{paths.audience(list_id)}/merge-fields"
        return self._paginate(MergeField, path, "merge_fields", count=count)

    async def create_merge_field(
        self, list_id: str, name: str, type: str, *, tag: str | None = None, **fields: Any
    ) -> MergeField:
        """``POST /lists/{id}/merge-fields``; ``fields`` are further spec fields
        (``required``, ``public``, ``options``, ...). Never resent once it may have reached
        Mailchimp (``OutcomeUnknown``): sent again, a field without a tag is made twice
        (Mailchimp gives each its own ``MMERGEn``), one with a tag refused as taken."""
        body: dict[str, Any] = {"name": name, "type": type, **fields}
        if tag is not None:
            body["tag"] = tag
        path = f"{paths.audience(list_id)}/merge-fields"
        return await self._send(MergeField, "POST", path, body, idempotent=False)

    # --- members --------------------------------------------------------------------------

    async def get_member(self, list_id: str, email_or_hash: str) -> Member:
        """The member, by e-mail or subscriber hash (``NotFound`` if absent)."""
        return await self._get(Member, paths.member(list_id, email_or_hash))

    # Every member write says `skip_merge_validation`: Mailchimp refuses a PUT or PATCH of a
    # member lacking a value for a required merge field, even one the write does not touch
    # (drewm/mailchimp-api#298, brandonseydel/MailChimp.Net#312), so a field an admin made
    # required in Mailchimp would block a shopper's unsubscribe. The app reports a new
    # contact's missing required fields itself (`subscriptions.apply`), never makes them up.
    _MEMBER_WRITE = {"skip_merge_validation": "true"}

    async def upsert_member(self, list_id: str, member: MemberUpsert) -> Member:
        """``PUT``: add the contact with ``status_if_new`` or update it."""
        path = paths.member(list_id, member.email_address)
        data = await self.request("PUT", path, params=self._MEMBER_WRITE, json=member.body())
        return self._parse(Member, data, path)

    async def update_member(self, list_id: str, email_or_hash: str, patch: MemberPatch) -> Member:
        """``PATCH`` an existing member."""
        path = paths.member(list_id, email_or_hash)
        data = await self.request("PATCH", path, params=self._MEMBER_WRITE, json=patch.body())
        return self._parse(Member, data, path)

    async def update_member_tags(
        self, list_id: str, email_or_hash: str, tags: Iterable[TagUpdate]
    ) -> None:
        """Add (``active``) or remove (``inactive``) tags on a member."""
        body = {"tags": [t.body() for t in tags]}
        await self.request("POST", paths.member(list_id, email_or_hash) + "/tags", json=body)

    async def archive_member(self, list_id: str, email_or_hash: str) -> None:
        """``DELETE``: archive the member (it can be added again later)."""
        await self.request("DELETE", paths.member(list_id, email_or_hash))

    async def delete_member_permanently(self, list_id: str, email_or_hash: str) -> None:
        """``POST .../actions/delete-permanent``: erase the member's personal data; Mailchimp
        then refuses to add the address again through the API ("Forgotten Email Not
        Subscribed")."""
        path = paths.member(list_id, email_or_hash) + "/actions/delete-permanent"
        await self.request("POST", path)

    async def marketing_permissions(self, list_id: str) -> list[MarketingPermission]:
        """An audience's GDPR marketing permissions (Mailchimp shows them only on members:
        those of its first member; none for an audience without members)."""
        path = f"{paths.audience(list_id)}/members"
        fields = "members.marketing_permissions"
        page = await self.request("GET", path, params={"count": 1, "fields": fields})
        return [
            self._parse(MarketingPermission, permission, path)
            for member in page.get("members") or []
            for permission in member.get("marketing_permissions") or []
        ]

    # --- webhooks -------------------------------------------------------------------------

    async def create_webhook(self, list_id: str, webhook: WebhookInput) -> Webhook:
        """Never resent once it may have reached Mailchimp (``OutcomeUnknown``): sent again,
        it is refused ("you can't use the same URL for more than one webhook")."""
        path = f"{paths.audience(list_id)}/webhooks"
        return await self._send(Webhook, "POST", path, webhook, idempotent=False)

    async def update_webhook(self, list_id: str, webhook_id: str, webhook: WebhookInput) -> Webhook:
        path = f"{paths.audience(list_id)}/webhooks/{_seg(webhook_id)}"
        return await self._send(Webhook, "PATCH", path, webhook)

    async def list_webhooks(self, list_id: str) -> list[Webhook]:
        path = f"{paths.audience(list_id)}/webhooks"
        data = await self.request("GET", path)
        return [self._parse(Webhook, w, path) for w in data.get("webhooks") or []]

    async def delete_webhook(self, list_id: str, webhook_id: str) -> None:
        await self.request("DELETE", f"{paths.audience(list_id)}/webhooks/{_seg(webhook_id)}")
