"""Catalogue operations of ``SaleorSandbox`` about stock, preorder and product types, with the
webhook events Saleor sends for each (``store_catalog.py`` changes the store): a variant's
stock row made, changed or removed, its preorder threshold in a channel, a product type
deleted with its products; a category, product type or attribute value renamed."""

from __future__ import annotations

from typing import Any

from .fulfillments import attribute_node, attribute_value
from .manifest_events import async_events
from .models import Category, Product, ProductType, ProductVariant
from .sandbox_customers import SandboxCustomerEvents
from .versions import version_tuple

# productVariantStocksUpdate sends BACK_IN_STOCK / OUT_OF_STOCK by what the row can still sell
# before and after since 3.23.2 (saleor/saleor#19150, commit a876b8a; 3.23.1 is without it).
STOCK_EVENTS_BY_AVAILABLE_SINCE = (3, 23, 2)


def stock_update_events(version: str, variant: ProductVariant, quantity: int) -> tuple[str, ...]:
    """The events `productVariantStocksUpdate` sends for the variant's row in the one warehouse
    set to `quantity` (saleor/graphql/product/bulk_mutations/product_variant_stocks_update.py
    `update_or_create_variant_stocks`): PRODUCT_VARIANT_STOCK_UPDATED always, after
    BACK_IN_STOCK and OUT_OF_STOCK where their rule holds. Before 3.23.2 (3.20.119): back in
    stock for a new row or one that had nothing to sell and gets more than 0; out of stock
    whenever the new quantity leaves nothing to sell, whatever it was. Since: back in stock when
    what it can sell goes from none to some (a new row included), out of stock when it goes
    from some to none. The channel-scoped events 3.23.2 adds where the shop's
    `useLegacyShippingZoneStockAvailability` is off are not modelled."""
    created = not variant.stocked
    allocated = variant.quantity_allocated
    old, new = variant.quantity - allocated, quantity - allocated
    if version_tuple(version) >= STOCK_EVENTS_BY_AVAILABLE_SINCE:
        back, out = old <= 0 < new, old > 0 >= new
    else:
        back, out = created or old <= 0 < quantity, quantity <= 0 or new <= 0
    events = ["PRODUCT_VARIANT_BACK_IN_STOCK"] if back else []
    events += ["PRODUCT_VARIANT_OUT_OF_STOCK"] if out else []
    return (*events, "PRODUCT_VARIANT_STOCK_UPDATED")


class SandboxCatalogEvents(SandboxCustomerEvents):
    """Stock, preorder and product-type operations that emit what Saleor emits for them."""

    async def update_variant(self, variant: ProductVariant, **changes: Any) -> ProductVariant:
        """Change a variant as Saleor's mutations do, with their events: its stock
        (`quantity`) through `productVariantStocksUpdate`, which sends
        PRODUCT_VARIANT_STOCK_UPDATED, with BACK_IN_STOCK or OUT_OF_STOCK before it
        (`stock_update_events`), and not PRODUCT_VARIANT_UPDATED; its other fields (its
        preorder among them: `is_preorder`, `preorder_global_threshold`, `preorder_end_date`)
        through `productVariantUpdate`; what orders allocate (`quantity_allocated`) sends
        nothing of the variant's own."""
        current = self.store.get_variant(variant.id)
        stock = (
            stock_update_events(self.version, current, changes["quantity"])
            if "quantity" in changes
            else ()
        )
        updated = self.store.update_variant(variant, **changes)
        for event in stock:
            await self.emit(event, updated)
        if changes.keys() - {"quantity", "quantity_allocated"}:
            await self.emit("PRODUCT_VARIANT_UPDATED", updated)
        return updated

    async def create_stocks(self, variant: ProductVariant, quantity: int) -> ProductVariant:
        """`productVariantStocksCreate` of the variant's row in the one warehouse
        (`SaleorStore.create_stocks`): PRODUCT_VARIANT_BACK_IN_STOCK alone, for each row made
        and whatever its quantity, 0 too; never PRODUCT_VARIANT_STOCK_UPDATED nor
        PRODUCT_VARIANT_UPDATED (saleor/graphql/product/bulk_mutations/
        product_variant_stocks_create.py `perform_mutation`, 3.20.119 and 3.23.28)."""
        created = self.store.create_stocks(variant, quantity)
        await self.emit("PRODUCT_VARIANT_BACK_IN_STOCK", created)
        return created

    async def delete_stocks(self, variant: ProductVariant) -> ProductVariant:
        """`productVariantStocksDelete` of the variant's row (`SaleorStore.delete_stocks`):
        PRODUCT_VARIANT_OUT_OF_STOCK alone, for each row deleted whatever it held (none when
        it had none); never PRODUCT_VARIANT_STOCK_UPDATED nor PRODUCT_VARIANT_UPDATED
        (saleor/graphql/product/bulk_mutations/product_variant_stocks_delete.py
        `perform_mutation`, 3.20.119 and 3.23.28)."""
        current = self.store.get_variant(variant.id)
        if self.store.delete_stocks(current):
            await self.emit("PRODUCT_VARIANT_OUT_OF_STOCK", current)
        return current

    async def set_preorder_threshold(
        self, variant: ProductVariant, channel: str, quantity: int | None
    ) -> ProductVariant:
        """`productVariantChannelListingUpdate` of the variant's `preorderThreshold` in a
        channel (None: no channel limit): PRODUCT_VARIANT_UPDATED (`post_save_actions`,
        saleor/graphql/product/mutations/channels.py)."""
        current = self.store.get_variant(variant.id)
        listing = current.listing_for(self.store.channel_by_slug(channel).id)
        if listing is None:
            raise ValueError(f"Variant {current.id} has no price in channel {channel!r}.")
        listing.preorder_threshold = quantity
        await self.emit("PRODUCT_VARIANT_UPDATED", current)
        return current

    async def delete_product_type(self, product_type: ProductType | Product) -> list[Product]:
        """`productTypeDelete` (of a product's type, given the product): its products deleted
        by CASCADE (`SaleorStore.delete_product_type`) and not one product or variant webhook
        (saleor/graphql/product/mutations/product_type/product_type_delete.py, 3.20.119 and
        3.23.28: no PRODUCT_TYPE_* event there at all; main's PRODUCT_TYPE_DELETED, about
        the type alone, is not modelled)."""
        pk = product_type.product_type_id if isinstance(product_type, Product) else product_type.id
        return self.store.delete_product_type(pk)

    async def rename_category(self, category: Category | Product, name: str) -> Category:
        """`categoryUpdate(input: {name})` (of a product's category, given the product):
        CATEGORY_UPDATED alone, no product event (saleor/graphql/product/mutations/category/
        category_update.py `post_save_action`, 3.20.119 and 723cd4e)."""
        pk = category.category_id if isinstance(category, Product) else category.id
        if pk is None:
            raise ValueError("The product has no category.")
        renamed = self.store.rename_category(pk, name)
        await self.emit("CATEGORY_UPDATED", renamed)
        return renamed

    async def rename_product_type(
        self, product_type: ProductType | Product, name: str
    ) -> ProductType:
        """`productTypeUpdate(input: {name})`: no product event; PRODUCT_TYPE_UPDATED since
        3.24 (saleor/saleor#19351, commit f261c2e; product_type_update.py `post_save_action`),
        nothing before (3.20.119, 3.23.28)."""
        pk = product_type.product_type_id if isinstance(product_type, Product) else product_type.id
        renamed = self.store.rename_product_type(pk, name)
        if "PRODUCT_TYPE_UPDATED" in async_events(self.version):
            await self.emit("PRODUCT_TYPE_UPDATED", renamed)
        return renamed

    async def rename_attribute_value(
        self, attribute_slug: str, name: str, new_name: str
    ) -> list[Product]:
        """`attributeValueUpdate(input: {name})`: ATTRIBUTE_VALUE_UPDATED, then ATTRIBUTE_UPDATED
        of its attribute, no product event (saleor/graphql/attribute/mutations/
        attribute_value_update.py `post_save_action`, 3.20.119 and 723cd4e). The products
        holding the value."""
        holding = self.store.rename_attribute_value(attribute_slug, name, new_name)
        await self.emit("ATTRIBUTE_VALUE_UPDATED", attribute_value(attribute_slug, new_name))
        attribute = next(a for a in holding[0].attributes if a.slug == attribute_slug)
        await self.emit("ATTRIBUTE_UPDATED", attribute_node(holding[0], attribute))
        return holding


__all__ = ["STOCK_EVENTS_BY_AVAILABLE_SINCE", "SandboxCatalogEvents", "stock_update_events"]
