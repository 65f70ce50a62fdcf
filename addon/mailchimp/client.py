"""``MailchimpClient``: typed Marketing API calls for one account."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from . import paths
from .batches import parse_batch_results
from .credentials import MailchimpCredentials
from .ecommerce_models import (
    Cart,
    CartInput,
    CartPatch,
    Customer,
    CustomerInput,
    CustomerPatch,
    Order,
    OrderInput,
    OrderPatch,
    Product,
    ProductInput,
    ProductPatch,
    ProductVariant,
    ProductVariantInput,
    ProductVariantPatch,
    Store,
    StoreInput,
    StorePatch,
)
from .errors import TransientError
from .http import MailchimpHttp, QueryParams
from .models import (
    Account,
    AudienceList,
    Batch,
    BatchOperation,
    BatchOperationResult,
    Interest,
    InterestCategory,
    MailchimpInput,
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

M = TypeVar("M", bound=BaseModel)
PAGE_SIZE = 100


subscriber_hash = paths.subscriber_hash
_seg = paths.segment


class MailchimpClient:
    """Marketing API calls for one account, sharing the process's :class:`MailchimpHttp`.

    Every method raises a :class:`~addon.mailchimp.errors.MailchimpError` subclass on failure.
    """

    def __init__(self, http: MailchimpHttp, credentials: MailchimpCredentials) -> None:
        self.http = http
        self.credentials = credentials
        self.base_url = http.api_url(credentials.dc)

    def __repr__(self) -> str:
        return f"MailchimpClient(dc={self.credentials.dc!r}, kind={self.credentials.kind!r})"

    # --- escape hatch ---------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: QueryParams | None = None,
        json: Any = None,
    ) -> dict[str, Any]:
        """Call any Marketing API path (``/lists/...``); returns the JSON object (``{}`` for
        204 No Content)."""
        if not path.startswith("/"):
            path = "/" + path
        response = await self.http.request(
            method,
            self.base_url + path,
            account_key=self.credentials.account_key,
            headers={"Authorization": self.credentials.authorization},
            params=params,
            json=json,
        )
        if response.status_code == 204 or not response.content:
            return {}
        try:
            data = response.json()
        except ValueError as exc:
            raise TransientError(
                "Mailchimp answered with a body that is not JSON.",
                status=response.status_code,
                method=method,
                path=response.request.url.path,
            ) from exc
        return data if isinstance(data, dict) else {"items": data}

    async def _get(self, model: type[M], path: str, params: QueryParams | None = None) -> M:
        return self._parse(model, await self.request("GET", path, params=params), path)

    async def _send(
        self, model: type[M], method: str, path: str, body: MailchimpInput | dict[str, Any]
    ) -> M:
        payload = body.body() if isinstance(body, MailchimpInput) else body
        return self._parse(model, await self.request(method, path, json=payload), path)

    @staticmethod
    def _parse(model: type[M], data: Mapping[str, Any], path: str) -> M:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise TransientError(
                f"Mailchimp's response did not have the expected shape for {model.__name__} "
                f"({exc.error_count()} problems).",
                path=path,
            ) from exc

    async def _paginate(
        self,
        model: type[M],
        path: str,
        key: str,
        *,
        count: int = PAGE_SIZE,
        offset: int = 0,
        params: QueryParams | None = None,
    ) -> AsyncIterator[M]:
        while True:
            page = await self.request(
                "GET", path, params={**(params or {}), "count": count, "offset": offset}
            )
            items = page.get(key) or []
            for item in items:
                yield self._parse(model, item, path)
            offset += len(items)
            total = page.get("total_items")
            if not items or len(items) < count or (isinstance(total, int) and offset >= total):
                return

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
        (``required``, ``public``, ``options``, ...)."""
        body: dict[str, Any] = {"name": name, "type": type, **fields}
        if tag is not None:
            body["tag"] = tag
        path = f"{paths.audience(list_id)}/merge-fields"
        return await self._send(MergeField, "POST", path, body)

    # --- members --------------------------------------------------------------------------

    async def get_member(self, list_id: str, email_or_hash: str) -> Member:
        """The member, by e-mail or subscriber hash (``NotFound`` if absent)."""
        return await self._get(Member, paths.member(list_id, email_or_hash))

    async def upsert_member(
        self, list_id: str, member: MemberUpsert, *, skip_merge_validation: bool = False
    ) -> Member:
        """``PUT``: add the contact with ``status_if_new`` or update it. With
        ``skip_merge_validation`` Mailchimp accepts the member without its required merge
        fields (the API's query parameter of that name)."""
        path = paths.member(list_id, member.email_address)
        if not skip_merge_validation:
            return await self._send(Member, "PUT", path, member)
        data = await self.request(
            "PUT", path, params={"skip_merge_validation": "true"}, json=member.body()
        )
        return self._parse(Member, data, path)

    async def update_member(
        self,
        list_id: str,
        email_or_hash: str,
        patch: MemberPatch,
        *,
        skip_merge_validation: bool = False,
    ) -> Member:
        """``PATCH`` an existing member (``skip_merge_validation``: as for ``upsert_member``)."""
        path = paths.member(list_id, email_or_hash)
        if not skip_merge_validation:
            return await self._send(Member, "PATCH", path, patch)
        data = await self.request(
            "PATCH", path, params={"skip_merge_validation": "true"}, json=patch.body()
        )
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
        return await self._send(Webhook, "POST", f"{paths.audience(list_id)}/webhooks", webhook)

    async def list_webhooks(self, list_id: str) -> list[Webhook]:
        path = f"{paths.audience(list_id)}/webhooks"
        data = await self.request("GET", path)
        return [self._parse(Webhook, w, path) for w in data.get("webhooks") or []]

    async def delete_webhook(self, list_id: str, webhook_id: str) -> None:
        await self.request("DELETE", f"{paths.audience(list_id)}/webhooks/{_seg(webhook_id)}")

    # --- e-commerce: stores ---------------------------------------------------------------

    async def create_store(self, store: StoreInput) -> Store:
        return await self._send(Store, "POST", "/ecommerce/stores", store)

    async def get_store(self, store_id: str) -> Store:
        return await self._get(Store, paths.store(store_id))

    async def update_store(self, store_id: str, patch: StorePatch) -> Store:
        return await self._send(Store, "PATCH", paths.store(store_id), patch)

    async def delete_store(self, store_id: str) -> None:
        await self.request("DELETE", paths.store(store_id))

    # --- e-commerce: customers ------------------------------------------------------------

    async def create_customer(self, store_id: str, customer: CustomerInput) -> Customer:
        path = paths.in_store(store_id, "customers")
        return await self._send(Customer, "POST", path, customer)

    async def upsert_customer(self, store_id: str, customer: CustomerInput) -> Customer:
        path = paths.in_store(store_id, "customers", customer.id)
        return await self._send(Customer, "PUT", path, customer)

    async def get_customer(self, store_id: str, customer_id: str) -> Customer:
        return await self._get(Customer, paths.in_store(store_id, "customers", customer_id))

    async def update_customer(
        self, store_id: str, customer_id: str, patch: CustomerPatch
    ) -> Customer:
        return await self._send(
            Customer, "PATCH", paths.in_store(store_id, "customers", customer_id), patch
        )

    async def delete_customer(self, store_id: str, customer_id: str) -> None:
        await self.request("DELETE", paths.in_store(store_id, "customers", customer_id))

    # --- e-commerce: products -------------------------------------------------------------

    async def create_product(self, store_id: str, product: ProductInput) -> Product:
        path = paths.in_store(store_id, "products")
        return await self._send(Product, "POST", path, product)

    async def get_product(self, store_id: str, product_id: str) -> Product:
        return await self._get(Product, paths.in_store(store_id, "products", product_id))

    async def update_product(self, store_id: str, product_id: str, patch: ProductPatch) -> Product:
        return await self._send(
            Product, "PATCH", paths.in_store(store_id, "products", product_id), patch
        )

    async def delete_product(self, store_id: str, product_id: str) -> None:
        await self.request("DELETE", paths.in_store(store_id, "products", product_id))

    async def upsert_product_variant(
        self, store_id: str, product_id: str, variant: ProductVariantInput
    ) -> ProductVariant:
        """``PUT``: add the variant to the product or replace it."""
        path = paths.variant(store_id, product_id, variant.id)
        return await self._send(ProductVariant, "PUT", path, variant)

    async def update_product_variant(
        self, store_id: str, product_id: str, variant_id: str, patch: ProductVariantPatch
    ) -> ProductVariant:
        path = paths.variant(store_id, product_id, variant_id)
        return await self._send(ProductVariant, "PATCH", path, patch)

    # --- e-commerce: orders ---------------------------------------------------------------

    async def create_order(self, store_id: str, order: OrderInput) -> Order:
        return await self._send(Order, "POST", paths.in_store(store_id, "orders"), order)

    async def get_order(self, store_id: str, order_id: str) -> Order:
        return await self._get(Order, paths.in_store(store_id, "orders", order_id))

    async def update_order(self, store_id: str, order_id: str, patch: OrderPatch) -> Order:
        return await self._send(Order, "PATCH", paths.in_store(store_id, "orders", order_id), patch)

    async def delete_order(self, store_id: str, order_id: str) -> None:
        await self.request("DELETE", paths.in_store(store_id, "orders", order_id))

    # --- e-commerce: carts ----------------------------------------------------------------

    async def create_cart(self, store_id: str, cart: CartInput) -> Cart:
        return await self._send(Cart, "POST", paths.in_store(store_id, "carts"), cart)

    async def get_cart(self, store_id: str, cart_id: str) -> Cart:
        return await self._get(Cart, paths.in_store(store_id, "carts", cart_id))

    async def update_cart(self, store_id: str, cart_id: str, patch: CartPatch) -> Cart:
        return await self._send(Cart, "PATCH", paths.in_store(store_id, "carts", cart_id), patch)

    async def delete_cart(self, store_id: str, cart_id: str) -> None:
        await self.request("DELETE", paths.in_store(store_id, "carts", cart_id))

    # --- batches --------------------------------------------------------------------------

    async def create_batch(self, operations: Sequence[BatchOperation]) -> Batch:
        """``POST /batches``: run ``operations`` asynchronously on Mailchimp's side."""
        body = {"operations": [op.body() for op in operations]}
        return await self._send(Batch, "POST", "/batches", body)

    async def get_batch(self, batch_id: str) -> Batch:
        return await self._get(Batch, f"/batches/{_seg(batch_id)}")

    async def download_batch_results(self, url: str) -> list[BatchOperationResult]:
        """Fetch and parse a finished batch's ``response_body_url`` (an absolute URL to a
        storage host, fetched without the ``Authorization`` header)."""
        response = await self.http.request("GET", url)
        return parse_batch_results(response.content)
