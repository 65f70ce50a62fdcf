"""The catalogue of ``SaleorStore``: product types, categories, products and their variants
(``VariantSpec``, priced per channel), updated and deleted as Saleor does, and the products
listed in an ordering."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .cursors import Ordering
from .models import (
    Category,
    Channel,
    MediaType,
    Product,
    ProductAttribute,
    ProductMedia,
    ProductType,
    ProductVariant,
    SortWrites,
    VariantChannelListing,
    utcnow,
)
from .order_models import OrderStatus
from .store_base import NotFound, StoreBase

# The variant's fields `productVariantUpdate` compares before and after (its `FIELDS_TO_TRACK`,
# saleor/graphql/product/mutations/utils.py `PRODUCT_VARIANT_UPDATE_FIELDS` at 723cd4e;
# `ProductVariant.comparison_fields` at 3.20.119), less `weight` and `external_reference` the
# sandbox lacks: one of them changed, `_save_variant_instance` saves it with `updated_at`; none
# changed, nothing is saved (product_variant_update.py).
VARIANT_DATED = frozenset(
    {
        "sku",
        "name",
        "track_inventory",
        "is_preorder",
        "quantity_limit_per_customer",
        "preorder_end_date",
        "preorder_global_threshold",
        "metadata",
        "private_metadata",
    }
)
# Of those, what saves the product with its `updated_at` (and `search_index_dirty`): the `sku`
# or `name` changed (`_save`, 723cd4e and 3.20.119; variant attributes too, not modelled).
NAMING_THE_PRODUCT = frozenset({"sku", "name"})


@dataclass(frozen=True)
class VariantSpec:
    """Input for one variant of :meth:`SaleorStore.create_product`."""

    sku: str | None
    name: str = ""
    prices: dict[str, Decimal] | None = None
    """Price per channel slug; ``None`` lists the variant in every channel of the product."""
    price: Decimal = Decimal("10.00")
    quantity: int = 100


class StoreCatalog(StoreBase):
    """Product types, categories, products and their variants."""

    # -- catalogue ------------------------------------------------------------------------------

    def get_or_create_product_type(self, name: str) -> ProductType:
        for product_type in self.product_types.values():
            if product_type.name == name:
                return product_type
        product_type = ProductType(id=self.next_id(), name=name, slug=slugify(name))
        self.product_types[product_type.id] = product_type
        return product_type

    def get_or_create_category(self, name: str) -> Category:
        for category in self.categories.values():
            if category.name == name:
                return category
        category = Category(id=self.next_id(), name=name, slug=slugify(name))
        self.categories[category.id] = category
        return category

    def rename_category(self, category: Category | int, name: str) -> Category:
        """`categoryUpdate(input: {name})`: the category saved (`updated_at`), its slug kept
        unless given; its products are not saved (category_update.py, 3.20.119 and 723cd4e)."""
        found = self.categories[category if isinstance(category, int) else category.id]
        found.name, found.updated_at = name, utcnow()
        return found

    def rename_product_type(self, product_type: ProductType | int, name: str) -> ProductType:
        """`productTypeUpdate(input: {name})`: its products are not saved
        (product_type_update.py)."""
        pk = product_type if isinstance(product_type, int) else product_type.id
        found = self.product_types[pk]
        found.name = name
        return found

    def rename_attribute_value(
        self, attribute_slug: str, name: str, new_name: str
    ) -> list[Product]:
        """`attributeValueUpdate(input: {name})` of the value `name` of the attribute: one value
        row that every product holding it shows renamed; the products are not saved
        (attribute_value_update.py). The products holding it."""
        holding = [
            p
            for p in self.products.values()
            if any(a.slug == attribute_slug and name in a.values for a in p.attributes)
        ]
        if not holding:
            raise NotFound(f"No product has value {name!r} of attribute {attribute_slug!r}.")
        for product in holding:
            # Copies: a product's attributes may be objects a caller gave several products.
            product.attributes = [
                a.model_copy(update={"values": [new_name if v == name else v for v in a.values]})
                if a.slug == attribute_slug
                else a
                for a in product.attributes
            ]
        return holding

    def create_product(
        self,
        name: str,
        variants: Sequence[VariantSpec] = (),
        *,
        slug: str | None = None,
        description: str | None = None,
        product_type: str = "Default Type",
        category: str | None = "Default Category",
        channels: Sequence[str] | None = None,
        image_urls: Sequence[str] = (),
        metadata: dict[str, str] | None = None,
        attributes: Sequence[ProductAttribute] = (),
    ) -> Product:
        """Create a product listed in ``channels`` (default: all) with the given variants."""
        listed = (
            [self.channel_by_slug(s) for s in channels]
            if channels is not None
            else list(self.channels.values()) or [self.default_channel()]
        )
        product = Product(
            id=self.next_id(),
            name=name,
            slug=slug or slugify(name),
            description=description,
            product_type_id=self.get_or_create_product_type(product_type).id,
            category_id=self.get_or_create_category(category).id if category else None,
            channel_ids=[c.id for c in listed],
            metadata=dict(metadata or {}),
            attributes=list(attributes),
            media=[
                ProductMedia(
                    id=self.next_id(), url=url, alt=name, type=MediaType.IMAGE, sort_order=i
                )
                for i, url in enumerate(image_urls)
            ],
        )
        self.products[product.id] = product
        self._product_writes += 1
        for spec in variants or [VariantSpec(sku=None, name="")]:
            self.add_variant(product, spec, listed)
        return product

    def add_variant(
        self, product: Product, spec: VariantSpec, channels: Iterable[Channel] | None = None
    ) -> ProductVariant:
        listed = list(channels) if channels is not None else self.product_channels(product)
        listings = []
        for channel in listed:
            price = spec.prices.get(channel.slug) if spec.prices is not None else spec.price
            if price is None:
                continue
            listings.append(
                VariantChannelListing(
                    id=self.next_id(),
                    channel_id=channel.id,
                    price=Decimal(price),
                    currency=channel.currency_code,
                )
            )
        variant = ProductVariant(
            id=self.next_id(),
            product_id=product.id,
            name=spec.name,
            sku=spec.sku,
            channel_listings=listings,
            quantity=spec.quantity,
        )
        product.variants.append(variant)
        self.variants[variant.id] = variant
        return variant

    def products_listed(self, order: Ordering[Product]) -> list[Product]:
        """Every product, sorted ascending by `order`'s values: kept until a product is made,
        deleted or changes a field it is sorted by (the store's own list, not to be changed)."""
        stamp = (self._product_writes, len(self.products), SortWrites.count)
        return self._product_views.get(
            stamp, order.name, lambda: sorted(self.products.values(), key=order.key)
        )

    def product_channels(self, product: Product) -> list[Channel]:
        return [self.channels[pk] for pk in product.channel_ids if pk in self.channels]

    def get_product(self, pk: int) -> Product:
        try:
            return self.products[pk]
        except KeyError:
            raise NotFound(f"Product {pk} does not exist") from None

    def get_variant(self, pk: int) -> ProductVariant:
        try:
            return self.variants[pk]
        except KeyError:
            raise NotFound(f"ProductVariant {pk} does not exist") from None

    def update_product(self, product: Product | int, **changes: Any) -> Product:
        current = self.get_product(product if isinstance(product, int) else product.id)
        for key, value in changes.items():
            setattr(current, key, value)
        current.updated_at = utcnow()
        return current

    def publish(self, product: Product | int, channel: str, **changes: Any) -> Product:
        """Change the product's publication in a channel it is listed in (`is_published`,
        `published_at`, `visible_in_listings`, `available_for_purchase_at`). The listing is
        a row of its own: the product's `updated_at` stays."""
        current = self.get_product(product if isinstance(product, int) else product.id)
        chan = self.channel_by_slug(channel)
        if chan.id not in current.channel_ids:
            raise NotFound(f"Product {current.id} is not listed in channel {channel!r}.")
        publication = current.publication_in(chan.id)
        current.publications[chan.id] = publication.model_copy(update=changes)
        return current

    def update_variant(self, variant: ProductVariant | int, **changes: Any) -> ProductVariant:
        """Change a variant, with the dates Saleor changes. Its stock (`quantity`, and what
        orders allocate, `quantity_allocated`) is a `Stock` row saved alone: no date moves
        (`update_or_create_variant_stocks` bulk-updates `quantity` only; allocation updates
        `quantity_allocated`, saleor/warehouse/management.py). Its prices (`channel_listings`:
        saleor/graphql/product/mutations/channels.py, `update_or_create` / `delete` of listing
        rows) and media (`media_ids`: variant_media_assign.py, a `VariantMedia` row) are rows of
        their own too; the same at 723cd4e and 3.20.119. A field `productVariantUpdate`
        tracks, changed, saves the variant with its `updated_at`; the product's moves only with
        the variant's `sku` or `name` (see `VARIANT_DATED`, `NAMING_THE_PRODUCT`)."""
        current = self.get_variant(variant if isinstance(variant, int) else variant.id)
        if "quantity" in changes:
            current.stocked = True  # productVariantStocksUpdate makes a missing row (get_or_create)
        changed = {key for key, value in changes.items() if getattr(current, key) != value}
        for key, value in changes.items():
            setattr(current, key, value)
        now = utcnow()
        if changed & VARIANT_DATED:
            current.updated_at = now
        if changed & NAMING_THE_PRODUCT:
            self.products[current.product_id].updated_at = now
        return current

    def create_stocks(self, variant: ProductVariant | int, quantity: int) -> ProductVariant:
        """`productVariantStocksCreate` of the variant's row in the one warehouse, refused where
        it has one (saleor/graphql/product/bulk_mutations/product_variant_stocks_create.py
        `clean_stocks_input`). A row of its own: the variant's `updated_at` stays."""
        current = self.get_variant(variant if isinstance(variant, int) else variant.id)
        if current.stocked:
            raise ValueError("Stock for this warehouse already exists for this product variant.")
        current.stocked, current.quantity, current.quantity_allocated = True, quantity, 0
        return current

    def delete_stocks(self, variant: ProductVariant | int) -> bool:
        """`productVariantStocksDelete` of the variant's row: whether it had one. Its
        allocations go with it (saleor/warehouse/models.py `Allocation.stock`, CASCADE), so
        the order lines hold none of it any more."""
        current = self.get_variant(variant if isinstance(variant, int) else variant.id)
        if not current.stocked:
            return False
        current.stocked, current.quantity, current.quantity_allocated = False, 0, 0
        for order in self.orders.values():
            for line in order.lines:
                if line.variant_id == current.id:
                    line.quantity_allocated = 0
        return True

    def allocate_preorder(
        self, variant: ProductVariant | int, channel: str, quantity: int
    ) -> VariantChannelListing:
        """Units of a variant on preorder sold in a channel: what `checkoutComplete` allocates
        for such a line, a `PreorderAllocation` in its channel listing and no stock
        (saleor/warehouse/management.py `allocate_preorders`, 3.20.119): its `soldUnits`."""
        current = self.get_variant(variant if isinstance(variant, int) else variant.id)
        if not current.is_preorder_active(utcnow()):
            raise ValueError(f"Variant {current.id} is not on preorder.")
        listing = current.listing_for(self.channel_by_slug(channel).id)
        if listing is None:
            raise NotFound(f"Variant {current.id} is not sold in channel {channel!r}.")
        listing.preorder_sold += quantity
        return listing

    def delete_product_type(self, product_type: ProductType | int) -> list[Product]:
        """`productTypeDelete`: the type's products go with it (saleor/product/models.py
        `Product.product_type`, on_delete=CASCADE), their variants' checkout lines too and
        their order lines keep their copies with no variant (`_drop_variants`); the lines of
        draft orders are deleted (saleor/graphql/product/mutations/product_type/
        product_type_delete.py `perform_mutation`, 3.20.119 and 3.23.28;
        `productTypeBulkDelete` leaves them, variant null). The deleted products."""
        pk = product_type if isinstance(product_type, int) else product_type.id
        if self.product_types.pop(pk, None) is None:
            raise NotFound(f"ProductType {pk} does not exist")
        doomed = [p for p in self.products.values() if p.product_type_id == pk]
        gone = {variant.id for product in doomed for variant in product.variants}
        for order in self.orders.values():
            if order.status is OrderStatus.DRAFT:
                order.lines = [line for line in order.lines if line.variant_id not in gone]
        return [self.delete_product(product) for product in doomed]

    def delete_product(self, product: Product | int) -> Product:
        removed = self.products.pop(product if isinstance(product, int) else product.id)
        self._product_writes += 1
        self._drop_variants({variant.id for variant in removed.variants})
        return removed

    def delete_variant(self, variant: ProductVariant | int) -> ProductVariant:
        """`productVariantDelete`: the product stays, without the variant."""
        removed = self.get_variant(variant if isinstance(variant, int) else variant.id)
        product = self.products[removed.product_id]
        product.variants = [v for v in product.variants if v.id != removed.id]
        product.updated_at = utcnow()
        self._product_writes += 1
        self._drop_variants({removed.id})
        return removed

    def _drop_variants(self, gone: set[int]) -> None:
        for variant_id in gone:
            self.variants.pop(variant_id, None)
        # A checkout line dies with its variant (saleor/checkout/models.py `CheckoutLine.variant`,
        # on_delete=CASCADE), silently: no CHECKOUT_UPDATED. Order lines lose the variant
        # (saleor/order/models.py `OrderLine.variant`, on_delete=SET_NULL) and keep their copies:
        # names, SKU, prices and `product_variant_id`.
        for checkout in self.checkouts.values():
            checkout.lines = [line for line in checkout.lines if line.variant_id not in gone]
        for order in self.orders.values():
            for line in order.lines:
                if line.variant_id in gone:
                    line.variant_id = None


def slugify(value: str) -> str:
    chars = [c.lower() if c.isalnum() else "-" for c in value.strip()]
    return "-".join(part for part in "".join(chars).split("-") if part) or "item"
