"""Resolvers of the catalogue: ``product``, ``products`` and ``productVariant``, a product's
and a variant's pricing in a channel, thumbnails, channel listings, stocks (one warehouse) and
preorder."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from graphql import FieldNode

from .arguments import channel_arg, ids_filter, matches_search, page_args, pk_or_none
from .connections import paginate
from .context import Info, api_context
from .cursors import Field, Ordering, as_int, as_text
from .ids import to_global_id
from .models import (
    LIMIT_QUANTITY_PER_CHECKOUT,
    Channel,
    Product,
    ProductMedia,
    ProductType,
    ProductVariant,
    utcnow,
)
from .money import Money
from .order_models import OrderLine
from .orderings import products_order
from .product_filters import catalogue_filter
from .reading import InChannel, channel_of, unwrap


@dataclass(frozen=True)
class Warehouse:
    id: str
    name: str
    slug: str


@dataclass(frozen=True)
class Stock:
    id: str
    warehouse: Warehouse
    product_variant: ProductVariant
    quantity: int
    quantity_allocated: int


DEFAULT_WAREHOUSE = Warehouse(
    id=base64.b64encode(b"Warehouse:1").decode(), name="Main", slug="main"
)


# Who sees every product of a channel, published or not (saleor/product/models.py
# `ALL_PRODUCTS_PERMISSIONS`, `ProductsQueryset.visible_to_user`); others see the published ones.
ALL_PRODUCTS_PERMISSIONS = ("MANAGE_DISCOUNTS", "MANAGE_ORDERS", "MANAGE_PRODUCTS")


def _visible(product: Product, channel: Channel | None, everything: bool) -> bool:
    if channel is None:
        return True
    if channel.id not in product.channel_ids:
        return False
    return everything or product.publication_in(channel.id).is_visible(utcnow())


def resolve_product(
    root: Any,
    info: Info,
    id: str | None = None,
    slug: str | None = None,
    channel: str | None = None,
) -> InChannel | None:
    store = api_context(info).store
    chan = channel_arg(info, channel)
    product: Product | None = None
    if id is not None:
        pk = pk_or_none(id, "Product")
        product = store.products.get(pk) if pk is not None else None
    elif slug is not None:
        product = next((p for p in store.products.values() if p.slug == slug), None)
    everything = api_context(info).viewer.has_any(ALL_PRODUCTS_PERMISSIONS)
    if product is None or not _visible(product, chan, everything):
        return None
    return InChannel(product, chan)


# Saleor's default order of product types: the model's `Meta.ordering = ("slug",)`
# (saleor/product/models.py `ProductType`), the connection adding the pk.
PRODUCT_TYPES_ORDER: Ordering[ProductType] = Ordering(
    (Field("slug", attrgetter("slug"), as_text), Field("pk", attrgetter("id"), as_int))
)


def resolve_product_types(root: Any, info: Info, **args: Any) -> Any:
    """`productTypes`: public (saleor/graphql/product/schema.py `resolve_product_types` checks
    no permission), every type of the shop."""
    types = sorted(api_context(info).store.product_types.values(), key=PRODUCT_TYPES_ORDER.key)
    return paginate(info, types, PRODUCT_TYPES_ORDER, **page_args(args))


def resolve_products(
    root: Any,
    info: Info,
    search: str | None = None,
    channel: str | None = None,
    filter: dict[str, Any] | None = None,
    **args: Any,
) -> Any:
    context = api_context(info)
    store = context.store
    chan = channel_arg(info, channel)
    pks = ids_filter(filter, "Product")
    # In the ordering asked for (orderings.py): the store's sorted list, or by ids only those
    # products (sorted here), not a scan of the catalogue.
    order = products_order(context.saleor_version, args.get("sortBy"))
    candidates = (
        store.products_listed(order)
        if pks is None
        else sorted((store.products[pk] for pk in pks if pk in store.products), key=order.key)
    )

    everything = context.viewer.has_any(ALL_PRODUCTS_PERMISSIONS)
    in_catalogue = catalogue_filter(store, filter)

    def keep(product: Product) -> bool:
        # (the variants' SKUs gathered only for a search: a catalogue page read them all)
        return (
            _visible(product, chan, everything)
            and (in_catalogue is None or in_catalogue(product))
            and (
                not search
                or matches_search(
                    search, product.name, product.slug, *(v.sku for v in product.variants)
                )
            )
        )

    return paginate(
        info, candidates, order, wrap=lambda p: InChannel(p, chan), keep=keep, **page_args(args)
    )


def resolve_product_variant(
    root: Any,
    info: Info,
    id: str | None = None,
    sku: str | None = None,
    channel: str | None = None,
) -> InChannel | None:
    store = api_context(info).store
    chan = channel_arg(info, channel)
    variant: ProductVariant | None = None
    if id is not None:
        pk = pk_or_none(id, "ProductVariant")
        variant = store.variants.get(pk) if pk is not None else None
    elif sku is not None:
        variant = next((v for v in store.variants.values() if v.sku == sku), None)
    if variant is None or (chan is not None and variant.listing_for(chan.id) is None):
        return None
    return InChannel(variant, chan)


# Product and variants ---------------------------------------------------------------------------


def _visible_in(product: Product, channel: Channel) -> bool:
    """Its `ProductChannelListing.is_visible` in the channel (listed, published)."""
    return channel.id in product.channel_ids and product.publication_in(channel.id).is_visible(
        utcnow()
    )


def resolve_product_pricing(source: Any, info: Info) -> dict[str, Any] | None:
    """`ProductPricingInfo` (saleor/product/utils/availability.py `get_product_availability`,
    products.py `Product.resolve_pricing`): the ranges of its variants' discounted and
    undiscounted prices in the channel, each bound taxed as a variant's price is
    (`store_taxes.product_taxes`); on sale when visible and the discounted range starts lower;
    `displayGrossPrices` from the tax configuration of the channel's default country."""
    product, channel = unwrap(source), channel_of(source)
    if channel is None:
        return None
    listings = [cl for v in product.variants if (cl := v.listing_for(channel.id)) is not None]
    if not listings:
        return None
    taxes = api_context(info).store.product_taxes(product, channel)
    currency = listings[0].currency
    prices = [cl.price for cl in listings]
    discounted = [
        cl.price if cl.discounted_price is None else cl.discounted_price for cl in listings
    ]
    undiscounted_start, discounted_start = min(prices), min(discounted)
    return {
        "onSale": _visible_in(product, channel) and discounted_start < undiscounted_start,
        "displayGrossPrices": taxes.display_gross_prices,
        "priceRange": {
            "start": taxes.price(discounted_start, currency),
            "stop": taxes.price(max(discounted), currency),
        },
        "priceRangeUndiscounted": {
            "start": taxes.price(undiscounted_start, currency),
            "stop": taxes.price(max(prices), currency),
        },
    }


def resolve_variant_pricing(source: Any, info: Info) -> dict[str, Any] | None:
    """`VariantPricingInfo` (saleor/product/utils/availability.py `get_variant_availability`,
    products.py `ProductVariant.resolve_pricing`): none unless the variant and its product are
    listed in the channel; the discounted price the last recalculation stored
    (`promotions.py`) and the price, both taxed in the channel's default country
    (`store_taxes.product_taxes`); on sale when the product is visible in the channel and the
    discounted price is lower."""
    variant, channel = unwrap(source), channel_of(source)
    if channel is None:
        return None
    listing = variant.listing_for(channel.id)
    product = product_of(info, variant)
    if listing is None or channel.id not in product.channel_ids:
        return None
    taxes = api_context(info).store.product_taxes(product, channel)
    discounted = listing.price if listing.discounted_price is None else listing.discounted_price
    return {
        "onSale": _visible_in(product, channel) and discounted < listing.price,
        "price": taxes.price(discounted, listing.currency),
        "priceUndiscounted": taxes.price(listing.price, listing.currency),
    }


def resolve_thumbnail(source: Any, info: Info, size: int | None = None) -> Any:
    node = unwrap(source)
    if isinstance(node, OrderLine):
        product = api_context(info).store.products.get(node.product_id or -1)
        if product is None:
            return None
        node = product
    media: list[ProductMedia] = node.media
    if not media:
        return None
    return {"url": media[0].url, "alt": media[0].alt or node.name}


def product_of(info: Info, variant: ProductVariant) -> Product:
    return api_context(info).store.products[variant.product_id]


def resolve_variant_channel_listings(source: Any, info: Info) -> list[dict[str, Any]]:
    context = api_context(info)
    context.viewer.require("MANAGE_PRODUCTS")
    variant: ProductVariant = unwrap(source)
    return [
        {
            "id": listing.global_id,
            "channel": context.store.channels[listing.channel_id],
            "price": Money.of(listing.price, listing.currency),
            "costPrice": (
                Money.of(listing.cost_price, listing.currency)
                if listing.cost_price is not None
                else None
            ),
            # Whether or not the variant is on preorder (saleor/graphql/product/types/
            # channels.py `resolve_preorder_threshold`, 3.20.119).
            "preorderThreshold": {
                "quantity": listing.preorder_threshold,
                "soldUnits": listing.preorder_sold,
            },
        }
        for listing in variant.channel_listings
        if listing.channel_id in context.store.channels
    ]


def resolve_product_channel_listings(source: Any, info: Info) -> list[dict[str, Any]]:
    """`Product.channelListings` (MANAGE_PRODUCTS): its publication in each channel it is
    listed in."""
    context = api_context(info)
    context.viewer.require("MANAGE_PRODUCTS")
    product: Product = unwrap(source)
    now = utcnow()
    listings = []
    for channel_id in product.channel_ids:
        if channel_id not in context.store.channels:
            continue
        publication = product.publication_in(channel_id)
        listings.append(
            {
                "id": to_global_id("ProductChannelListing", product.id * 1000 + channel_id),
                "channel": context.store.channels[channel_id],
                "isPublished": publication.is_published,
                "publishedAt": publication.published_at,
                "visibleInListings": publication.visible_in_listings,
                "availableForPurchaseAt": publication.available_for_purchase_at,
                "isAvailableForPurchase": publication.is_available_for_purchase(now),
            }
        )
    return listings


def resolve_variant_preorder(source: Any, info: Info) -> dict[str, Any] | None:
    """`ProductVariant.preorder`: None unless its preorder is active; the units sold are those
    of every channel (saleor/graphql/product/types/products.py `resolve_preorder`, the same at
    3.20.119 and main). `globalThreshold` and `globalSoldUnits` need MANAGE_PRODUCTS
    (`PreorderData`), asked for here for the object."""
    variant: ProductVariant = unwrap(source)
    if not variant.is_preorder_active(utcnow()):
        return None
    asked = {f.name.value for n in info.field_nodes for f in _fields(n)}
    if asked & {"globalThreshold", "globalSoldUnits"}:
        api_context(info).viewer.require("MANAGE_PRODUCTS")
    return {
        "globalThreshold": variant.preorder_global_threshold,
        "globalSoldUnits": sum(listing.preorder_sold for listing in variant.channel_listings),
        "endDate": variant.preorder_end_date,
    }


def _fields(node: FieldNode) -> list[FieldNode]:
    selections = node.selection_set.selections if node.selection_set else ()
    return [s for s in selections if isinstance(s, FieldNode)]


def resolve_variant_stocks(source: Any, info: Info) -> list[Stock]:
    api_context(info).viewer.require("MANAGE_PRODUCTS", "MANAGE_ORDERS")
    variant: ProductVariant = unwrap(source)
    if not variant.stocked:
        return []  # its row deleted (`productVariantStocksDelete`), or never made
    stock_id = base64.b64encode(f"Stock:{variant.id}".encode()).decode()
    return [
        Stock(stock_id, DEFAULT_WAREHOUSE, variant, variant.quantity, variant.quantity_allocated)
    ]


def resolve_quantity_available(source: Any, info: Info) -> int:
    """`ProductVariant.quantityAvailable`: for an active preorder, what its thresholds leave,
    before any stock is looked at (saleor/graphql/product/types/products.py
    `resolve_quantity_available`, 3.20.119 as HEAD, reservations off as the sandbox has them):
    the channel listing's threshold less its units sold when it has one, else the global one
    less every channel's units, else the site's limit; each capped by that limit and, as
    Saleor leaves it, not floored at 0. Otherwise the stock (`quantity_for_one_checkout`)."""
    variant: ProductVariant = unwrap(source)
    if not variant.is_preorder_active(utcnow()):
        return variant.quantity_for_one_checkout
    channel = channel_of(source)
    listing = variant.listing_for(channel.id) if channel is not None else None
    if listing is not None and listing.preorder_threshold is not None:
        return min(listing.preorder_threshold - listing.preorder_sold, LIMIT_QUANTITY_PER_CHECKOUT)
    if variant.preorder_global_threshold is not None and variant.channel_listings:
        sold = sum(cl.preorder_sold for cl in variant.channel_listings)
        return min(variant.preorder_global_threshold - sold, LIMIT_QUANTITY_PER_CHECKOUT)
    return LIMIT_QUANTITY_PER_CHECKOUT
