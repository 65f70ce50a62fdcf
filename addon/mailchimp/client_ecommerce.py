"""The e-commerce part of :class:`~addon.mailchimp.client.MailchimpClient`: stores, customers,
products and their variants, orders and carts."""

from __future__ import annotations

from . import paths
from .client_base import ClientBase
from .ecommerce_models import (
    Cart,
    CartInput,
    CartPatch,
    CartRefPage,
    Customer,
    CustomerInput,
    CustomerPage,
    CustomerPatch,
    Order,
    OrderInput,
    OrderPatch,
    OrderRefPage,
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

__all__ = ["EcommerceCalls"]


class EcommerceCalls(ClientBase):
    """Marketing API calls under ``/ecommerce/stores``."""

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

    async def customers_with_email(self, store_id: str, email: str) -> list[Customer]:
        """The store's customers holding this address (``email_address`` filter)."""
        params = {"email_address": email, "fields": "customers.id,customers.email_address"}
        page = await self._get(CustomerPage, paths.in_store(store_id, "customers"), params)
        return page.customers

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

    async def order_refs(self, store_id: str, count: int, offset: int = 0) -> OrderRefPage:
        """A page of the store's orders: their ids and when they were placed."""
        params = {
            "count": str(count),
            "offset": str(offset),
            "fields": "orders.id,orders.processed_at_foreign,total_items",
        }
        return await self._get(OrderRefPage, paths.in_store(store_id, "orders"), params)

    async def update_order(self, store_id: str, order_id: str, patch: OrderPatch) -> Order:
        return await self._send(Order, "PATCH", paths.in_store(store_id, "orders", order_id), patch)

    async def delete_order(self, store_id: str, order_id: str) -> None:
        await self.request("DELETE", paths.in_store(store_id, "orders", order_id))

    async def delete_order_line(self, store_id: str, order_id: str, line_id: str) -> None:
        """Delete one line of an order (never its last: Mailchimp refuses that, the order
        must be deleted instead)."""
        await self.request("DELETE", paths.order_line(store_id, order_id, line_id))

    # --- e-commerce: carts ----------------------------------------------------------------

    async def create_cart(self, store_id: str, cart: CartInput) -> Cart:
        return await self._send(Cart, "POST", paths.in_store(store_id, "carts"), cart)

    async def get_cart(self, store_id: str, cart_id: str) -> Cart:
        return await self._get(Cart, paths.in_store(store_id, "carts", cart_id))

    async def update_cart(self, store_id: str, cart_id: str, patch: CartPatch) -> Cart:
        return await self._send(Cart, "PATCH", paths.in_store(store_id, "carts", cart_id), patch)

    async def cart_refs(self, store_id: str, count: int, offset: int = 0) -> CartRefPage:
        """A page of the store's carts: their ids."""
        params = {"count": str(count), "offset": str(offset), "fields": "carts.id,total_items"}
        return await self._get(CartRefPage, paths.in_store(store_id, "carts"), params)

    async def delete_cart(self, store_id: str, cart_id: str) -> None:
        await self.request("DELETE", paths.in_store(store_id, "carts", cart_id))
