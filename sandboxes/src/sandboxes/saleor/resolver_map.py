"""The resolver map: which resolver answers each field of each type of the sandbox schema
(vouchers', promotions' and taxes' included), gathered from the modules that define them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .account_schema import (
    address_by_id,
    language_enum,
    resolve_customer_update,
    resolve_me,
    resolve_user,
    resolve_user_orders,
)
from .app_webhooks import resolve_webhook_create, resolve_webhook_delete, resolve_webhook_update
from .catalog_schema import (
    product_of,
    resolve_product,
    resolve_product_channel_listings,
    resolve_product_pricing,
    resolve_product_types,
    resolve_product_variant,
    resolve_products,
    resolve_quantity_available,
    resolve_thumbnail,
    resolve_variant_channel_listings,
    resolve_variant_preorder,
    resolve_variant_pricing,
    resolve_variant_stocks,
)
from .checkout_create import resolve_checkout_create
from .checkout_schema import (
    checkout_line_resolvers,
    checkout_resolvers,
    resolve_checkout,
    resolve_checkout_add_promo_code,
)
from .context import api_context
from .fulfillments import resolve_product_attributes
from .listings import resolve_checkouts, resolve_customers, resolve_orders
from .metadata_schema import metadata_mutation, metadata_resolvers
from .models import utcnow
from .money import Money
from .order_schema import (
    order_line_discount_resolvers,
    order_line_resolvers,
    order_resolvers,
    payment_resolvers,
    resolve_event_user,
    resolve_order,
)
from .permissions import PERMISSION_NAMES
from .promotions import promotion_resolvers
from .reading import InChannel, channel_of, reads, resolve_global_id, unwrap
from .shop_schema import (
    country_display,
    resolve_app_type,
    resolve_app_webhooks,
    resolve_channel,
    resolve_channels,
    resolve_query_app,
    resolve_query_apps,
    resolve_shop,
    resolve_shop_version,
)
from .tax_schema import tax_resolvers
from .voucher_schema import voucher_resolvers

# -- assembly -----------------------------------------------------------------------------------


def build_resolver_map() -> dict[str, dict[str, Callable[..., Any]]]:
    metadata = metadata_resolvers()
    product_like = {
        **metadata,
        "id": resolve_global_id,
    }
    return {
        "Query": {
            "app": resolve_query_app,
            "apps": resolve_query_apps,
            "channels": resolve_channels,
            "channel": resolve_channel,
            "me": resolve_me,
            "user": resolve_user,
            "customers": resolve_customers,
            "product": resolve_product,
            "products": resolve_products,
            "productTypes": resolve_product_types,
            "productVariant": resolve_product_variant,
            "order": resolve_order,
            "orders": resolve_orders,
            "checkouts": resolve_checkouts,
            "checkout": resolve_checkout,
            "shop": resolve_shop,
        },
        "Shop": {
            "version": resolve_shop_version,
        },
        "Mutation": {
            "updateMetadata": metadata_mutation(private=False, delete=False),
            "deleteMetadata": metadata_mutation(private=False, delete=True),
            "updatePrivateMetadata": metadata_mutation(private=True, delete=False),
            "customerUpdate": resolve_customer_update,
            "checkoutCreate": resolve_checkout_create,
            "checkoutAddPromoCode": resolve_checkout_add_promo_code,
            "webhookCreate": resolve_webhook_create,
            "webhookUpdate": resolve_webhook_update,
            "webhookDelete": resolve_webhook_delete,
            "deletePrivateMetadata": metadata_mutation(private=True, delete=True),
        },
        "Subscription": {"event": lambda root, info: root},
        "App": {
            **metadata,
            "type": resolve_app_type,
            "permissions": lambda app, info: [
                {"code": p, "name": PERMISSION_NAMES.get(p, p)} for p in app.permissions
            ],
            "webhooks": resolve_app_webhooks,
        },
        "Webhook": {
            "app": lambda hook, info: api_context(info).store.apps.get(hook.app_id),
            "subscriptionQuery": lambda hook, info: hook.query,
            "customHeaders": lambda hook, info: hook.custom_headers,
            "asyncEvents": lambda hook, info: [
                {"name": e.replace("_", " ").title(), "eventType": e} for e in hook.async_events
            ],
        },
        "Channel": {
            **metadata,
            "defaultCountry": lambda c, info: country_display(c.default_country),
        },
        "Address": {
            **metadata,
            "country": reads(lambda a: country_display(a.country)),
            "streetAddress1": reads(lambda a: a.street_address_1),
            "streetAddress2": reads(lambda a: a.street_address_2),
        },
        "User": {
            **metadata,
            "orders": resolve_user_orders,
            "languageCode": lambda c, info: language_enum(c.language_code),
            "defaultShippingAddress": lambda c, info: address_by_id(
                c, c.default_shipping_address_id
            ),
            "defaultBillingAddress": lambda c, info: address_by_id(c, c.default_billing_address_id),
        },
        "Category": {
            "parent": lambda c, info: api_context(info).store.categories.get(c.parent_id or -1),
            "level": lambda c, info: 0 if c.parent_id is None else 1,
        },
        "ProductMedia": {"url": lambda m, info, size=None: m.url},
        "Product": {
            **product_like,
            "productType": lambda p, info: api_context(info).store.product_types[
                unwrap(p).product_type_id
            ],
            "category": lambda p, info: api_context(info).store.categories.get(
                unwrap(p).category_id or -1
            ),
            "channel": lambda p, info: c.slug if (c := channel_of(p)) else None,
            "description": lambda p, info: unwrap(p).description,
            "thumbnail": resolve_thumbnail,
            "pricing": resolve_product_pricing,
            "isAvailable": lambda p, info: (
                channel_of(p) is not None
                and any(v.quantity_available > 0 for v in unwrap(p).variants)
            ),
            "isAvailableForPurchase": lambda p, info: (
                (c := channel_of(p)) is not None
                and unwrap(p).publication_in(c.id).is_available_for_purchase(utcnow())
            ),
            "channelListings": resolve_product_channel_listings,
            "defaultVariant": lambda p, info: (
                InChannel(unwrap(p).variants[0], channel_of(p)) if unwrap(p).variants else None
            ),
            "variants": lambda p, info: [
                InChannel(v, channel_of(p))
                for v in unwrap(p).variants
                if (c := channel_of(p)) is None or v.listing_for(c.id) is not None
            ],
            "media": lambda p, info: list(unwrap(p).media),
            "attributes": resolve_product_attributes,
        },
        "ProductVariant": {
            **product_like,
            "product": lambda v, info: InChannel(product_of(info, unwrap(v)), channel_of(v)),
            "channel": lambda v, info: c.slug if (c := channel_of(v)) else None,
            "channelListings": resolve_variant_channel_listings,
            "pricing": resolve_variant_pricing,
            # Only the media assigned to the variant (saleor/graphql/product/types/products.py
            # `ProductVariant.resolve_media`, `MediaByProductVariantIdLoader`).
            "media": lambda v, info: [
                m for m in product_of(info, unwrap(v)).media if m.id in unwrap(v).media_ids
            ],
            "stocks": resolve_variant_stocks,
            "preorder": resolve_variant_preorder,
            "quantityAvailable": resolve_quantity_available,
        },
        "Stock": {"productVariant": lambda s, info: InChannel(s.product_variant, None)},
        "CheckoutLine": checkout_line_resolvers(),
        "Checkout": {**metadata, **checkout_resolvers()},
        "Order": {
            **metadata,
            **order_resolvers(),
            "languageCodeEnum": lambda o, info: language_enum(unwrap(o).language_code),
        },
        "OrderEvent": {"user": resolve_event_user},
        "OrderLine": order_line_resolvers(),
        "OrderLineDiscount": order_line_discount_resolvers(),
        "Fulfillment": {**metadata, "id": resolve_global_id},
        **payment_resolvers(),
        "OrderDiscount": {
            "id": lambda pair, info: pair[0].global_id,
            "type": lambda pair, info: pair[0].type,
            "name": lambda pair, info: pair[0].name,
            "valueType": lambda pair, info: pair[0].value_type,
            "value": lambda pair, info: pair[0].value,
            "reason": lambda pair, info: pair[0].reason,
            "amount": lambda pair, info: Money.of(pair[0].amount, pair[1]),
        },
    }


def with_voucher_resolvers(
    resolvers: dict[str, dict[str, Callable[..., Any]]],
) -> dict[str, dict[str, Callable[..., Any]]]:
    for extra in (voucher_resolvers(), promotion_resolvers(), tax_resolvers()):
        for type_name, fields in extra.items():
            resolvers.setdefault(type_name, {}).update(fields)
    return resolvers
