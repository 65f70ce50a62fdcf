"""Saleor versions: parsing what an installation reports, and what each feature needs.

The version is read with `shop { version }` (the full version, e.g. "3.20.119"; it needs
AUTHENTICATED_APP, which any app token has: saleor/graphql/shop/types.py, `Shop.version`), at
installation and at every lifecycle check. The `Saleor-Schema-Version` header Saleor sends with
the token at installation is major.minor only (saleor/__init__.py `schema_version`), too coarse
for 3.23.5, and the dashboard's app-bridge context is only there while someone has the app open.

`FEATURES` is the compatibility table of the README (tests/test_saleor_versions.py checks that the
README shows exactly `compatibility_table()` and validates each feature's documents against the
schema of every version it claims).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple


class SaleorVersion(NamedTuple):
    major: int
    minor: int
    patch: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


_VERSION = re.compile(r"^\s*(\d+)\.(\d+)(?:\.(\d+))?")


def parse_version(text: str | None) -> SaleorVersion | None:
    """`3.20.119` or `3.24.0-a.0` (pre-releases count as their release); None if unreadable."""
    match = _VERSION.match(text or "")
    if match is None:
        return None
    major, minor, patch = match.groups()
    return SaleorVersion(int(major), int(minor), int(patch or 0))


OLDEST_SUPPORTED = SaleorVersion(3, 20, 0)  # the manifest's requiredSaleorVersion
ORDER_WHERE_SINCE = SaleorVersion(3, 22, 0)  # `orders(where:)`: "Added in Saleor 3.22."
# `OrderLine.discounts` (saleor/graphql/order/types.py at tag 3.21.0; not at 3.20.119): a
# line-level voucher's discount apart from a catalogue promotion's on the same line.
ORDER_LINE_DISCOUNTS_SINCE = SaleorVersion(3, 21, 0)
# The order documents with a twin `<name>_line_discounts` that also reads the lines' discounts.
_LINE_DISCOUNT_TWINS = frozenset(
    {
        "ecommerce_order",
        "ecommerce_orders_by_ids",
        "initial_sync_orders",
        "initial_sync_orders_since_day",
    }
)
# Since 3.23.5 an app receives its own APP_STATUS_CHANGED and APP_DELETED (saleor/saleor#19160);
# before, only apps holding MANAGE_APPS got them, and never the app deactivated or deleted.
OWN_LIFECYCLE_WEBHOOKS_SINCE = SaleorVersion(3, 23, 5)


# CHECKOUT_FULLY_AUTHORIZED and its `CheckoutFullyAuthorized` type, "Added in Saleor 3.22"
# (saleor/saleor#18153, first tagged 3.22.0): registered by the app, as CUSTOMER_DELETED below.
CHECKOUT_FULLY_AUTHORIZED_SINCE = SaleorVersion(3, 22, 0)
# The `CustomerDeleted` subscription type: "Added in Saleor 3.23" (saleor/saleor#19173, commit
# 06b063a), first tagged 3.23.5. Saleor validates every subscription of a manifest at
# installation, so the manifest cannot carry it (3.20 would refuse the app); the app registers
# `webhooks/registered/erasure_customer_deleted.graphql` itself there (`webhook_upkeep`).
CUSTOMER_DELETED_SINCE = SaleorVersion(3, 23, 5)
# PRODUCT_VARIANT_DISCOUNTED_PRICE_UPDATED, sent by the discounted-price recalculation (saleor/
# product/tasks.py at 3.23.0; not in 3.22.x): registered by the app, as the one above.
DISCOUNTED_PRICE_UPDATED_SINCE = SaleorVersion(3, 23, 0)
# `updateMetadata` saves the object's `updated_at` (saleor/graphql/meta/mutations/utils.py
# `TYPE_UPDATED_FIELD`, saleor/saleor#18601, in 3.23.0, backported to 3.21.37 and 3.22.19);
# before, only `deleteMetadata` did, so a metadata change alone is not listed by `updatedAt`.
METADATA_DATES_UPDATED_SINCE = SaleorVersion(3, 23, 0)


def has_order_where(version: SaleorVersion | None) -> bool:
    return version is not None and version >= ORDER_WHERE_SINCE


def has_order_line_discounts(version: SaleorVersion | None) -> bool:
    return version is not None and version >= ORDER_LINE_DISCOUNTS_SINCE


def order_document(name: str, version: SaleorVersion | None) -> str:
    """The order document `name`, or its twin that also reads the lines' own discounts where
    that Saleor has them (the version unknown: the one every supported Saleor runs)."""
    if name in _LINE_DISCOUNT_TWINS and has_order_line_discounts(version):
        return f"{name}_line_discounts"
    return name


def sends_own_lifecycle_webhooks(version: SaleorVersion | None) -> bool:
    return version is not None and version >= OWN_LIFECYCLE_WEBHOOKS_SINCE


@dataclass(frozen=True)
class Feature:
    name: str
    minimum: SaleorVersion
    # GraphQL documents (paths from the repository root) the feature sends on `minimum` and
    # later; the test validates them against every contract schema of those versions.
    documents: tuple[str, ...]
    # What happens on a Saleor older than `minimum` but still supported ("" if nothing).
    older: str = ""


def _queries(*names: str) -> tuple[str, ...]:
    return tuple(f"addon/saleor/queries/{name}.graphql" for name in names)


def _webhooks(*names: str) -> tuple[str, ...]:
    return tuple(f"webhooks/{name}.graphql" for name in names)


FEATURES: tuple[Feature, ...] = (
    Feature(
        "Installation, dashboard pages, lifecycle check",
        OLDEST_SUPPORTED,
        _queries(
            "installation_check",
            "app_status",
            "app_webhooks",
            "webhook_create",
            "webhook_update",
            "webhook_delete",
        ),
    ),
    Feature(
        "Newsletter: consent from Saleor, metadata write-back, customer panel",
        OLDEST_SUPPORTED,
        _queries(
            "subscriptions_user",
            "subscriptions_user_by_email",
            "subscriptions_signup_user",
            "subscriptions_signup_order",
            "subscriptions_signup_checkout",
            "subscriptions_user_link",
            "subscriptions_update_metadata",
            "subscriptions_write_status",
            "subscriptions_customer_profile",
            "subscriptions_update_customer_names",
        )
        + _webhooks(
            "subscriptions_customer_created",
            "subscriptions_order_created",
            "subscriptions_checkout_owner",
            "subscriptions_customer_updated",
            "subscriptions_email_changed",
        ),
    ),
    Feature(
        "E-commerce live sync: products, customers, orders, carts",
        OLDEST_SUPPORTED,
        _queries(
            "ecommerce_channels",
            "ecommerce_product",
            "ecommerce_customer",
            "ecommerce_order",
            "ecommerce_checkout",
            "ecommerce_checkout_to_restore",
            "ecommerce_checkout_restore",
            "ecommerce_checkout_add_promo_code",
            "ecommerce_restored_checkout",
            "ecommerce_checkouts_exist",
            "ecommerce_new_checkouts",
            "ecommerce_products_by_ids",
            "ecommerce_product_type_names",
            "ecommerce_customers_by_ids",
            "ecommerce_orders_by_ids",
        )
        + _webhooks(
            "ecommerce_products",
            "ecommerce_customers",
            "ecommerce_orders",
            "ecommerce_checkouts",
            "ecommerce_catalog_names",
        ),
    ),
    Feature(
        "Address edits and deletions: the customer's e-commerce address, mapped merge fields",
        OLDEST_SUPPORTED,
        _queries("address_owners") + _webhooks("ecommerce_addresses", "subscriptions_addresses"),
    ),
    Feature(
        "E-commerce: vouchers as Mailchimp promo rules and codes (MANAGE_DISCOUNTS)",
        OLDEST_SUPPORTED,
        _queries("promo_voucher", "promo_vouchers", "promo_voucher_by_code")
        + _webhooks("ecommerce_vouchers"),
    ),
    Feature(
        "E-commerce: sale prices of catalogue promotions (MANAGE_DISCOUNTS)",
        OLDEST_SUPPORTED,
        _queries("ecommerce_channel_product_ids") + _webhooks("ecommerce_promotions"),
    ),
    Feature(
        "E-commerce: prices re-read after a change of Saleor's tax settings (daily)",
        OLDEST_SUPPORTED,
        _queries("ecommerce_tax_configurations", "ecommerce_tax_rates"),
    ),
    Feature(
        "Initial sync of a channel's history",
        OLDEST_SUPPORTED,
        _queries(
            "initial_sync_products",
            "initial_sync_customers",
            "initial_sync_orders",
            "initial_sync_orders_bounds",
            "initial_sync_customers_bounds",
            "initial_sync_customers_day",
            "customer_order_channels",
        ),
    ),
    Feature(
        "Initial sync: only orders since a date",
        OLDEST_SUPPORTED,
        _queries("initial_sync_orders_since_day"),
        "",
    ),
    Feature(
        "E-commerce: a product voucher's promo amount leaves a catalogue promotion's out",
        ORDER_LINE_DISCOUNTS_SINCE,
        _queries(
            "ecommerce_order_line_discounts",
            "ecommerce_orders_by_ids_line_discounts",
            "initial_sync_orders_line_discounts",
            "initial_sync_orders_since_day_line_discounts",
        ),
        "no `OrderLine.discounts`: where the order's discounts do not show the voucher's, its "
        "promo carries every discount of the lines with its code",
    ),
    Feature(
        "Initial sync: orders since a date filtered by Saleor to the second",
        ORDER_WHERE_SINCE,
        _queries("initial_sync_orders_since"),
        "Saleor filters by whole days (`orders(filter: {created})`); the app drops the orders "
        "of the first day placed before the time given",
    ),
    Feature(
        "Deactivate and uninstall noticed at once (lifecycle webhooks)",
        OWN_LIFECYCLE_WEBHOOKS_SINCE,
        _webhooks("app_status_changed", "app_deleted"),
        "the webhooks never arrive (saleor/saleor#19160): the lifecycle check notices the app "
        "token refused and pauses; see Deactivate and uninstall",
    ),
    Feature(
        "E-commerce: a variant's sale price as soon as Saleor stores it (registered by the app)",
        DISCOUNTED_PRICE_UPDATED_SINCE,
        _webhooks("registered/ecommerce_discounted_prices"),
        "A product's changes are read again two and ten minutes after the first (Saleor's "
        "recalculation sends nothing); a promotion's own are re-priced two and ten minutes after",
    ),
    Feature(
        "E-commerce: a checkout authorized in full loses its cart at once (registered by the app)",
        CHECKOUT_FULLY_AUTHORIZED_SINCE,
        _webhooks("registered/ecommerce_checkouts_authorized"),
        "Saleor sends no event for it: the cart goes at the checkout's next change (one paid in "
        "full goes at once on every version)",
    ),
    Feature(
        "Erasure (GDPR): a customer deleting their account, Erase from Mailchimp in the panel",
        OLDEST_SUPPORTED,
        _queries("erasure_customer_metadata", "erasure_delete_metadata")
        + _webhooks("erasure_account_deleted"),
    ),
    Feature(
        "Erasure when staff delete a customer (CUSTOMER_DELETED, registered by the app)",
        CUSTOMER_DELETED_SINCE,
        _webhooks("registered/erasure_customer_deleted"),
        "Saleor has no subscription for it: erase the customer from the customer panel "
        "before deleting them",
    ),
    Feature(
        "What Saleor did not deliver while the app was deactivated, replayed on activation",
        OLDEST_SUPPORTED,
        _queries(
            "missed_customers",
            "missed_orders",
            "missed_shipments",
            "missed_checkouts",
            "missed_customers_exist",
            "missed_customer_deleted",
            "user_by_email",
        ),
    ),
    Feature(
        "The catch-up after a deactivation sees changes of metadata alone",
        METADATA_DATES_UPDATED_SINCE,
        (),
        "a change of a customer's, order's or checkout's metadata alone (a consent the "
        "storefront records, for one) leaves its `updatedAt` as it was (saleor/saleor#18601; "
        "backported to 3.21.37 and 3.22.19): it reaches Mailchimp at the next other change",
    ),
    Feature(
        "Campaign engagement: customers matched, summaries and tags in private metadata",
        OLDEST_SUPPORTED,
        _queries(
            "engagement_customers",
            "engagement_customers_joined",
            "engagement_write_metadata",
            "engagement_write_metadata_one",
        ),
    ),
)


def compatibility_table() -> str:
    """The README's table (Markdown)."""
    rows = [
        "| Feature | Minimum Saleor | On older supported versions |",
        "|---|---|---|",
    ]
    for feature in FEATURES:
        rows.append(f"| {feature.name} | {feature.minimum} | {feature.older or '—'} |")
    return "\n".join(rows) + "\n"
